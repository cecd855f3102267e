import ArgumentParser
import Foundation
import NormalizingFlows

/// `flows train rectangular`: a rectangular (injective) flow on a synthetic
/// manifold (circle, sphere) or on images (Fashion-MNIST, d = 20), on the
/// shared ``Trainer``.
struct TrainRectangular: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rectangular",
    abstract: "Train a rectangular flow (test −log p in nats on the held-out set).",
    discussion: """
      Defaults per --dataset reproduce the issue-7 settings: circle 4000 steps, sphere 8000 steps with couplings \
      [64, 64] and the likelihood weight ramped over 1000 steps, fashion-mnist 300 steps at d = 20, batch 50; \
      β = 50, Adam at 0.001, seed 1. The manifold data (10000 training, 1000 test points) are drawn once from \
      --seed. At the end of a manifold run the KL divergence and total variation of the learned density from \
      the true one are reported and a PNG of both densities is written beside the checkpoint. The test figure \
      is always by the exact estimator; for --estimator stochastic the training loss is a surrogate that only \
      trends like −log p.
      """)

  @Option(help: "circle, sphere, fashion-mnist, mnist or a directory holding IDX files (default circle).")
  var dataset: String?

  @Option(help: "d, the manifold's dimension (circle 1, sphere 2, images default 20).")
  var latentDim: Int?

  @Option(help: "exact, stochastic or two-step (default exact).")
  var estimator: String?

  @Option(help: "Hutchinson probes K per point (stochastic; default 1).")
  var probes: Int?

  @Option(help: "Probe distribution: gaussian or rademacher (stochastic; default gaussian).")
  var probeDistribution: String?

  @Option(help: "Conjugate-gradient tolerance on ‖r‖/‖ε‖ (stochastic; default 0.001).")
  var cgTolerance: Double?

  @Option(help: "Conjugate-gradient iteration cap (stochastic; default d).")
  var cgMaxIterations: Int?

  @Option(help: "β, the weight of the squared reconstruction error (default 50).")
  var beta: Double?

  @Option(help: "Steps over which the likelihood weight ramps from 0 to 1 (circle 0, sphere 1000, images 100).")
  var warmup: Int?

  @Option(help: "Affine couplings of the ambient flow (manifolds 5, images 4).")
  var couplings: Int?

  @Option(help: "Hidden widths of the ambient couplings, comma-separated (circle 32,32; sphere 64,64; images 256).")
  var hidden: String?

  @Option(help: "Affine couplings of the latent prior (default 3).")
  var priorCouplings: Int?

  @Option(help: "Hidden widths of the prior couplings (manifolds 16,16; images 64,64).")
  var priorHidden: String?

  @Option(help: "Items per batch (manifolds 100, images 50).")
  var batchSize: Int?

  @Option(help: "Learning rate of Adam (default 0.001).")
  var lr: Double?

  @Option(help: "Global gradient-norm clip (manifolds none, images 100; 0 for none).")
  var clip: Double?

  @Option(help: "Seed of the data, initial parameters, batches and probes (default 1).")
  var seed: UInt64?

  @Option(help: "Stop after this many steps in total (circle 4000, sphere 8000, images 300; resuming: the run's).")
  var steps: Int?

  @Option(help: "Stop after this many seconds of this run.")
  var timeBudget: Double?

  @Option(help: "Evaluate on the test set every this many steps (0: only at the end).")
  var evalEvery = 500

  @Option(help: "Save the checkpoint every this many steps (0: only at the end).")
  var checkpointEvery = 1000

  @Option(help: "Training items (default 10000).")
  var trainCount: Int?

  @Option(help: "Test items (manifolds 1000, images 500).")
  var testCount: Int?

  @Option(help: "The checkpoint to write (and, with --resume, to continue from).")
  var checkpoint = "out/rectangular.safetensors"

  @OptionGroup var output: TrainingOutputOptions

  /// The estimator named by the options (defaults where not given); `nil` for an unknown name.
  var objectiveEstimator: RectangularFlowEstimator? {
    switch (estimator ?? "exact").lowercased() {
    case "exact": return .exact
    case "two-step", "twostep", "two_step": return .twoStep
    case "stochastic":
      guard let distribution = ProbeDistribution(rawValue: (probeDistribution ?? "gaussian").lowercased()) else {
        return nil
      }
      return .stochastic(
        HutchinsonSettings(
          probes: probes ?? 1, distribution: distribution, tolerance: cgTolerance ?? 1e-3,
          maximumIterations: cgMaxIterations))
    default: return nil
    }
  }

  var source: RectangularDataSource { RectangularDataSource(dataset ?? "circle") }

  /// The issue-7 settings of the data set.
  var defaults: RectangularRunDefaults {
    switch source {
    case .manifold(let manifold): return .manifold(manifold)
    case .images: return .images
    }
  }

  /// The options as a training configuration (the data set's defaults where not given).
  var trainingConfiguration: TrainingConfiguration {
    TrainingConfiguration(
      optimizer: .adam, learningRate: lr ?? 1e-3, weightDecay: 0, warmupSteps: 0,
      gradientClipNorm: (clip ?? defaults.clip).flatMap { $0 == 0 ? nil : $0 }, batchSize: batchSize ?? defaults.batchSize,
      evaluateEvery: evalEvery, evaluationCount: nil, finalEvaluationCount: nil,
      evaluationBatchSize: defaults.evaluationBatchSize, checkpointEvery: checkpointEvery,
      stop: timeBudget.map { .timeBudget(seconds: $0) } ?? .steps(steps ?? defaults.steps), seed: seed ?? 1)
  }

  func validate() throws {
    try TrainingOptionChecks.validateStop(steps: steps, timeBudget: timeBudget)
    let name = (estimator ?? "exact").lowercased()
    guard ["exact", "stochastic", "two-step", "twostep", "two_step"].contains(name) else {
      throw ValidationError("--estimator '\(estimator!)' is not one of exact, stochastic, two-step")
    }
    if name != "stochastic" {
      let stochasticOnly: [(String, Bool)] = [
        ("--probes", probes != nil), ("--probe-distribution", probeDistribution != nil),
        ("--cg-tolerance", cgTolerance != nil), ("--cg-max-iterations", cgMaxIterations != nil),
      ]
      let given = stochasticOnly.filter(\.1).map(\.0)
      if !given.isEmpty {
        throw ValidationError("\(given.joined(separator: ", ")) apply to --estimator stochastic only")
      }
    }
    if let probes, probes < 1 { throw ValidationError("--probes \(probes) must be at least 1") }
    if let probeDistribution, ProbeDistribution(rawValue: probeDistribution.lowercased()) == nil {
      throw ValidationError("--probe-distribution '\(probeDistribution)' is not gaussian or rademacher")
    }
    if let cgTolerance, !(cgTolerance >= 0 && cgTolerance.isFinite) {
      throw ValidationError("--cg-tolerance \(cgTolerance) must be finite and ≥ 0")
    }
    if let cgMaxIterations, cgMaxIterations < 1 {
      throw ValidationError("--cg-max-iterations \(cgMaxIterations) must be at least 1")
    }
    if let beta, !(beta >= 0 && beta.isFinite) { throw ValidationError("--beta \(beta) must be finite and ≥ 0") }
    if let warmup, warmup < 0 { throw ValidationError("--warmup \(warmup) must be ≥ 0") }
    if let couplings, couplings < 0 { throw ValidationError("--couplings \(couplings) must be ≥ 0") }
    if let priorCouplings, priorCouplings < 0 { throw ValidationError("--prior-couplings \(priorCouplings) must be ≥ 0") }
    for (option, text) in [("--hidden", hidden), ("--prior-hidden", priorHidden)] {
      if let text, Self.widths(text) == nil {
        throw ValidationError("\(option) '\(text)' is not a comma-separated list of positive widths")
      }
    }
    if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr \(lr) must be positive and finite") }
    if let clip, !(clip >= 0 && clip.isFinite) { throw ValidationError("--clip \(clip) must be ≥ 0 (0 for no clipping)") }
    if let trainCount, trainCount < 1 { throw ValidationError("--train-count \(trainCount) must be at least 1") }
    if let testCount, testCount < 1 { throw ValidationError("--test-count \(testCount) must be at least 1") }
    if case .manifold(let manifold) = source, let latentDim, latentDim != manifold.distribution.latentSize {
      throw ValidationError(
        "--latent-dim \(latentDim) does not fit the \(manifold.rawValue): it is \(manifold.distribution.latentSize)-dimensional")
    }
    if let latentDim, latentDim < 1 { throw ValidationError("--latent-dim \(latentDim) must be at least 1") }
    if output.resume {
      let fixed: [(String, Bool)] = [
        ("--latent-dim", latentDim != nil), ("--estimator", estimator != nil), ("--probes", probes != nil),
        ("--probe-distribution", probeDistribution != nil), ("--cg-tolerance", cgTolerance != nil),
        ("--cg-max-iterations", cgMaxIterations != nil), ("--beta", beta != nil), ("--warmup", warmup != nil),
        ("--couplings", couplings != nil), ("--hidden", hidden != nil), ("--prior-couplings", priorCouplings != nil),
        ("--prior-hidden", priorHidden != nil), ("--batch-size", batchSize != nil), ("--lr", lr != nil),
        ("--clip", clip != nil), ("--seed", seed != nil), ("--train-count", trainCount != nil),
        ("--test-count", testCount != nil),
      ]
      let given = fixed.filter(\.1).map(\.0)
      if !given.isEmpty {
        throw ValidationError("\(given.joined(separator: ", ")) cannot change when resuming: the checkpoint fixes them")
      }
    }
    if let problem = trainingConfiguration.problem { throw ValidationError(problem) }
  }

  /// "64,64" → [64, 64]; `nil` unless every entry is a positive integer.
  static func widths(_ text: String) -> [Int]? {
    let values = text.split(separator: ",", omittingEmptySubsequences: false).map {
      Int($0.trimmingCharacters(in: .whitespaces))
    }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else { return nil }
    return values.map { $0! }
  }

  func run() throws {
    let checkpointURL = URL(fileURLWithPath: checkpoint)
    let curveURL = output.curveURL(beside: checkpointURL)
    let source = self.source
    let defaults = self.defaults
    let training = trainingConfiguration
    try RectangularTrainingRun(
      commandName: "flows train rectangular", source: output.resume && dataset == nil ? nil : source,
      latentSize: latentDim ?? defaults.latentSize,
      couplings: couplings ?? defaults.couplings,
      hiddenSizes: hidden.flatMap(Self.widths) ?? defaults.hiddenSizes,
      priorCouplings: priorCouplings ?? 3,
      priorHiddenSizes: priorHidden.flatMap(Self.widths) ?? defaults.priorHiddenSizes,
      objective: RectangularFlowObjective(
        estimator: objectiveEstimator ?? .exact, reconstructionWeight: beta ?? 50,
        warmup: LikelihoodWarmup(start: 0, end: warmup ?? defaults.warmup)),
      training: training, trainCount: trainCount ?? 10_000, testCount: testCount ?? defaults.testCount,
      checkpoint: checkpointURL, curve: curveURL, resume: output.resume,
      overridesStop: steps != nil || timeBudget != nil, json: output.json
    ).run()
  }
}

