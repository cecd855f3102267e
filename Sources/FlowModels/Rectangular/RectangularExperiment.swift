import FlowLayers
import FlowTensor

/// The synthetic manifolds of the rectangular-flow experiments.
public enum ManifoldDataset: String, Codable, CaseIterable, Sendable {
  /// ``VonMisesCircle`` with κ = 1, μ = π/2 (d = 1, D = 2).
  case circle
  /// ``VonMisesFisherMixture/threeComponents`` on S² (d = 2, D = 3).
  case sphere

  /// The true distribution.
  public var distribution: any ManifoldDistribution {
    switch self {
    case .circle: return VonMisesCircle()
    case .sphere: return VonMisesFisherMixture.threeComponents
    }
  }
}

/// One training run of a rectangular flow on a synthetic manifold.
public struct RectangularExperimentSettings: Codable, Equatable, Sendable {
  public var dataset: ManifoldDataset
  /// The model; its `ambientSize` and `latentSize` must be the data set's.
  public var configuration: RectangularFlowConfiguration
  public var objective: RectangularFlowObjective
  /// Steps, learning rates, clipping.
  public var optimization: RectangularOptimization
  public var batchSize: Int
  /// Points in the fixed training set (Caterini et al.: 10 000) and the test set.
  public var trainingSize: Int
  public var testSize: Int
  /// The quadrature resolution of the density comparison.
  public var quadratureResolution: Int
  /// The resolution of the plotted density (``ManifoldDistribution/chart(resolution:)``).
  public var chartResolution: Int
  /// Seeds the data, the batches, the probes (the model has its own seed in `configuration`).
  public var seed: UInt64

  /// Defaults follow the paper's synthetic setting (5 RealNVP couplings,
  /// β = 50, Adam at 1e-3) where they fit a short run.
  /// - Parameters:
  ///   - dataset: the manifold.
  ///   - estimator: how ½ log det JᵀJ enters training.
  ///   - steps: Adam steps, ≥ 0.
  ///   - seed: seeds the data, batches and probes, and the model when
  ///     `configuration` is `nil`.
  ///   - configuration: the model, `nil` for the default RealNVP of the data set's sizes.
  ///   - reconstructionWeight: β.
  ///   - warmup: the likelihood weight's ramp.
  ///   - batchSize, trainingSize, testSize: ≥ 1.
  ///   - learningRate: Adam's rate at step 0.
  ///   - finalLearningRate: reached at the last step by a cosine decay (`nil`: constant).
  ///   - maximumGradientNorm: global-norm clipping, `nil` for none.
  ///   - quadratureResolution, chartResolution: `nil` for 512 / 256 on the circle, 48 / 32 on the sphere.
  public init(
    dataset: ManifoldDataset, estimator: RectangularFlowEstimator, steps: Int, seed: UInt64,
    configuration: RectangularFlowConfiguration? = nil, reconstructionWeight: Double = 50,
    warmup: LikelihoodWarmup = .none, batchSize: Int = 100, learningRate: Double = 1e-3,
    finalLearningRate: Double? = nil, maximumGradientNorm: Double? = nil, trainingSize: Int = 10_000,
    testSize: Int = 1_000, quadratureResolution: Int? = nil, chartResolution: Int? = nil
  ) {
    let distribution = dataset.distribution
    self.dataset = dataset
    self.configuration =
      configuration
      ?? RectangularFlowConfiguration(
        ambientSize: distribution.ambientSize, latentSize: distribution.latentSize, seed: seed)
    precondition(
      self.configuration.ambientSize == distribution.ambientSize
        && self.configuration.latentSize == distribution.latentSize,
      "RectangularExperimentSettings: the model maps R^\(self.configuration.latentSize) → R^\(self.configuration.ambientSize), the \(dataset) data need R^\(distribution.latentSize) → R^\(distribution.ambientSize)")
    precondition(
      batchSize >= 1 && trainingSize >= 1 && testSize >= 1,
      "RectangularExperimentSettings: batch \(batchSize), training \(trainingSize) and test \(testSize) sizes must be positive")
    self.objective = RectangularFlowObjective(
      estimator: estimator, reconstructionWeight: reconstructionWeight, warmup: warmup)
    self.optimization = RectangularOptimization(
      steps: steps, learningRate: learningRate, finalLearningRate: finalLearningRate,
      maximumGradientNorm: maximumGradientNorm)
    self.batchSize = batchSize
    self.trainingSize = trainingSize
    self.testSize = testSize
    self.quadratureResolution = quadratureResolution ?? (dataset == .circle ? 512 : 48)
    self.chartResolution = chartResolution ?? (dataset == .circle ? 256 : 32)
    self.seed = seed
  }
}

