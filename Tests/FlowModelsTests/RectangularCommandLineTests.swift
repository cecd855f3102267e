import FlowModels
import Foundation
import XCTest

/// `flows train rectangular`, `flows eval` of its checkpoints and `flows
/// experiment rectangular`, run as a subprocess as `CommandLineTests` does.
final class RectangularCommandLineTests: XCTestCase {
  private var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "RectangularCommandLineTests-\(UUID().uuidString)")
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

  func testBadArgumentsGiveAUsageMessageAndStatus64() throws {
    let train = ["train", "rectangular"]
    let cases: [([String], String)] = [
      (train + ["--estimator", "hutchinson"], "--estimator 'hutchinson' is not one of exact, stochastic, two-step"),
      (train + ["--steps", "5", "--time-budget", "3"], "give --steps or --time-budget, not both"),
      (train + ["--steps", "0"], "--steps 0 must be at least 1"),
      (train + ["--batch-size", "0"], "batch size 0 must be ≥ 1"),
      (train + ["--probes", "4"], "--probes apply to --estimator stochastic only"),
      (train + ["--estimator", "stochastic", "--probes", "0"], "--probes 0 must be at least 1"),
      (train + ["--estimator", "stochastic", "--cg-tolerance=-1"], "--cg-tolerance -1.0 must be finite and ≥ 0"),
      (train + ["--estimator", "stochastic", "--probe-distribution", "uniform"],
       "--probe-distribution 'uniform' is not gaussian or rademacher"),
      (train + ["--beta=-5"], "--beta -5.0 must be finite and ≥ 0"),
      (train + ["--dataset", "sphere", "--latent-dim", "1"], "--latent-dim 1 does not fit the sphere: it is 2-dimensional"),
      (train + ["--hidden", "32,x"], "--hidden '32,x' is not a comma-separated list of positive widths"),
      (train + ["--warmup=-1"], "--warmup -1 must be ≥ 0"),
      (train + ["--resume", "--beta", "3", "--seed", "2"], "--beta, --seed cannot change when resuming"),
      (["experiment", "rectangular", "--dataset", "torus"], "--dataset 'torus' is not circle or sphere"),
      (["experiment", "rectangular", "--estimators", "exact", "magic"], "'magic' is not one of exact, stochastic, two-step"),
    ]
    for (arguments, message) in cases {
      let (status, _, errors) = try flows(arguments)
      XCTAssertEqual(status, 64, "\(arguments): status \(status), «\(errors)»")
      XCTAssertTrue(errors.contains(message), "\(arguments): expected «\(message)» in «\(errors)»")
      XCTAssertTrue(errors.contains("Usage:"), "\(arguments): no usage in «\(errors)»")
    }
    // A data set that cannot be read is a failure (status 1), not a usage error.
    let (status, _, errors) = try flows(train + ["--dataset", "absent-directory", "--steps", "1"])
    XCTAssertEqual(status, 1, errors)
    XCTAssertTrue(errors.contains("flows train rectangular:"), errors)
  }

  /// A tiny circle run: one JSON line with finite figures, the density PNG
  /// beside the checkpoint, `flows eval` repeating the test NLL, and a resumed
  /// run continuing the step count.
  func testTinyCircleRunEvalAndResume() throws {
    let tiny = [
      "train", "rectangular", "--dataset", "circle", "--couplings", "2", "--hidden", "8", "--prior-couplings", "1",
      "--batch-size", "20", "--train-count", "200", "--test-count", "50", "--eval-every", "10",
      "--checkpoint", "run/circle.safetensors",
    ]
    var (status, output, errors) = try flows(tiny + ["--steps", "20", "--json"])
    XCTAssertEqual(status, 0, errors)
    let trained = try jsonObject(output)
    XCTAssertEqual(trained["model"] as? String, "rectangular")
    XCTAssertEqual(trained["dataset"] as? String, "circle")
    XCTAssertEqual(trained["estimator"] as? String, "exact")
    XCTAssertEqual(trained["steps"] as? Int, 20)
    XCTAssertEqual(trained["test_count"] as? Int, 50)
    XCTAssertEqual(trained["latent_dim"] as? Int, 1)
    XCTAssertEqual(trained["beta"] as? Int, 50)
    for key in ["train_nll", "test_nll", "test_reconstruction_error", "kl", "tv", "learned_mass", "seconds"] {
      let value = try XCTUnwrap(trained[key] as? Double, "\(key) missing or not a number in \(trained)")
      XCTAssertTrue(value.isFinite, "\(key) = \(value)")
    }
    XCTAssertGreaterThanOrEqual(trained["kl"] as? Double ?? -1, 0)
    let tv = trained["tv"] as? Double ?? -1
    XCTAssertTrue(tv >= 0 && tv <= 1, "tv \(tv)")
    let plot = directory.appendingPathComponent("run/circle-density.png")
    XCTAssertEqual(trained["density_plot"] as? String, plot.path)
    let png = try Data(contentsOf: plot)
    XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])

    (status, output, errors) = try flows(["eval", "--checkpoint", "run/circle.safetensors", "--json"])
    XCTAssertEqual(status, 0, errors)
    let evaluated = try jsonObject(output)
    XCTAssertEqual(evaluated["model"] as? String, "rectangular")
    XCTAssertEqual(evaluated["test_nll"] as? Double, trained["test_nll"] as? Double)
    XCTAssertEqual(evaluated["test_reconstruction_error"] as? Double, trained["test_reconstruction_error"] as? Double)
    XCTAssertEqual(evaluated["test_count"] as? Int, 50)

    (status, output, errors) = try flows([
      "train", "rectangular", "--resume", "--checkpoint", "run/circle.safetensors", "--steps", "25", "--json",
    ])
    XCTAssertEqual(status, 0, errors)
    let resumed = try jsonObject(output)
    XCTAssertEqual(resumed["steps"] as? Int, 25)
    XCTAssertEqual(resumed["run_steps"] as? Int, 5)
    XCTAssertEqual(resumed["dataset"] as? String, "circle")
    XCTAssertTrue((resumed["test_nll"] as? Double)?.isFinite ?? false, "\(resumed)")

    // Without --steps a resumed run keeps its own stop (25 steps): nothing left to do.
    (status, output, errors) = try flows(["train", "rectangular", "--resume", "--checkpoint", "run/circle.safetensors", "--json"])
    XCTAssertEqual(status, 0, errors)
    let finished = try jsonObject(output)
    XCTAssertEqual(finished["steps"] as? Int, 25)
    XCTAssertEqual(finished["run_steps"] as? Int, 0)
    XCTAssertEqual(finished["test_nll"] as? Double, resumed["test_nll"] as? Double)
  }

  /// The comparison command writes its table, figure and result.
  func testExperimentWritesTableFigureAndResult() throws {
    let (status, output, errors) = try flows([
      "experiment", "rectangular", "--dataset", "circle", "--seeds", "1", "2", "--estimators", "exact", "two-step",
      "--steps", "2", "--output", "comparison", "--json",
    ])
    XCTAssertEqual(status, 0, errors)
    let result = try jsonObject(output)
    XCTAssertEqual(result["runs"] as? Int, 4)
    for key in ["exact_kl", "exact_tv", "two_step_kl", "two_step_tv"] {
      XCTAssertTrue((result[key] as? Double)?.isFinite ?? false, "\(key) in \(result)")
    }
    let table = try String(contentsOf: directory.appendingPathComponent("comparison/circle.md"), encoding: .utf8)
    XCTAssertEqual(table.split(separator: "\n").count, 2 + 4 + 2, table)
    XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("comparison/circle.png").path))
    let decoded = try JSONDecoder().decode(
      RectangularComparisonResult.self,
      from: Data(contentsOf: directory.appendingPathComponent("comparison/circle.result.json")))
    XCTAssertEqual(decoded.runs.map(\.settings.seed), [1, 2, 1, 2])
  }
}
