import FlowModels
import Foundation
import XCTest

/// The `flows` command line, run as a subprocess (built beside the test
/// bundle, as `PreconditionProbe` is) on a tiny IDX data set of 8×8 images.
final class CommandLineTests: XCTestCase {
  private var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("CommandLineTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  /// Runs `flows` with `arguments` in the test's directory.
  private func flows(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
    try FlowsExecutable.run(arguments, in: directory)
  }


  /// Writes `train-*` (48 images) and `t10k-*` (16 images) IDX files, 8×8, uncompressed.
  private func writeDataset(named name: String) throws -> String {
    let dataset = directory.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: dataset, withIntermediateDirectories: true)
    var seed: UInt64 = 12345
    func byte() -> UInt8 {
      seed = seed &* 6364136223846793005 &+ 1442695040888963407
      return UInt8(truncatingIfNeeded: seed >> 56)
    }
    for (prefix, count) in [("train", 48), ("t10k", 16)] {
      let images = IDXArray(dimensions: [count, 8, 8], bytes: (0..<(count * 64)).map { _ in byte() })
      let labels = IDXArray(dimensions: [count], bytes: (0..<count).map { UInt8($0 % 10) })
      try images.encoded().write(to: dataset.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
      try labels.encoded().write(to: dataset.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
    }
    return dataset.path
  }

  private func jsonObject(_ text: String) throws -> [String: Any] {
    let lines = text.split(separator: "\n")
    XCTAssertEqual(lines.count, 1, "expected one JSON line, got «\(text)»")
    return try XCTUnwrap(JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])
  }

  func testBadArgumentsGiveAUsageMessageAndStatus64() throws {
    let cases: [([String], String)] = [
      (["train", "cdflow", "--mixer", "shuffle"], "--mixer 'shuffle' is not one of cd, cd:<m>, lu, dense, reverse"),
      (["train", "cdflow", "--steps", "5", "--time-budget", "3"], "give --steps or --time-budget, not both"),
      (["train", "cdflow", "--steps", "0"], "--steps 0 must be at least 1"),
      (["train", "cdflow", "--time-budget=-2"], "--time-budget -2.0 must be a positive number of seconds"),
      (["train", "cdflow", "--lr", "fast"], "fast"),
      (["train", "cdflow", "--optimizer", "sgd"], "--optimizer 'sgd' is not adam or adamw"),
      (["train", "cdflow", "--batch-size", "0"], "batch size 0 must be ≥ 1"),
      (["train", "cdflow", "--resume", "--levels", "2", "--hidden", "3"], "--levels, --hidden cannot change when resuming"),
      (["train", "cdflow", "--split-bound=-1"], "--split-bound -1.0 must be finite and ≥ 0 (0 for unbounded)"),
      (["train", "cdflow", "--resume", "--split-bound", "3"], "--split-bound cannot change when resuming"),
      (["train", "cdflow", "--decay-steps", "50", "--warmup", "100"], "decay steps 50 must be more than the warm-up steps 100"),
      (["train", "rnvp"], "rnvp"),
      (["eval"], "--checkpoint"),
      (["sample", "--checkpoint", "c.safetensors", "--count", "0"], "--count 0 must be at least 1"),
      (["sample", "--checkpoint", "c.safetensors", "--temperature=-1"], "--temperature -1.0 must be finite and ≥ 0"),
      (["demo", "--time-budget", "0"], "--time-budget 0.0 must be a positive number of seconds"),
    ]
    for (arguments, message) in cases {
      let (status, _, errors) = try flows(arguments)
      XCTAssertEqual(status, 64, "\(arguments): status \(status), «\(errors)»")
      XCTAssertTrue(errors.contains(message), "\(arguments): expected «\(message)» in «\(errors)»")
      XCTAssertTrue(errors.contains("Usage:"), "\(arguments): no usage in «\(errors)»")
    }
    // Levels that the images' size does not allow are found once the data is read.
    let dataset = try writeDataset(named: "data")
    let (status, _, errors) = try flows(["train", "cdflow", "--dataset", dataset, "--levels", "4", "--steps", "1"])
    XCTAssertEqual(status, 64, errors)
    XCTAssertTrue(errors.contains("height 8 and width 8 must be divisible by 2^levels = 16"), errors)
  }

  func testMissingDataAndCheckpointsAreNamed() throws {
    let missing = directory.appendingPathComponent("nothing").path
    var (status, _, errors) = try flows(["train", "cdflow", "--dataset", missing, "--steps", "1"])
    XCTAssertEqual(status, 1)
    XCTAssertTrue(errors.contains("flows train cdflow: \(missing)/train-images-idx3-ubyte.gz: no such file"), errors)
    XCTAssertFalse(errors.contains("Usage:"), errors)

    (status, _, errors) = try flows(["eval", "--checkpoint", "absent.safetensors"])
    XCTAssertEqual(status, 1)
    XCTAssertTrue(errors.contains("flows eval: cannot read the checkpoint"), errors)
    XCTAssertTrue(errors.contains("absent.safetensors': no such file"), errors)

    (status, _, errors) = try flows(["train", "cdflow", "--resume", "--checkpoint", "absent.safetensors"])
    XCTAssertEqual(status, 1)
    XCTAssertTrue(errors.contains("absent.safetensors': no such file"), errors)
  }

  func testTrainPrintsJSONThatEvalRepeatsAndSampleWritesAPNG() throws {
    let dataset = try writeDataset(named: "data")
    let tiny = [
      "--dataset", dataset, "--levels", "1", "--steps-per-level", "1", "--hidden", "8", "--batch-size", "8",
      "--eval-every", "2", "--eval-count", "8", "--checkpoint-every", "2", "--checkpoint", "run/c.safetensors",
    ]
    var (status, output, errors) = try flows(["train", "cdflow"] + tiny + ["--steps", "3", "--json"])
    XCTAssertEqual(status, 0, errors)
    let trained = try jsonObject(output)
    for key in ["model", "steps", "seconds", "train_bpd", "test_bpd", "checkpoint"] {
      XCTAssertNotNil(trained[key], "missing \(key) in \(output)")
    }
    XCTAssertEqual(trained["model"] as? String, "cdflow")
    XCTAssertEqual(trained["steps"] as? Int, 3)
    XCTAssertEqual(trained["test_count"] as? Int, 16)
    let trainBitsPerDimension = try XCTUnwrap(trained["train_bpd"] as? Double)
    XCTAssertTrue(trainBitsPerDimension > 0 && trainBitsPerDimension < 20, "\(trainBitsPerDimension)")
    XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("run/c-curve.svg").path))
    XCTAssertTrue(errors.contains("step 2: checkpoint"), errors)

