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
}
