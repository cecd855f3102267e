import FlowLayers
import FlowTensor
import Foundation

/// The items a ``RectangularFlowModel`` trains on: points of R^D (a
/// synthetic manifold's samples, drawn once) or 8-bit images, flattened to
/// D = pixels and dequantized afresh for every batch.
public struct RectangularTrainingSet: TrainingDataset {
  /// What the set holds.
  public enum Items {
    /// `[count, D]` points, row-major, in `Double`.
    case points(values: [Double], ambientSize: Int)
    /// Images, centred and dequantized per batch (see ``RectangularImageExperimentSettings``).
    case images(ImageDataset)
  }

  public let items: Items

  /// - Parameters:
  ///   - items: the points or images.
  public init(_ items: Items) {
    if case .points(let values, let ambientSize) = items {
      precondition(
        ambientSize >= 1 && values.count % ambientSize == 0,
        "RectangularTrainingSet: \(values.count) values are not whole points of \(ambientSize) coordinates")
    }
    self.items = items
  }

  /// `count` points drawn from a synthetic manifold's distribution.
  /// - Parameters:
  ///   - dataset: the manifold.
  ///   - count: ≥ 0.
  ///   - generator: draws the points (as ``ManifoldDistribution/sample(count:as:using:)`` does).
  public static func sampling(
    _ dataset: ManifoldDataset, count: Int, using generator: inout SeededGenerator
  ) -> RectangularTrainingSet {
    precondition(count >= 0, "RectangularTrainingSet.sampling: count \(count) is negative")
    let truth = dataset.distribution
    let points = truth.samplePoints(count: count, using: &generator)
    return RectangularTrainingSet(.points(values: points.flatMap { $0 }, ambientSize: truth.ambientSize))
  }

  /// The items' dimension D.
  public var ambientSize: Int {
    switch items {
    case .points(_, let ambientSize): return ambientSize
    case .images(let images): return images.imageSize
    }
  }

  public var count: Int {
    switch items {
    case .points(let values, let ambientSize): return values.count / ambientSize
    case .images(let images): return images.count
    }
  }

  public func prefix(_ count: Int) -> RectangularTrainingSet {
    let kept = Swift.max(0, Swift.min(count, self.count))
    switch items {
    case .points(let values, let ambientSize):
      return RectangularTrainingSet(.points(values: Array(values.prefix(kept * ambientSize)), ambientSize: ambientSize))
    case .images(let images):
      return RectangularTrainingSet(.images(images.subset(0..<kept)))
    }
  }

  /// The items `indices` as model inputs.
  /// - Parameters:
  ///   - indices: each in `0..<count`.
  ///   - generator: draws the dequantization noise of images (unused for points).
  /// - Returns: `[indices.count, D]`.
  public func batch<Scalar: TensorScalar>(
    _ indices: [Int], as _: Scalar.Type = Scalar.self, using generator: inout SeededGenerator
  ) -> Tensor<Scalar> {
    switch items {
    case .points(let values, let ambientSize):
      var scalars: [Scalar] = []
      scalars.reserveCapacity(indices.count * ambientSize)
      for index in indices {
        precondition(index >= 0 && index < count, "RectangularTrainingSet.batch: index \(index) not in 0..<\(count)")
        for coordinate in 0..<ambientSize { scalars.append(Scalar(values[index * ambientSize + coordinate])) }
      }
      return Tensor(shape: [indices.count, ambientSize], scalars: scalars)
    case .images(let images):
      return centeredDequantized(images.batch(indices, as: Scalar.self).images, using: &generator)
    }
  }
}

