import FlowModels
import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// `flows train tarflowlm`'s tuning options, run as a subprocess on the
/// in-memory Markov corpus: the evaluation split and Mix-1's sizes.
final class TarFlowLMCommandTests: XCTestCase {
  private var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("TarFlowLMCommandTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  private func trainTiny(_ arguments: [String]) throws -> (status: Int32, json: [String: Any]?, errors: String) {
    let tiny = [
      "train", "tarflowlm", "--corpus", "markov", "--context", "8", "--width", "16", "--layers", "1",
      "--blocks", "1", "--latent-dim", "2", "--batch-size", "4", "--warmup", "0", "--eval-count", "2",
      "--final-eval-count", "3", "--steps", "2", "--json", "--checkpoint", "run/t.safetensors",
    ]
    let (status, output, errors) = try FlowsExecutable.run(tiny + arguments, in: directory)
    let json = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
    return (status, json, errors)
  }

  /// With `--held-out validation` the figures are named for the split (no
  /// `test_bpc` key) in the JSON, the progress lines, the checkpoint's
  /// metadata and the curve, and Mix-1's components and hidden width are
  /// reported.
  func testHeldOutValidationNamesItsFigures() throws {
    let (status, json, errors) = try trainTiny(
      ["--held-out", "validation", "--transform", "mix1", "--components", "3", "--mixture-hidden", "6"])
    XCTAssertEqual(status, 0, errors)
    let object = try XCTUnwrap(json)
    XCTAssertEqual(object["held_out"] as? String, "validation")
    XCTAssertEqual(object["validation_count"] as? Int, 3)
    XCTAssertTrue((object["validation_bpc"] as? Double)?.isFinite == true, "\(object)")
    XCTAssertNil(object["test_bpc"])
    XCTAssertNil(object["test_count"])
    XCTAssertEqual(object["components"] as? Int, 3)
    XCTAssertEqual(object["mixture_hidden"] as? Int, 6)
    XCTAssertTrue(errors.contains("final validation "), errors)
    XCTAssertFalse(errors.contains(" test "), errors)
    let stored = try TrainingCheckpoint(contentsOf: directory.appendingPathComponent("run/t.safetensors"))
    XCTAssertNotNil(stored.metadata["validation_bpc"].flatMap(Double.init), "\(stored.metadata.keys.sorted())")
    XCTAssertNil(stored.metadata["test_bpc"])
    let curve = try String(contentsOf: directory.appendingPathComponent("run/t-curve.svg"), encoding: .utf8)
    XCTAssertTrue(curve.contains("validation bits/char"), curve)

    let (testStatus, testJSON, testErrors) = try trainTiny(["--checkpoint", "run/u.safetensors"])
    XCTAssertEqual(testStatus, 0, testErrors)
    XCTAssertEqual(testJSON?["held_out"] as? String, "test")
    XCTAssertEqual(testJSON?["test_count"] as? Int, 3)
    XCTAssertNil(testJSON?["validation_bpc"])
    let tested = try TrainingCheckpoint(contentsOf: directory.appendingPathComponent("run/u.safetensors"))
    XCTAssertNotNil(tested.metadata["test_bpc"].flatMap(Double.init))
    XCTAssertNil(tested.metadata["validation_bpc"])
  }

  func testUnknownHeldOutSplitIsAUsageError() throws {
    for split in ["train", "dev"] {
      let (status, _, errors) = try trainTiny(["--held-out", split])
      XCTAssertEqual(status, 64, errors)
      XCTAssertTrue(errors.contains("--held-out '\(split)' is not test or validation"), errors)
    }
  }

