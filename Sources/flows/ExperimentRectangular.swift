import ArgumentParser
import Foundation
import NormalizingFlows

/// `flows experiment NAME`: the multi-run measurements behind the reported figures.
struct Experiment: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a multi-seed comparison and write its table and figure.",
    subcommands: [ExperimentRectangular.self])
}

/// `flows experiment rectangular`: exact, stochastic and two-step training
/// on a synthetic manifold over several seeds (``runRectangularComparison(_:as:progress:)``),
/// with the learning rate cosine-decayed from 1e-3 to 1e-4 as in the
/// issue-7 measurements.
struct ExperimentRectangular: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rectangular",
    abstract: "Compare the rectangular-flow estimators on the circle or the sphere over several seeds.",
    discussion: """
      Writes <output>/<dataset>.md (one row per run and a mean row per estimator: KL, total variation, \
      reconstruction error, test −log p), <dataset>.png (true against learned densities, one panel per \
      estimator, one curve or heat map per seed) and <dataset>.result.json (every figure of every run).
      """)

  @Option(help: "circle or sphere.")
  var dataset = "circle"

  @Option(parsing: .upToNextOption, help: "The seeds, one run per estimator and seed (default 1 2 3).")
  var seeds: [UInt64] = [1, 2, 3]

  @Option(parsing: .upToNextOption, help: "Estimators among exact, stochastic, two-step (default all three).")
  var estimators: [String] = ["exact", "stochastic", "two-step"]

  @Option(help: "Steps per run (circle 4000, sphere 8000).")
  var steps: Int?

  @Option(help: "β (default 50).")
  var beta: Double = 50

  @Option(help: "The directory of the table, figure and result.")
  var output = "out"

  @Flag(help: "Print one JSON object with the mean figures per estimator.")
  var json = false

  var manifold: ManifoldDataset? { ManifoldDataset(rawValue: dataset.lowercased()) }

  static func estimator(named name: String) -> RectangularFlowEstimator? {
    switch name.lowercased() {
    case "exact": return .exact
    case "stochastic": return .stochastic(HutchinsonSettings())
    case "two-step", "twostep", "two_step": return .twoStep
    default: return nil
    }
  }

  func validate() throws {
    if manifold == nil { throw ValidationError("--dataset '\(dataset)' is not circle or sphere") }
    if seeds.isEmpty { throw ValidationError("--seeds needs at least one seed") }
    if estimators.isEmpty { throw ValidationError("--estimators needs at least one estimator") }
    for name in estimators where Self.estimator(named: name) == nil {
      throw ValidationError("--estimators: '\(name)' is not one of exact, stochastic, two-step")
    }
    if let steps, steps < 1 { throw ValidationError("--steps \(steps) must be at least 1") }
    if !(beta >= 0 && beta.isFinite) { throw ValidationError("--beta \(beta) must be finite and ≥ 0") }
  }

  /// The issue-7 settings of the data set.
  var settings: RectangularComparisonSettings {
    let manifold = self.manifold!
    let defaults = RectangularRunDefaults.manifold(manifold)
    let truth = manifold.distribution
    let base = RectangularExperimentSettings(
      dataset: manifold, estimator: .exact, steps: steps ?? defaults.steps, seed: seeds[0],
      configuration: RectangularFlowConfiguration(
        ambientSize: truth.ambientSize, latentSize: truth.latentSize, couplingLayers: defaults.couplings,
        hiddenSizes: defaults.hiddenSizes, priorHiddenSizes: defaults.priorHiddenSizes, seed: seeds[0]),
      reconstructionWeight: beta, warmup: LikelihoodWarmup(start: 0, end: defaults.warmup),
      batchSize: defaults.batchSize, learningRate: 1e-3, finalLearningRate: 1e-4)
    return RectangularComparisonSettings(
      base: base, estimators: estimators.compactMap(Self.estimator(named:)), seeds: seeds)
  }

  func run() throws {
    let command = "flows experiment rectangular"
    let settings = self.settings
    let directory = URL(fileURLWithPath: output)
    let name = manifold!.rawValue
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
      throw reportFailure(command: command, message: "cannot create \(directory.path): \(error.localizedDescription)")
    }
    let result: RectangularComparisonResult
    do {
      result = try runRectangularComparison(settings, as: Float.self) { run in
        FileHandle.standardError.write(Data((
          "\(run.settings.dataset) \(run.settings.objective.estimator) seed \(run.settings.seed): "
            + "KL " + String(format: "%.4f", run.comparison.klDivergence) + ", TV "
            + String(format: "%.4f", run.comparison.totalVariation) + ", "
            + String(format: "%.1f", run.training.seconds) + " s\n").utf8))
      }
    } catch {
      throw reportFailure(command: command, message: "a run failed: \(error)")
    }
    let table = directory.appendingPathComponent("\(name).md")
    let plot = directory.appendingPathComponent("\(name).png")
    let resultFile = directory.appendingPathComponent("\(name).result.json")
    do {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try encoder.encode(result).write(to: resultFile, options: .atomic)
      try Data((result.markdownTable() + "\n").utf8).write(to: table, options: .atomic)
      try DensityPlot.image(of: result).write(to: plot)
    } catch {
      throw reportFailure(command: command, message: "cannot write the results: \(error.localizedDescription)")
    }
    if json {
      var fields: [(key: String, value: JSONValue)] = [
        ("dataset", .string(name)), ("runs", .number(Double(result.runs.count))),
        ("table", .string(table.path)), ("plot", .string(plot.path)), ("result", .string(resultFile.path)),
      ]
      for estimator in settings.estimators {
        let runs = result.runs(of: estimator)
        func mean(_ value: (RectangularExperimentResult) -> Double) -> Double {
          runs.map(value).reduce(0, +) / Double(runs.count)
        }
        let key = estimator.description.replacingOccurrences(of: "-", with: "_")
        fields += [
          ("\(key)_kl", .number(mean { $0.comparison.klDivergence })),
          ("\(key)_tv", .number(mean { $0.comparison.totalVariation })),
          ("\(key)_test_nll", .number(mean { $0.test.negativeLogLikelihood })),
          ("\(key)_test_reconstruction_error", .number(mean { $0.test.reconstructionError })),
        ]
      }
      print(JSONValue.object(fields))
    } else {
      print(result.markdownTable())
      print("table \(table.path), figure \(plot.path), result \(resultFile.path)")
    }
  }
}