/// The settings of the issue-7 runs per data set, the command's defaults.
struct RectangularRunDefaults {
  var latentSize: Int
  var couplings: Int
  var hiddenSizes: [Int]
  var priorHiddenSizes: [Int]
  var warmup: Int
  var steps: Int
  var batchSize: Int
  var clip: Double?
  var testCount: Int
  var evaluationBatchSize: Int

  static func manifold(_ manifold: ManifoldDataset) -> RectangularRunDefaults {
    switch manifold {
    case .circle:
      return RectangularRunDefaults(
        latentSize: 1, couplings: 5, hiddenSizes: [32, 32], priorHiddenSizes: [16, 16], warmup: 0, steps: 4000,
        batchSize: 100, clip: nil, testCount: 1000, evaluationBatchSize: 500)
    case .sphere:
      return RectangularRunDefaults(
        latentSize: 2, couplings: 5, hiddenSizes: [64, 64], priorHiddenSizes: [16, 16], warmup: 1000, steps: 8000,
        batchSize: 100, clip: nil, testCount: 1000, evaluationBatchSize: 500)
    }
  }

  static let images = RectangularRunDefaults(
    latentSize: 20, couplings: 4, hiddenSizes: [256], priorHiddenSizes: [64, 64], warmup: 100, steps: 300,
    batchSize: 50, clip: 100, testCount: 500, evaluationBatchSize: 100)
}