  /// A cosine decay is part of the run: stored in the checkpoint, so a
  /// resume may not change it; a final rate above the peak is refused.
  func testDecayIsFixedByTheCheckpoint() throws {
    let (status, json, errors) = try trainTiny(["--decay-steps", "4", "--final-lr", "1e-5"])
    XCTAssertEqual(status, 0, errors)
    XCTAssertTrue((json?["test_bpc"] as? Double)?.isFinite == true, errors)
    let (resumed, _, resumeErrors) = try FlowsExecutable.run(
      ["train", "tarflowlm", "--resume", "--checkpoint", "run/t.safetensors", "--decay-steps", "8", "--steps", "3"],
      in: directory)
    XCTAssertEqual(resumed, 64, resumeErrors)
    XCTAssertTrue(resumeErrors.contains("--decay-steps cannot change when resuming"), resumeErrors)
    let (continued, _, continueErrors) = try FlowsExecutable.run(
      ["train", "tarflowlm", "--resume", "--checkpoint", "run/t.safetensors", "--steps", "3"], in: directory)
    XCTAssertEqual(continued, 0, continueErrors)
    let (refused, _, refusedErrors) = try trainTiny(["--lr", "1e-3", "--decay-steps", "4", "--final-lr", "1e-2"])
    XCTAssertEqual(refused, 64, refusedErrors)
    XCTAssertTrue(refusedErrors.contains("final learning rate 0.01 must be in 0…0.001 (the peak)"), refusedErrors)
  }

  /// Progressive training from the command line: `--add-block-to` grows a
  /// trained checkpoint by one flow, trains only the new one (the earlier
  /// flow's parameters come back unchanged), and takes the corpus and
  /// architecture from the checkpoint.
  func testAddBlockToGrowsAFrozenModel() throws {
    let (status, first, errors) = try trainTiny(["--transform", "mixd"])
    XCTAssertEqual(status, 0, errors)
    XCTAssertEqual(first?["blocks"] as? Int, 1)
    let (grownStatus, grownOutput, grownErrors) = try FlowsExecutable.run(
      ["train", "tarflowlm", "--add-block-to", "run/t.safetensors", "--batch-size", "4", "--warmup", "0",
       "--eval-count", "2", "--final-eval-count", "3", "--steps", "2", "--json", "--checkpoint", "run/g.safetensors"],
      in: directory)
    XCTAssertEqual(grownStatus, 0, grownErrors)
    let grown = try XCTUnwrap(try? JSONSerialization.jsonObject(with: Data(grownOutput.utf8)) as? [String: Any])
    XCTAssertEqual(grown["blocks"] as? Int, 2)
    XCTAssertEqual(grown["frozen_blocks"] as? Int, 1)
    XCTAssertEqual(grown["transform"] as? String, "mixd")
    XCTAssertEqual(grown["corpus"] as? String, "markov:1:3.0:0")
    XCTAssertEqual(grown["steps"] as? Int, 2)

    let before = try TrainingCheckpoint(contentsOf: directory.appendingPathComponent("run/t.safetensors"))
      .model(TarFlowLM<Float>.self)
    let storedAfter = try TrainingCheckpoint(contentsOf: directory.appendingPathComponent("run/g.safetensors"))
    XCTAssertEqual(storedAfter.metadata["grown_from"], "run/t.safetensors")
    let after = try storedAfter.model(TarFlowLM<Float>.self)
    let frozen = Dictionary(uniqueKeysWithValues: before.blocks[0].parameters.map { ($0.name, $0.value.scalars) })
    let kept = after.blocks[0].parameters
    XCTAssertEqual(kept.count, frozen.count)
    XCTAssertGreaterThan(kept.count, 0)
    for (name, value) in kept { XCTAssertEqual(value.scalars, frozen[name], "frozen parameter \(name) changed") }
    // The new flow's initial values: the run's seed (0) as `--add-block-to` draws them.
    var generator = SeededGenerator(seed: 0xB10C_0000)
    let initial = Dictionary(
      uniqueKeysWithValues: before.addingBlock(using: &generator).blocks[1].parameters.map { ($0.name, $0.value.scalars) })
    XCTAssertEqual(Set(initial.keys), Set(after.blocks[1].parameters.map(\.name)))
    let moved = after.blocks[1].parameters.filter { $0.value.scalars != initial[$0.name] }.count
    XCTAssertGreaterThan(moved, 0, "the new flow did not train")

    for (arguments, message) in [
      (["--resume"], "--add-block-to starts a new run: it cannot be used with --resume"),
      (["--blocks", "3"], "--blocks cannot be given with --add-block-to: the checkpoint fixes them"),
      (["--width", "32"], "--width cannot be given with --add-block-to: the checkpoint fixes them"),
      (["--optimizer", "adamw", "--weight-decay", "0.1"], "--weight-decay must be 0 with --add-block-to"),
    ] {
      let (refused, _, refusedErrors) = try FlowsExecutable.run(
        ["train", "tarflowlm", "--add-block-to", "run/t.safetensors", "--checkpoint", "run/h.safetensors"] + arguments,
        in: directory)
      XCTAssertEqual(refused, 64, "\(arguments): \(refusedErrors)")
      XCTAssertTrue(refusedErrors.contains(message), "\(arguments): \(refusedErrors)")
    }
    let (missing, _, missingErrors) = try FlowsExecutable.run(
      ["train", "tarflowlm", "--add-block-to", "run/absent.safetensors", "--checkpoint", "run/h.safetensors"],
      in: directory)
    XCTAssertEqual(missing, 1, missingErrors)
    XCTAssertTrue(missingErrors.contains("absent.safetensors"), missingErrors)
  }

