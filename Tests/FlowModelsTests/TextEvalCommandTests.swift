import Foundation
import XCTest
import _TestSupport

/// `flows eval` on text checkpoints, run as a subprocess on the in-memory
/// Markov corpus: it repeats the training run's final figure, adds the
/// importance-weighted bound for TarFlowLM, and refuses options that do
/// not apply with a message naming them.
final class TextEvalCommandTests: XCTestCase {
  private var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("TextEvalCommandTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  private func run(_ arguments: [String]) throws -> (status: Int32, json: [String: Any]?, errors: String) {
    let (status, output, errors) = try FlowsExecutable.run(arguments, in: directory)
    let json = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
    return (status, json, errors)
  }

  private let tinyRun = [
    "--corpus", "markov", "--context", "8", "--width", "16", "--layers", "1", "--batch-size", "4", "--warmup", "0",
    "--eval-count", "2", "--final-eval-count", "5", "--steps", "3", "--json",
  ]

  /// A TarFlowLM checkpoint's `flows eval` gives the run's own test figure
  /// (same encoder draws and batches), the chain's entropy rate, and an
  /// importance-weighted figure from a separate stream.
  func testTarFlowLMEvalRepeatsTheRunsFigure() throws {
    let (status, trained, errors) = try run(
      ["train", "tarflowlm"] + tinyRun + ["--blocks", "2", "--latent-dim", "2", "--checkpoint", "t.safetensors"])
    XCTAssertEqual(status, 0, errors)
    let runFigure = try XCTUnwrap(trained?["test_bpc"] as? Double, "\(String(describing: trained))")

    let (evalStatus, evaluated, evalErrors) = try run(
      ["eval", "--checkpoint", "t.safetensors", "--count", "5", "--importance-samples", "4", "--json"])
    XCTAssertEqual(evalStatus, 0, evalErrors)
    let object = try XCTUnwrap(evaluated)
    XCTAssertEqual(object["model"] as? String, "tarflowlm")
    XCTAssertEqual(object["test_bpc"] as? Double, runFigure, "\(object)")
    XCTAssertEqual(object["test_count"] as? Int, 5)
    XCTAssertEqual(object["importance_samples"] as? Int, 4)
    let weighted = try XCTUnwrap(object["test_iw_bpc"] as? Double)
    XCTAssertTrue(weighted.isFinite && weighted > 0, "\(weighted)")
    XCTAssertEqual(try XCTUnwrap(object["entropy_rate_bpc"] as? Double), 1.8708, accuracy: 1e-4)

    // Without the option the same ELBO figure and no weighted one.
    let (_, plain, plainErrors) = try run(["eval", "--checkpoint", "t.safetensors", "--count", "5", "--json"])
    XCTAssertEqual(plain?["test_bpc"] as? Double, runFigure, plainErrors)
    XCTAssertNil(plain?["test_iw_bpc"])
    XCTAssertNil(plain?["test_flow_gains_bpc"])

    // Each flow's gain, one per flow, from a stream of its own: the ELBO figure stays.
    let (_, gains, gainsErrors) = try run(
      ["eval", "--checkpoint", "t.safetensors", "--count", "5", "--flow-gains", "--json"])
    XCTAssertEqual(gains?["test_bpc"] as? Double, runFigure, gainsErrors)
    let perFlow = try XCTUnwrap(gains?["test_flow_gains_bpc"] as? [Double], "\(String(describing: gains))")
    XCTAssertEqual(perFlow.count, 2)
    XCTAssertTrue(perFlow.allSatisfy(\.isFinite), "\(perFlow)")
    let (_, text, _) = try FlowsExecutable.run(
      ["eval", "--checkpoint", "t.safetensors", "--count", "5", "--flow-gains"], in: directory)
    XCTAssertTrue(text.contains("the flows, data side first, lower it by "), text)

    // The validation split is named in the keys.
    let (_, validation, validationErrors) = try run(
      ["eval", "--checkpoint", "t.safetensors", "--count", "2", "--held-out", "validation", "--json"])
    XCTAssertTrue((validation?["validation_bpc"] as? Double)?.isFinite == true, validationErrors)
    XCTAssertEqual(validation?["validation_count"] as? Int, 2)
    XCTAssertNil(validation?["test_bpc"])
  }

  /// The baseline's evaluation repeats its run's cross-entropy; a bound
  /// option is refused because its likelihood is exact.
  func testCharLMEvalRepeatsTheRunsFigure() throws {
    let (status, trained, errors) = try run(["train", "charlm"] + tinyRun + ["--checkpoint", "c.safetensors"])
    XCTAssertEqual(status, 0, errors)
    let runFigure = try XCTUnwrap(trained?["test_bpc"] as? Double)
    let (evalStatus, evaluated, evalErrors) = try run(["eval", "--checkpoint", "c.safetensors", "--count", "5", "--json"])
    XCTAssertEqual(evalStatus, 0, evalErrors)
    XCTAssertEqual(evaluated?["test_bpc"] as? Double, runFigure, "\(String(describing: evaluated))")

    let (refused, _, message) = try run(["eval", "--checkpoint", "c.safetensors", "--importance-samples", "2"])
    XCTAssertNotEqual(refused, 0)
    XCTAssertTrue(message.contains("charlm has an exact likelihood"), message)
    let (badSplit, _, splitMessage) = try run(["eval", "--checkpoint", "c.safetensors", "--held-out", "dev"])
    XCTAssertNotEqual(badSplit, 0)
    XCTAssertTrue(splitMessage.contains("--held-out dev: expected test, validation or train"), splitMessage)
    let (badCount, _, countMessage) = try run(["eval", "--checkpoint", "c.safetensors", "--importance-samples", "0"])
    XCTAssertEqual(badCount, 64)
    XCTAssertTrue(countMessage.contains("--importance-samples 0 must be at least 1"), countMessage)
    let (cdOnly, _, cdMessage) = try run(["eval", "--checkpoint", "c.safetensors", "--worst", "3"])
    XCTAssertNotEqual(cdOnly, 0)
    XCTAssertTrue(cdMessage.contains("--worst and --breakdown are for CDFlow, not 'charlm'"), cdMessage)
    let (noFlows, _, flowsMessage) = try run(["eval", "--checkpoint", "c.safetensors", "--flow-gains"])
    XCTAssertNotEqual(noFlows, 0)
    XCTAssertTrue(flowsMessage.contains("--flow-gains is for TarFlowLM, not 'charlm'"), flowsMessage)
  }
}