/// A ``RealNVPRectangularFlow`` with its training objective, as a
/// ``TrainableModel`` for ``Trainer`` (`flows train rectangular`).
///
/// The loss on a batch is the objective of ``RectangularFlow/loss(on:objective:step:using:)``
/// (for the stochastic estimator a surrogate whose value only trends like
/// the negative log-likelihood); the evaluation is the held-out −log p(x)
/// in nats by the exact estimator.
///
/// The likelihood weight's warm-up needs the step, which the ``Trainer``
/// does not hand to the loss: the model counts its loss evaluations
/// (one per training step), and the count is part of
/// ``configurationJSON``, so a run resumed from a checkpoint continues the
/// ramp where it stopped. Copies of a model share the count.
public struct RectangularFlowModel<Scalar: TensorScalar>: TrainableModel {
  public typealias Dataset = RectangularTrainingSet

  /// The flow being trained.
  public var flow: RealNVPRectangularFlow<Scalar>
  /// The flow's architecture.
  public let configuration: RectangularFlowConfiguration
  /// The estimator, β and the likelihood warm-up.
  public let objective: RectangularFlowObjective
  /// No data-dependent initialisation: always `true` unless set otherwise.
  public var isPrepared = true
  private let counter: StepCounter

  /// A model at the initial parameters of `configuration`.
  /// - Parameters:
  ///   - configuration: the RealNVP rectangular flow.
  ///   - objective: how it is trained.
  ///   - step: loss evaluations already made (the warm-up's position), ≥ 0.
  public init(configuration: RectangularFlowConfiguration, objective: RectangularFlowObjective, step: Int = 0) {
    precondition(step >= 0, "RectangularFlowModel: step \(step) is negative")
    self.flow = RealNVPRectangularFlow<Scalar>(configuration: configuration)
    self.configuration = configuration
    self.objective = objective
    self.counter = StepCounter(value: step)
  }

  /// The loss evaluations (training steps) made so far.
  public var step: Int { counter.value }

  public static var modelName: String { "rectangular" }
  public static var metricName: String { "nats" }
  public static var metricKey: String { "nll" }

  private struct Stored: Codable {
    var configuration: RectangularFlowConfiguration
    var objective: RectangularFlowObjective
    var step: Int
  }