  /// `--initial-scale` sets the codebook's starting σ (stored in the
  /// checkpoint's configuration); a non-positive one is refused.
  func testInitialScaleReachesTheCodebook() throws {
    let (status, _, errors) = try trainTiny(["--initial-scale", "0.2", "--steps", "1"])
    XCTAssertEqual(status, 0, errors)
    let model = try TrainingCheckpoint(contentsOf: directory.appendingPathComponent("run/t.safetensors"))
      .model(TarFlowLM<Float>.self)
    XCTAssertEqual(model.configuration.initialScale, 0.2)
    let (refused, _, refusedErrors) = try trainTiny(["--initial-scale", "0", "--checkpoint", "run/z.safetensors"])
    XCTAssertEqual(refused, 64, refusedErrors)
    XCTAssertTrue(refusedErrors.contains("initial scale 0.0 must be positive"), refusedErrors)
  }

  /// `--conditioner-input posterior` reaches the checkpoint and the JSON
  /// (the default reads the latents); an unknown value and a change on
  /// resume are refused by name.
  func testConditionerInputReachesTheModel() throws {
    let (status, json, errors) = try trainTiny(["--conditioner-input", "posterior", "--transform", "mixd"])
    XCTAssertEqual(status, 0, errors)
    XCTAssertEqual(json?["conditioner_input"] as? String, "posterior")
    let model = try TrainingCheckpoint(contentsOf: directory.appendingPathComponent("run/t.safetensors"))
      .model(TarFlowLM<Float>.self)
    XCTAssertEqual(model.configuration.conditionerInput, .posterior)
    XCTAssertEqual(model.blocks[0].network.inputSize, 27)
    let (plain, plainJSON, plainErrors) = try trainTiny(["--checkpoint", "run/p.safetensors"])
    XCTAssertEqual(plain, 0, plainErrors)
    XCTAssertEqual(plainJSON?["conditioner_input"] as? String, "latents")
    let (unknown, _, unknownErrors) = try trainTiny(["--conditioner-input", "onehot", "--checkpoint", "run/u.safetensors"])
    XCTAssertEqual(unknown, 64, unknownErrors)
    XCTAssertTrue(unknownErrors.contains("--conditioner-input 'onehot' is not one of latents, posterior"), unknownErrors)
    let (resumed, _, resumedErrors) = try trainTiny(["--resume", "--conditioner-input", "latents", "--steps", "3"])
    XCTAssertEqual(resumed, 64, resumedErrors)
    XCTAssertTrue(resumedErrors.contains("--conditioner-input"), resumedErrors)
  }
}