/// The true and the learned density on a grid of the true manifold: the
/// data of a density plot (``DensityPlot``).
public struct ManifoldDensityFigure: Codable, Equatable, Sendable {
  /// The grid.
  public var chart: ManifoldChart
  /// log p at each grid point (row-major, as `chart.points`).
  public var trueLogDensity: [Double]
  /// log q at each grid point, the learned density (not renormalised).
  public var learnedLogDensity: [Double]

  public init(chart: ManifoldChart, trueLogDensity: [Double], learnedLogDensity: [Double]) {
    precondition(
      trueLogDensity.count == chart.points.count && learnedLogDensity.count == chart.points.count,
      "ManifoldDensityFigure: \(trueLogDensity.count) true and \(learnedLogDensity.count) learned values for \(chart.points.count) points")
    self.chart = chart
    self.trueLogDensity = trueLogDensity
    self.learnedLogDensity = learnedLogDensity
  }
}

/// What ``runRectangularExperiment(_:as:)`` measured.
public struct RectangularExperimentResult: Codable, Equatable, Sendable {
  /// The run's settings.
  public var settings: RectangularExperimentSettings
  /// The learned density against the truth on the true manifold.
  public var comparison: ManifoldDensityComparison
  /// Held-out −log p (exact) and reconstruction error.
  public var test: RectangularFlowEvaluation
  /// The losses, CG iterations, skipped steps and time of training.
  public var training: RectangularTrainingLog
  /// The true and learned densities on a grid, for plots.
  public var figure: ManifoldDensityFigure

  /// The training loss of each step.
  public var losses: [Double] { training.losses }
  /// CG iterations of each step (stochastic estimator; empty otherwise).
  public var conjugateGradientIterations: [Int] { training.conjugateGradientIterations }
}

/// Trains a ``RealNVPRectangularFlow`` with Adam on a synthetic manifold and
/// compares its density with the true one: the one call behind
/// `flows train rectangular --dataset circle|sphere`.
/// - Parameters:
///   - settings: the data set, model, objective and schedule.
///   - _: the precision of training.
/// - Returns: the comparison, test figures, training log and the plot data.
/// - Throws: ``RectangularFlowError`` or ``FlowTensor/LinearAlgebraError``
///   from an exact log-determinant of the evaluation that could not be
///   computed (a failure during training skips the step instead).
/// - Complexity: `steps` loss evaluations on `batchSize` points, then
///   `testSize` plus the quadrature's and the chart's nodes through the
///   exact estimator.
public func runRectangularExperiment<Scalar: TensorScalar>(
  _ settings: RectangularExperimentSettings, as _: Scalar.Type = Scalar.self
) throws -> RectangularExperimentResult {
  let truth = settings.dataset.distribution
  var generator = SeededGenerator(seed: settings.seed)
  let training: Tensor<Scalar> = truth.sample(count: settings.trainingSize, using: &generator)
  let test: Tensor<Scalar> = truth.sample(count: settings.testSize, using: &generator)
  var model = RealNVPRectangularFlow<Scalar>(configuration: settings.configuration)
  let log = model.train(objective: settings.objective, optimization: settings.optimization, using: &generator) {
    generator in
    let indices = (0..<settings.batchSize).map { _ in
      Int(generator.next(upperBound: UInt64(settings.trainingSize)))
    }
    return training.gathering(atIndices: indices, alongAxis: 0)
  }
  let chart = truth.chart(resolution: settings.chartResolution)
  let figure = ManifoldDensityFigure(
    chart: chart, trueLogDensity: chart.points.map { truth.logDensity(at: $0) },
    learnedLogDensity: try model.logDensities(atPoints: chart.points))
  return RectangularExperimentResult(
    settings: settings,
    comparison: try model.compareDensity(with: truth, resolution: settings.quadratureResolution),
    test: try model.evaluate(test), training: log, figure: figure)
}
