import FlowModels
import FlowTensor
import Foundation
import XCTest

/// Not a test of correctness: the runner of the multi-seed manifold
/// experiments whose table and figures are reported for issue 7. It does
/// work only when the environment variable RECTANGULAR_MEASUREMENT names a
/// JSON file of `RectangularComparisonSettings`, set by hand for that run
/// alone, in a release build:
///
///     RECTANGULAR_MEASUREMENT=circle.json RECTANGULAR_MEASUREMENT_OUTPUT=out \
///       swift test -c release -Xswiftc -enable-testing --filter RectangularMeasurementTests
///
/// It writes `<output>/<name>.result.json` (the Codable result), `<name>.md`
/// (the table) and `<name>.png` (the density figure); given a
/// `….result.json` instead it only draws the figure again. Without the
/// variable the body returns at once, so the ordinary test runs never pay
/// for it.
final class RectangularMeasurementTests: XCTestCase {
  func testMeasureComparisonFromEnvironment() throws {
    let environment = ProcessInfo.processInfo.environment
    guard let path = environment["RECTANGULAR_MEASUREMENT"] else { return }
    let url = URL(fileURLWithPath: path)
    let output = URL(fileURLWithPath: environment["RECTANGULAR_MEASUREMENT_OUTPUT"] ?? ".")
    try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    let name = url.deletingPathExtension().lastPathComponent
    if url.lastPathComponent.hasSuffix(".result.json") {
      // A result written before: only draw its figure again.
      let result = try JSONDecoder().decode(RectangularComparisonResult.self, from: Data(contentsOf: url))
      try DensityPlot.image(of: result).write(to: output.appendingPathComponent("\(name).png"))
      return
    }
    let settings = try JSONDecoder().decode(RectangularComparisonSettings.self, from: Data(contentsOf: url))
    let result = try runRectangularComparison(settings, as: Float.self) { run in
      print(
        "run \(run.settings.dataset) \(run.settings.objective.estimator) seed \(run.settings.seed): "
          + "KL \(run.comparison.klDivergence) TV \(run.comparison.totalVariation) "
          + "recon \(run.test.reconstructionError) skipped \(run.training.skippedSteps) \(run.training.seconds) s")
      fflush(stdout)
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(result).write(to: output.appendingPathComponent("\(name).result.json"))
    try DensityPlot.image(of: result).write(to: output.appendingPathComponent("\(name).png"))
    try Data(result.markdownTable().utf8).write(to: output.appendingPathComponent("\(name).md"))
    print(result.markdownTable())
  }

  /// The same for the Fashion-MNIST flow (D = 784): RECTANGULAR_IMAGE_MEASUREMENT
  /// names a JSON file of `RectangularImageExperimentSettings`; the run
  /// trains on the first 10 000 training images and evaluates on the test
  /// split, then writes `<name>.result.json` and `<name>.samples.png`.
  func testMeasureImageExperimentFromEnvironment() throws {
    let environment = ProcessInfo.processInfo.environment
    guard let path = environment["RECTANGULAR_IMAGE_MEASUREMENT"] else { return }
    let url = URL(fileURLWithPath: path)
    let output = URL(fileURLWithPath: environment["RECTANGULAR_MEASUREMENT_OUTPUT"] ?? ".")
    try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    let name = url.deletingPathExtension().lastPathComponent
    let settings = try JSONDecoder().decode(RectangularImageExperimentSettings.self, from: Data(contentsOf: url))
    let training = try ImageDataset.fashionMNIST(split: .train).subset(0..<10_000)
    let test = try ImageDataset.fashionMNIST(split: .test)
    let result = try runRectangularImageExperiment(settings, training: training, test: test, as: Float.self)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(result).write(to: output.appendingPathComponent("\(name).result.json"))
    try result.sampleGrid()?.image.write(to: output.appendingPathComponent("\(name).samples.png"))
    let losses = result.training.losses
    let reconstruction = result.training.reconstructionErrors
    print(
      "image \(settings.objective.estimator) d = \(settings.configuration.latentSize): "
        + "\(losses.count) steps, \(result.training.seconds) s (\(1000 * result.training.seconds / Double(max(1, losses.count + result.training.skippedSteps))) ms/step), "
        + "loss \(losses.prefix(10).reduce(0, +) / 10) → \(losses.suffix(10).reduce(0, +) / 10), "
        + "reconstruction \(reconstruction.prefix(10).reduce(0, +) / 10) → \(reconstruction.suffix(10).reduce(0, +) / 10), "
        + "skipped \(result.training.skippedSteps), CG max \(result.training.conjugateGradientIterations.max() ?? 0), "
        + "test \(String(describing: result.test))")
  }
}