    (status, output, errors) = try flows(["eval", "--checkpoint", "run/c.safetensors", "--json"])
    XCTAssertEqual(status, 0, errors)
    let evaluated = try jsonObject(output)
    XCTAssertEqual(evaluated["test_bpd"] as? Double, trained["test_bpd"] as? Double)
    XCTAssertEqual(evaluated["test_count"] as? Int, 16)
    XCTAssertEqual(evaluated["steps"] as? Int, 3)

    (status, output, errors) = try flows(["sample", "--checkpoint", "run/c.safetensors", "--count", "5", "--output", "s.png"])
    XCTAssertEqual(status, 0, errors)
    let png = try Data(contentsOf: directory.appendingPathComponent("s.png"))
    XCTAssertEqual(Array(png.prefix(8)), PNGImage.signature)
    // 3 columns × 2 rows of 8×8 tiles with 2-pixel borders: 32 × 22.
    XCTAssertEqual(Array(png[16..<24]), [0, 0, 0, 32, 0, 0, 0, 22])

    // Resuming changes nothing fixed by the checkpoint, and continues the step count.
    (status, output, errors) = try flows([
      "train", "cdflow", "--resume", "--checkpoint", "run/c.safetensors", "--steps", "5", "--json",
    ])
    XCTAssertEqual(status, 0, errors)
    XCTAssertEqual(try jsonObject(output)["steps"] as? Int, 5)
    XCTAssertTrue(errors.contains("resuming at step 3"), errors)
  }

  /// `--split-bound` reaches the model's configuration (and its checkpoint):
  /// 2 by default, the value given, unbounded for 0.
  func testSplitBoundIsStoredInTheCheckpoint() throws {
    let dataset = try writeDataset(named: "data")
    let tiny = [
      "train", "cdflow", "--dataset", dataset, "--levels", "2", "--steps-per-level", "1", "--hidden", "8",
      "--batch-size", "8", "--eval-count", "8", "--steps", "1", "--json",
    ]
    for (given, expected) in [(nil, 2.0), ("0.5", 0.5), ("0", nil)] as [(String?, Double?)] {
      let name = "run/bound-\(given ?? "default").safetensors"
      let (status, _, errors) = try flows(tiny + ["--checkpoint", name] + (given.map { ["--split-bound", $0] } ?? []))
      XCTAssertEqual(status, 0, errors)
      let stored = try TrainingCheckpoint(contentsOf: directory.appendingPathComponent(name))
      let model = try stored.model(CDFlow<Float>.self)
      XCTAssertEqual(model.configuration.splitPriorLogStandardDeviationBound, expected, "\(String(describing: given))")
    }
  }
}
