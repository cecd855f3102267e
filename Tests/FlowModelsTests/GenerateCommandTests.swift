import FlowModels
import Foundation
import XCTest

/// `flows train tarflowlm`, `flows train charlm` and `flows generate`, run
/// as a subprocess (built beside the test bundle) on the in-memory Markov corpus.
final class GenerateCommandTests: XCTestCase {
  private var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("GenerateCommandTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  /// Runs `flows` with `arguments` in the test's directory.
  private func flows(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
    try FlowsExecutable.run(arguments, in: directory)
  }


  private func jsonObject(_ text: String) throws -> [String: Any] {
    let lines = text.split(separator: "\n")
    XCTAssertEqual(lines.count, 1, "expected one JSON line, got «\(text)»")
    return try XCTUnwrap(JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])
  }

  private let tinyRun = [
    "--corpus", "markov", "--context", "8", "--width", "16", "--layers", "1", "--batch-size", "4", "--warmup", "0",
    "--eval-count", "2", "--final-eval-count", "4", "--steps", "3", "--json",
  ]

  func testBadArgumentsGiveAUsageMessageAndStatus64() throws {
    let cases: [([String], String)] = [
      (["train", "tarflowlm", "--transform", "spline"], "--transform 'spline' is not one of affine, mix1, mixd"),
      (["train", "tarflowlm", "--steps", "5", "--time-budget", "3"], "give --steps or --time-budget, not both"),
      (["train", "tarflowlm", "--context", "9", "--patch-size", "2"],
       "context 9 must be ≥ 1 and a multiple of the patch size 2"),
      (["train", "tarflowlm", "--latent-dim", "0"], "latent dimension 0 must be ≥ 1"),
      (["train", "tarflowlm", "--resume", "--blocks", "3"], "--blocks cannot change when resuming"),
      (["train", "charlm", "--width", "16", "--heads", "3"], "--heads 3 must be at least 1 and divide the width 16"),
      (["train", "charlm", "--corpus", "markov", "--markov-order", "9"], "--markov-order 9 must be in 0…3"),
      (["train", "charlm", "--optimizer", "sgd"], "--optimizer 'sgd' is not adam or adamw"),
      (["generate", "--checkpoint", "x", "--temperature=-1"], "--temperature -1.0 must be finite and ≥ 0"),
      (["generate", "--checkpoint", "x", "--decoding", "beam"], "--decoding 'beam' is not argmax or sample"),
      (["generate", "--checkpoint", "x", "--length", "0"], "--length 0 must be at least 1"),
    ]
    for (arguments, message) in cases {
      let (status, _, errors) = try flows(arguments)
      XCTAssertEqual(status, 64, "\(arguments): status \(status), «\(errors)»")
      XCTAssertTrue(errors.contains(message), "\(arguments): expected «\(message)» in «\(errors)»")
    }
  }

  func testMissingCorpusNamesMakeCorpus() throws {
    let (status, _, errors) = try flows(["train", "charlm", "--corpus", "shakespeare", "--steps", "1"])
    XCTAssertEqual(status, 1, errors)
    XCTAssertTrue(errors.contains("flows train charlm:"), errors)
    XCTAssertTrue(errors.contains("make corpus"), errors)
    let (generateStatus, _, generateErrors) = try flows(["generate", "--checkpoint", "absent.safetensors"])
    XCTAssertEqual(generateStatus, 1)
    XCTAssertTrue(generateErrors.contains("absent.safetensors"), generateErrors)
  }

  func testTarFlowLMTrainsResumesAndGeneratesPasses() throws {
    let (status, output, errors) = try flows(
      ["train", "tarflowlm"] + tinyRun + ["--latent-dim", "3", "--blocks", "2", "--checkpoint", "run/t.safetensors"])
    XCTAssertEqual(status, 0, errors)
    let trained = try jsonObject(output)
    XCTAssertEqual(trained["model"] as? String, "tarflowlm")
    XCTAssertEqual(trained["steps"] as? Int, 3)
    XCTAssertEqual(trained["test_count"] as? Int, 4)
    XCTAssertEqual(trained["transform"] as? String, "affine")
    let rate = try XCTUnwrap(trained["entropy_rate_bpc"] as? Double)
    XCTAssertEqual(rate, MarkovSource(order: 1, sharpness: 3, seed: 0).entropyRate, accuracy: 1e-12)
    let test = try XCTUnwrap(trained["test_bpc"] as? Double)
    XCTAssertTrue(test > rate && test < 20, "\(test)")

    let (resumedStatus, resumedOutput, resumedErrors) = try flows(
      ["train", "tarflowlm", "--resume", "--steps", "4", "--checkpoint", "run/t.safetensors", "--json",
       "--final-eval-count", "4"])
    XCTAssertEqual(resumedStatus, 0, resumedErrors)
    let resumed = try jsonObject(resumedOutput)
    XCTAssertEqual(resumed["steps"] as? Int, 4)
    XCTAssertEqual(resumed["run_steps"] as? Int, 1)
    XCTAssertEqual(resumed["corpus"] as? String, "markov:1:3.0:0")

    let arguments = ["generate", "--checkpoint", "run/t.safetensors", "--length", "6", "--count", "2", "--show-passes"]
    let (generated, text, generateErrors) = try flows(arguments)
    XCTAssertEqual(generated, 0, generateErrors)
    let lines = text.split(separator: "\n").map(String.init)
    XCTAssertEqual(lines.count, 6, text)  // 2 samples × (noise + 2 passes)
    XCTAssertEqual(lines.map { $0.split(separator: ":").first.map(String.init) ?? "" },
                   ["noise", "pass 1", "pass 2", "noise", "pass 1", "pass 2"])
    for line in lines { XCTAssertEqual(line.split(separator: ":", maxSplits: 1)[1].count, 7, line) }
    XCTAssertEqual(try flows(arguments).output, text, "the same seed gives the same text")
    let (tooLong, _, tooLongErrors) = try flows(["generate", "--checkpoint", "run/t.safetensors", "--length", "9"])
    XCTAssertEqual(tooLong, 1)
    XCTAssertTrue(tooLongErrors.contains("length 9 must be in 1…8"), tooLongErrors)
  }

  func testCharLMTrainsAndGenerates() throws {
    let (status, output, errors) = try flows(["train", "charlm"] + tinyRun + ["--checkpoint", "run/c.safetensors"])
    XCTAssertEqual(status, 0, errors)
    let trained = try jsonObject(output)
    XCTAssertEqual(trained["model"] as? String, "charlm")
    XCTAssertNotNil(trained["entropy_rate_bpc"] as? Double)
    XCTAssertNotNil(trained["test_bpc"] as? Double)
    let (generated, text, generateErrors) = try flows(
      ["generate", "--checkpoint", "run/c.safetensors", "--count", "3", "--temperature", "0.5"])
    XCTAssertEqual(generated, 0, generateErrors)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    XCTAssertEqual(lines.count, 3, text)
    for line in lines { XCTAssertEqual(line.count, 8, String(line)) }
  }
}
