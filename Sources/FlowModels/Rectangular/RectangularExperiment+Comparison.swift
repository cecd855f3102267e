import FlowTensor
import Foundation

/// The estimators × seeds grid of manifold experiments behind the
/// circle and sphere figures of issue 7.
public struct RectangularComparisonSettings: Codable, Equatable, Sendable {
  /// Every run's settings except its estimator and seeds.
  public var base: RectangularExperimentSettings
  /// The estimators compared.
  public var estimators: [RectangularFlowEstimator]
  /// One run per estimator and seed; a seed sets both the data/probe seed
  /// and the model's initial weights.
  public var seeds: [UInt64]

  /// - Parameters:
  ///   - base: settings shared by the runs.
  ///   - estimators: at least one.
  ///   - seeds: at least one.
  public init(base: RectangularExperimentSettings, estimators: [RectangularFlowEstimator], seeds: [UInt64]) {
    precondition(!estimators.isEmpty && !seeds.isEmpty, "RectangularComparisonSettings: no estimators or no seeds")
    self.base = base
    self.estimators = estimators
    self.seeds = seeds
  }

  /// The settings of one run.
  public func settings(estimator: RectangularFlowEstimator, seed: UInt64) -> RectangularExperimentSettings {
    var settings = base
    settings.objective.estimator = estimator
    settings.seed = seed
    settings.configuration.seed = seed
    return settings
  }
}

/// The runs of a ``RectangularComparisonSettings`` grid, estimator-major.
public struct RectangularComparisonResult: Codable, Equatable, Sendable {
  public var runs: [RectangularExperimentResult]

  public init(runs: [RectangularExperimentResult]) {
    self.runs = runs
  }

  /// The runs of one estimator, in seed order.
  public func runs(of estimator: RectangularFlowEstimator) -> [RectangularExperimentResult] {
    runs.filter { $0.settings.objective.estimator == estimator }
  }

  /// A Markdown table: one row per run (estimator, seed, KL, total
  /// variation, unnormalised total variation, learned mass, test
  /// reconstruction error, test −log p, skipped steps, seconds), then one
  /// mean row per estimator.
  public func markdownTable() -> String {
    func format(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }
    var lines = [
      "| data | estimator | seed | KL | TV | TV (unnormalised) | mass | recon. error | test −log p | skipped | seconds |",
      "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    var estimators: [RectangularFlowEstimator] = []
    for run in runs where !estimators.contains(run.settings.objective.estimator) {
      estimators.append(run.settings.objective.estimator)
    }
    for run in runs {
      lines.append(
        "| \(run.settings.dataset) | \(run.settings.objective.estimator) | \(run.settings.seed) | "
          + "\(format(run.comparison.klDivergence)) | \(format(run.comparison.totalVariation)) | "
          + "\(format(run.comparison.unnormalizedTotalVariation)) | \(format(run.comparison.learnedMass)) | "
          + "\(String(format: "%.2e", run.test.reconstructionError)) | \(format(run.test.negativeLogLikelihood)) | "
          + "\(run.training.skippedSteps) | \(format(run.training.seconds, 1)) |")
    }
    for estimator in estimators {
      let group = runs(of: estimator)
      let count = Double(group.count)
      func mean(_ value: (RectangularExperimentResult) -> Double) -> Double { group.map(value).reduce(0, +) / count }
      lines.append(
        "| mean | \(estimator) | \(group.count) seeds | \(format(mean { $0.comparison.klDivergence })) | "
          + "\(format(mean { $0.comparison.totalVariation })) | \(format(mean { $0.comparison.unnormalizedTotalVariation })) | "
          + "\(format(mean { $0.comparison.learnedMass })) | \(String(format: "%.2e", mean { $0.test.reconstructionError })) | "
          + "\(format(mean { $0.test.negativeLogLikelihood })) | \(group.map(\.training.skippedSteps).reduce(0, +)) | "
          + "\(format(mean { $0.training.seconds }, 1)) |")
    }
    return lines.joined(separator: "\n")
  }
}

/// Runs every estimator over every seed (``runRectangularExperiment(_:as:)``).
/// - Parameters:
///   - settings: the grid.
///   - _: the precision of training.
///   - progress: called after each run (for a command line's output).
/// - Returns: the runs, estimator-major.
/// - Throws: what ``runRectangularExperiment(_:as:)`` throws.
public func runRectangularComparison<Scalar: TensorScalar>(
  _ settings: RectangularComparisonSettings, as _: Scalar.Type = Scalar.self,
  progress: (RectangularExperimentResult) -> Void = { _ in }
) throws -> RectangularComparisonResult {
  var runs: [RectangularExperimentResult] = []
  for estimator in settings.estimators {
    for seed in settings.seeds {
      let run = try runRectangularExperiment(settings.settings(estimator: estimator, seed: seed), as: Scalar.self)
      progress(run)
      runs.append(run)
    }
  }
  return RectangularComparisonResult(runs: runs)
}
