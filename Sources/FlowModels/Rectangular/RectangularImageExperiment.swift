import FlowLayers
import FlowTensor
import Foundation

/// A training run of a rectangular flow on images flattened to D = 784
/// (Fashion-MNIST, d = 20 as in Caterini et al. 2021, §5.3).
///
/// **Data.** Pixel bytes b ∈ {0…255} are dequantized and centred:
/// x = (b + u)/256 − ½ with u ~ U[0, 1) drawn afresh for every batch, so
/// x ∈ [−½, ½)^784. The paper's logit transform is not used: it stretches
/// the range to about ±14, where the squared reconstruction error at β = 50
/// dominates every other term of a short run and the flat RealNVP's
/// soft-clamped scales cannot follow. Test figures are on test images
/// dequantized once with the run's seed.
///
/// **Model.** The flat ``RealNVPRectangularFlow``: g = f⁻¹ ∘ pad with f a
/// RealNVP of affine couplings on R^784 (channel-half masks, alternating),
/// and a RealNVP prior on R^20. (The paper's image model is a multiscale
/// RealNVP with ResNet couplers; the flat one keeps the cost of the d = 20
/// tangents visible and runs on a CPU.)
public struct RectangularImageExperimentSettings: Codable, Equatable, Sendable {
  /// The model; `ambientSize` must be the images' pixel count.
  public var configuration: RectangularFlowConfiguration
  public var objective: RectangularFlowObjective
  public var optimization: RectangularOptimization
  public var batchSize: Int
  /// Test images evaluated by the exact estimator at the end (0: none).
  public var testSize: Int
  /// Generated images kept in the result.
  public var sampleCount: Int
  /// Seeds the batches, the dequantization noise, the probes and the samples.
  public var seed: UInt64

  /// - Parameters:
  ///   - estimator: how ½ log det JᵀJ enters training.
  ///   - steps: Adam steps.
  ///   - seed: seeds the run and, when `configuration` is `nil`, the model.
  ///   - latentSize: d (used when `configuration` is `nil`).
  ///   - configuration: the model, `nil` for 4 couplings of one hidden layer
  ///     of 256 in f and 3 couplings of [64, 64] in the prior, on 28×28 images.
  ///   - reconstructionWeight: β (50, as the paper's Fashion-MNIST runs).
  ///   - warmup: the likelihood weight's ramp.
  ///   - batchSize: ≥ 1 (the paper: 50).
  ///   - learningRate, finalLearningRate, maximumGradientNorm: see ``RectangularOptimization``.
  ///   - testSize, sampleCount: ≥ 0.
  public init(
    estimator: RectangularFlowEstimator, steps: Int, seed: UInt64, latentSize: Int = 20,
    configuration: RectangularFlowConfiguration? = nil, reconstructionWeight: Double = 50,
    warmup: LikelihoodWarmup = .none, batchSize: Int = 50, learningRate: Double = 1e-4,
    finalLearningRate: Double? = nil, maximumGradientNorm: Double? = 100, testSize: Int = 500, sampleCount: Int = 16
  ) {
    precondition(batchSize >= 1, "RectangularImageExperimentSettings: batch size \(batchSize) must be positive")
    precondition(
      testSize >= 0 && sampleCount >= 0,
      "RectangularImageExperimentSettings: test size \(testSize) and sample count \(sampleCount) must be ≥ 0")
    self.configuration =
      configuration
      ?? RectangularFlowConfiguration(
        ambientSize: 28 * 28, latentSize: latentSize, couplingLayers: 4, hiddenSizes: [256], priorCouplingLayers: 3,
        priorHiddenSizes: [64, 64], seed: seed)
    self.objective = RectangularFlowObjective(
      estimator: estimator, reconstructionWeight: reconstructionWeight, warmup: warmup)
    self.optimization = RectangularOptimization(
      steps: steps, learningRate: learningRate, finalLearningRate: finalLearningRate,
      maximumGradientNorm: maximumGradientNorm)
    self.batchSize = batchSize
    self.testSize = testSize
    self.sampleCount = sampleCount
    self.seed = seed
  }
}

/// What ``runRectangularImageExperiment(_:training:test:as:)`` measured.
public struct RectangularImageExperimentResult: Codable, Equatable, Sendable {
  public var settings: RectangularImageExperimentSettings
  /// The losses, reconstruction errors, CG iterations and time of training.
  public var training: RectangularTrainingLog
  /// Mean −log p (exact estimator; nats per image, a density on the learned
  /// 20-dimensional manifold, not comparable with a full-dimensional
  /// likelihood) and mean squared reconstruction error per image, on the
  /// test images; `nil` when `testSize` is 0.
  public var test: RectangularFlowEvaluation?
  /// Generated images g(z), z ~ p_Z, as bytes: `sampleCount` images of
  /// `rows × columns` pixels, (x + ½)·255 rounded and clamped.
  public var samples: [UInt8]
  /// The images' height and width.
  public var rows: Int, columns: Int

  /// The samples tiled into one picture.
  public func sampleGrid(columns gridColumns: Int? = nil) -> ImageGrid? {
    guard !samples.isEmpty else { return nil }
    let images = Tensor<Float>(
      shape: [samples.count / (rows * columns), 1, rows, columns], scalars: samples.map { Float($0) })
    return ImageGrid(images: images, columns: gridColumns, range: .bytes)
  }
}