  /// `{"configuration": …, "objective": …, "step": N}`, keys sorted.
  public var configurationJSON: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // Numbers, strings and arrays only: encoding cannot fail.
    let data = try! encoder.encode(Stored(configuration: configuration, objective: objective, step: step))
    return String(decoding: data, as: UTF8.self)
  }

  public init(configurationJSON: String) throws {
    let stored = try JSONDecoder().decode(Stored.self, from: Data(configurationJSON.utf8))
    guard stored.step >= 0 else {
      throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "step \(stored.step) is negative"))
    }
    self.init(configuration: stored.configuration, objective: stored.objective, step: stored.step)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    flow.visitParameters(with: visitor)
  }

  public mutating func prepare(on batch: [Int], of dataset: RectangularTrainingSet, using generator: inout SeededGenerator) {
    isPrepared = true
  }

  /// The objective on the items `batch`; counts one step of the warm-up.
  /// - Returns: rank 0; NaN when the exact estimator's JᵀJ stayed singular
  ///   after every jitter retry (the ``Trainer`` then stops as diverged).
  public func loss(
    on batch: [Int], of dataset: RectangularTrainingSet, using generator: inout SeededGenerator
  ) -> Tensor<Scalar> {
    checkDimension(of: dataset, operation: "RectangularFlowModel.loss")
    let x = dataset.batch(batch, as: Scalar.self, using: &generator)
    let step = counter.value
    counter.value += 1
    do {
      return try flow.loss(on: x, objective: objective, step: step, using: &generator).value
    } catch {
      return Tensor(Scalar.nan)
    }
  }

  /// The mean held-out −log p(x) in nats, by the exact estimator; NaN when
  /// a log-determinant cannot be computed.
  public func evaluate(on dataset: RectangularTrainingSet, batchSize: Int, using generator: inout SeededGenerator) -> Double {
    (try? evaluation(on: dataset, batchSize: batchSize, using: &generator).negativeLogLikelihood) ?? .nan
  }

  /// Mean −log p(x) (nats) and mean ‖x − g(g†(x))‖² over `dataset`, by the
  /// exact estimator, without recording.
  /// - Parameters:
  ///   - batchSize: items per pass, ≥ 1 (bounds the memory of the d tangents).
  ///   - generator: the dequantization noise of images.
  /// - Throws: what ``RectangularFlow/evaluate(_:)`` throws.
  public func evaluation(
    on dataset: RectangularTrainingSet, batchSize: Int, using generator: inout SeededGenerator
  ) throws -> RectangularFlowEvaluation {
    precondition(batchSize >= 1, "RectangularFlowModel.evaluation: batch size \(batchSize) must be ≥ 1")
    checkDimension(of: dataset, operation: "RectangularFlowModel.evaluation")
    guard dataset.count > 0 else { return RectangularFlowEvaluation(negativeLogLikelihood: .nan, reconstructionError: .nan) }
    var negativeLogLikelihood = 0.0
    var reconstructionError = 0.0
    var start = 0
    while start < dataset.count {
      let end = Swift.min(start + batchSize, dataset.count)
      let x = dataset.batch(Array(start..<end), as: Scalar.self, using: &generator)
      let chunk = try flow.evaluate(x)
      negativeLogLikelihood += chunk.negativeLogLikelihood * Double(end - start)
      reconstructionError += chunk.reconstructionError * Double(end - start)
      start = end
    }
    return RectangularFlowEvaluation(
      negativeLogLikelihood: negativeLogLikelihood / Double(dataset.count),
      reconstructionError: reconstructionError / Double(dataset.count))
  }

  /// ``evaluation(on:batchSize:using:)`` as a ``Trainer`` evaluates: batches
  /// of ``TrainingConfiguration/evaluationBatchSize``, noise from
  /// ``TrainingConfiguration/evaluationSeed``, so the NLL is the run's test figure.
  public func evaluation(
    on dataset: RectangularTrainingSet, following configuration: TrainingConfiguration
  ) throws -> RectangularFlowEvaluation {
    var generator = SeededGenerator(seed: configuration.evaluationSeed)
    return try evaluation(on: dataset, batchSize: configuration.evaluationBatchSize, using: &generator)
  }

  /// The learned density against a synthetic manifold's true one, by
  /// quadrature (``RectangularFlow/compareDensity(with:resolution:chunkSize:)``).
  /// - Parameters:
  ///   - resolution: `nil` for 512 nodes on the circle, 48 polar angles on the sphere.
  public func compareDensity(with dataset: ManifoldDataset, resolution: Int? = nil) throws -> ManifoldDensityComparison {
    try flow.compareDensity(with: dataset.distribution, resolution: resolution ?? (dataset == .circle ? 512 : 48))
  }

  /// The true and learned densities on a grid of the manifold, for ``DensityPlot``.
  /// - Parameters:
  ///   - resolution: `nil` for 256 points on the circle, 32 polar angles on the sphere.
  public func densityFigure(of dataset: ManifoldDataset, resolution: Int? = nil) throws -> ManifoldDensityFigure {
    let truth = dataset.distribution
    let chart = truth.chart(resolution: resolution ?? (dataset == .circle ? 256 : 32))
    return ManifoldDensityFigure(
      chart: chart, trueLogDensity: chart.points.map { truth.logDensity(at: $0) },
      learnedLogDensity: try flow.logDensities(atPoints: chart.points))
  }

  private func checkDimension(of dataset: RectangularTrainingSet, operation: String) {
    precondition(
      dataset.ambientSize == configuration.ambientSize,
      "\(operation): items of \(dataset.ambientSize) values, the model has D = \(configuration.ambientSize)")
  }
}

/// The loss evaluations of a ``RectangularFlowModel``: a reference so that
/// the non-mutating loss can count them.
private final class StepCounter: @unchecked Sendable {
  var value: Int
  init(value: Int) { self.value = value }
}
