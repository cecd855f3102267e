import FlowLayers
import FlowTensor

/// The synthetic manifolds of the rectangular-flow experiments.
public enum ManifoldDataset: String, CaseIterable, Sendable {
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
public struct RectangularExperimentSettings: Sendable {
  public var dataset: ManifoldDataset
  /// The model; its `ambientSize` and `latentSize` must be the data set's.
  public var configuration: RectangularFlowConfiguration
  public var objective: RectangularFlowObjective
  /// Adam steps.
  public var steps: Int
  public var batchSize: Int
  public var learningRate: Double
  /// Points in the fixed training set (Caterini et al.: 10 000) and the test set.
  public var trainingSize: Int
  public var testSize: Int
  /// The quadrature resolution of the density comparison.
  public var quadratureResolution: Int
  /// Seeds the data, the batches, the probes (the model has its own seed in `configuration`).
  public var seed: UInt64

  /// Defaults follow the paper's synthetic setting (5 RealNVP couplings,
  /// β = 50, Adam at 1e-3) where they fit a short run.
  public init(
    dataset: ManifoldDataset, estimator: RectangularFlowEstimator, steps: Int, seed: UInt64,
    configuration: RectangularFlowConfiguration? = nil, reconstructionWeight: Double = 50,
    warmup: LikelihoodWarmup = .none, batchSize: Int = 100, learningRate: Double = 1e-3, trainingSize: Int = 10_000,
    testSize: Int = 1_000, quadratureResolution: Int? = nil
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
    precondition(steps >= 0 && batchSize >= 1 && trainingSize >= 1 && testSize >= 1, "RectangularExperimentSettings: sizes must be positive")
    self.objective = RectangularFlowObjective(
      estimator: estimator, reconstructionWeight: reconstructionWeight, warmup: warmup)
    self.steps = steps
    self.batchSize = batchSize
    self.learningRate = learningRate
    self.trainingSize = trainingSize
    self.testSize = testSize
    self.quadratureResolution = quadratureResolution ?? (dataset == .circle ? 512 : 48)
    self.seed = seed
  }
}

/// What ``runRectangularExperiment(_:as:)`` measured.
public struct RectangularExperimentResult: Sendable {
  /// The learned density against the truth on the true manifold.
  public var comparison: ManifoldDensityComparison
  /// Held-out −log p (exact) and reconstruction error.
  public var test: RectangularFlowEvaluation
  /// The training loss of each step.
  public var losses: [Double]
  /// CG iterations of each step (stochastic estimator; empty otherwise).
  public var conjugateGradientIterations: [Int]
}

/// Trains a ``RealNVPRectangularFlow`` with Adam on a synthetic manifold and
/// compares its density with the true one.
/// - Parameters:
///   - settings: the data set, model, objective and schedule.
///   - _: the precision of training.
/// - Returns: the comparison, test figures and per-step losses.
/// - Throws: ``RectangularFlowError`` or ``FlowTensor/LinearAlgebraError``
///   from an exact log-determinant that could not be computed.
/// - Complexity: `steps` loss evaluations on `batchSize` points, then
///   `testSize` plus the quadrature's nodes through the exact estimator.
public func runRectangularExperiment<Scalar: TensorScalar>(
  _ settings: RectangularExperimentSettings, as _: Scalar.Type = Scalar.self
) throws -> RectangularExperimentResult {
  let truth = settings.dataset.distribution
  var generator = SeededGenerator(seed: settings.seed)
  let training: Tensor<Scalar> = truth.sample(count: settings.trainingSize, using: &generator)
  let test: Tensor<Scalar> = truth.sample(count: settings.testSize, using: &generator)
  var model = RealNVPRectangularFlow<Scalar>(configuration: settings.configuration)
  var optimizer = Adam<Scalar>(learningRate: settings.learningRate)
  var losses: [Double] = []
  var iterations: [Int] = []
  for step in 0..<settings.steps {
    let indices = (0..<settings.batchSize).map { _ in
      Int(generator.next(upperBound: UInt64(settings.trainingSize)))
    }
    let batch = training.gathering(atIndices: indices, alongAxis: 0)
    var report: RectangularFlowLoss<Scalar>? = nil
    let (value, gradients) = try valueWithGradient(at: model) { model in
      let loss = try model.loss(on: batch, objective: settings.objective, step: step, using: &generator)
      report = loss
      return loss.value
    }
    losses.append(Double(value.scalar))
    if let count = report?.conjugateGradientIterations { iterations.append(count) }
    optimizer.update(&model, along: gradients)
  }
  return RectangularExperimentResult(
    comparison: try model.compareDensity(with: truth, resolution: settings.quadratureResolution),
    test: try model.evaluate(test), losses: losses, conjugateGradientIterations: iterations)
}