/// Dequantized, centred images: x = (b + u)/256 − ½, u ~ U[0, 1).
/// - Parameters:
///   - images: `[batch, 1, rows, columns]` raw bytes 0…255 (``ImageDataset/batch(_:as:)``).
/// - Returns: `[batch, rows·columns]`.
func centeredDequantized<Scalar: TensorScalar>(
  _ images: Tensor<Scalar>, using generator: inout SeededGenerator
) -> Tensor<Scalar> {
  let batch = images.shape[0]
  let flat = images.reshaped(to: [batch, images.scalarCount / max(1, batch)])
  let noise = Tensor<Scalar>.randomUniform(shape: flat.shape, using: &generator)
  return (flat + noise) / Scalar(256) - Scalar(0.5)
}

/// Trains a ``RealNVPRectangularFlow`` on images (see
/// ``RectangularImageExperimentSettings`` for the data and the model): the
/// one call behind `flows train rectangular --dataset fashion-mnist`.
/// - Parameters:
///   - settings: model, objective, schedule.
///   - training: the training images (batches drawn uniformly with replacement).
///   - test: the test images; the first `testSize` are evaluated.
///   - _: the precision.
/// - Returns: the training log, test figures and samples.
/// - Throws: ``RectangularFlowError`` or ``FlowTensor/LinearAlgebraError``
///   from the exact test evaluation.
/// - Complexity: per step, the estimator's cost on `batchSize` images
///   (exact: one pass of f with d tangents, O(batch·d²·D) for JᵀJ).
public func runRectangularImageExperiment<Scalar: TensorScalar>(
  _ settings: RectangularImageExperimentSettings, training: ImageDataset, test: ImageDataset,
  as _: Scalar.Type = Scalar.self
) throws -> RectangularImageExperimentResult {
  precondition(
    settings.configuration.ambientSize == training.imageSize && training.imageSize == test.imageSize,
    "runRectangularImageExperiment: the model has D = \(settings.configuration.ambientSize), the images \(training.imageSize) and \(test.imageSize) pixels")
  precondition(training.count >= 1, "runRectangularImageExperiment: no training images")
  var generator = SeededGenerator(seed: settings.seed)
  var model = RealNVPRectangularFlow<Scalar>(configuration: settings.configuration)
  let log = model.train(objective: settings.objective, optimization: settings.optimization, using: &generator) {
    generator in
    let indices = (0..<settings.batchSize).map { _ in Int(generator.next(upperBound: UInt64(training.count))) }
    return centeredDequantized(training.batch(indices, as: Scalar.self).images, using: &generator)
  }
  var evaluation: RectangularFlowEvaluation? = nil
  let testCount = min(settings.testSize, test.count)
  if testCount > 0 {
    var testGenerator = SeededGenerator(seed: settings.seed ^ 0x7465_7374)
    let images = centeredDequantized(test.batch(Array(0..<testCount), as: Scalar.self).images, using: &testGenerator)
    // Evaluate in chunks: the exact estimator holds d tangents per image.
    var negativeLogLikelihood = 0.0
    var reconstructionError = 0.0
    var start = 0
    while start < testCount {
      let end = min(start + 100, testCount)
      let chunk = try model.evaluate(images.sliced(alongAxis: 0, from: start, to: end))
      negativeLogLikelihood += chunk.negativeLogLikelihood * Double(end - start)
      reconstructionError += chunk.reconstructionError * Double(end - start)
      start = end
    }
    evaluation = RectangularFlowEvaluation(
      negativeLogLikelihood: negativeLogLikelihood / Double(testCount),
      reconstructionError: reconstructionError / Double(testCount))
  }
  var samples: [UInt8] = []
  if settings.sampleCount > 0 {
    let generated = withoutRecording { model.sample(count: settings.sampleCount, using: &generator) }
    samples = generated.scalars.map { value in
      let byte = ((Double(value) + 0.5) * 255).rounded()
      return byte.isNaN ? 0 : UInt8(min(255, max(0, byte)))
    }
  }
  return RectangularImageExperimentResult(
    settings: settings, training: log, test: evaluation, samples: samples, rows: training.shape[2],
    columns: training.shape[3])
}

/// ``runRectangularImageExperiment(_:training:test:as:)`` on Fashion-MNIST
/// read from `directory`: the first `trainingSize` training images (all
/// when `nil`) and the test split.
/// - Parameters:
///   - settings: model, objective, schedule.
///   - directory: holds the four gzipped IDX files (Debian's `dataset-fashion-mnist` by default).
///   - trainingSize: ≥ 1, or `nil` for all 60 000.
///   - _: the precision.
/// - Throws: ``DatasetError`` when the files cannot be read, else what the run throws.
public func runFashionMNISTRectangularExperiment<Scalar: TensorScalar>(
  _ settings: RectangularImageExperimentSettings,
  directory: URL = ImageDataset.defaultFashionMNISTDirectory, trainingSize: Int? = nil,
  as _: Scalar.Type = Scalar.self
) throws -> RectangularImageExperimentResult {
  var training = try ImageDataset.fashionMNIST(split: .train, directory: directory)
  if let trainingSize {
    precondition(trainingSize >= 1, "runFashionMNISTRectangularExperiment: training size \(trainingSize) must be positive")
    training = training.subset(0..<min(trainingSize, training.count))
  }
  let test = try ImageDataset.fashionMNIST(split: .test, directory: directory)
  return try runRectangularImageExperiment(settings, training: training, test: test, as: Scalar.self)
}
