import FlowLayers
import FlowTensor

/// CDFlow (Feng & Liao, NeurIPS 2025, §2.1): a Glow-style multi-scale flow
/// on 8-bit images whose 1×1 channel mixer is a choice (``CDFlowMixer``):
/// the circulant-diagonal convolution of CDFlow, Glow's LU convolution, a
/// dense one, or RealNVP's channel reversal.
///
/// Preprocessing (Glow's): x = (pixel + u)/256 − ½ with u ~ U[0, 1) per
/// pixel (``FlowLayers/UniformDequantization``, centred). The transform
/// then runs L levels; each squeezes 2×2, runs K steps (ActNorm → mixer →
/// affine coupling whose ``GlowConditioner`` reads one channel half), and
/// all but the last factor half of the channels out through a split
/// (``FlowLayers/MultiScale``, ``FlowLayers/MultiScaleSplit``, learned
/// Gaussian prior or N(0, I)). Every level maps its input's shape to
/// itself, so the latent has the image's shape and a ``StandardNormal``
/// over `[channels, height, width]` is the base.
///
/// Likelihoods are of the continuous density of the scaled data x (nats);
/// ``bitsPerDimension(pixels:using:)`` adds the dequantisation's D·log 256
/// (``FlowLayers/bitsPerDimension(negativeLogLikelihood:dimensions:bits:)``).
///
/// Parameters: `transform.…`, the names ``FlowLayers/Chain`` and
/// ``FlowLayers/MultiScale`` give, e.g.
/// `transform.layers.1.layers.2.conditioner.input.filter` (level 0, step 0,
/// coupling) and `transform.layers.<K + 1>.inner.…` (level 1); stable for a
/// configuration.
public struct CDFlow<Scalar: TensorScalar>: Layer {
  /// The architecture and initial seed.
  public let configuration: CDFlowConfiguration
  /// The bijection from scaled images to the latent, `[batch, c, h, w]` to itself.
  public var transform: Chain<Scalar>
  /// N(0, I) over `[channels, height, width]`.
  public let base: StandardNormal<Scalar>
  /// x = (pixel + u)/256 − ½.
  public let dequantization = UniformDequantization(bits: 8, centred: true)
  /// Whether ActNorm's data-dependent initialisation has run. Set it after
  /// loading parameters from a checkpoint, so that
  /// ``initialize(from:using:)`` keeps them.
  public var isInitialized = false

  /// A model with parameters drawn from `SeededGenerator(seed: configuration.seed)`:
  /// ActNorms the identity (until ``initialize(from:using:)``), mixers
  /// random orthogonal (or the reversal), conditioners' last convolutions
  /// and learned split priors zero.
  /// - Parameters:
  ///   - configuration: valid (``CDFlowConfiguration/problem`` is `nil`).
  /// - Complexity: O(levels·steps·(hidden² + hidden·channels)) plus the
  ///   mixers' initialisation (O(c³) for LU and dense).
  public init(configuration: CDFlowConfiguration) {
    if let problem = configuration.problem { preconditionFailure("CDFlow(configuration:): \(problem)") }
    self.configuration = configuration
    var generator = SeededGenerator(seed: configuration.seed)
    transform = Self.level(0, channels: configuration.channels, configuration: configuration, using: &generator)
    base = StandardNormal(eventShape: configuration.imageShape)
  }

  /// D, the scalars per image (channels·height·width).
  public var dimensions: Int { configuration.imageShape.reduce(1, *) }

  /// x = (pixel + u)/256 − ½, one u per pixel drawn from `generator`.
  /// - Parameters:
  ///   - pixels: `[batch, channels, height, width]`, integers in 0...255.
  /// - Returns: `pixels`' shape, in [−½, ½).
  public func dequantize(pixels: Tensor<Scalar>, using generator: inout SeededGenerator) -> Tensor<Scalar> {
    checkImages(pixels, operation: "CDFlow.dequantize")
    return dequantization.dequantize(pixels, using: &generator)
  }

  /// log p(x) of the continuous density, per image, natural log.
  /// - Parameters:
  ///   - x: scaled images `[batch, channels, height, width]`.
  /// - Returns: `[batch]`; differentiable in `x` and the parameters.
  /// - Complexity: one forward pass of the transform.
  public func logProbability(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    checkImages(x, operation: "CDFlow.logProbability")
    let (z, logDeterminant) = transform.forward(x)
    return base.logProbability(z) + logDeterminant
  }

  /// −log p(x) averaged over the batch, in nats: the training loss on
  /// already dequantised images.
  /// - Parameters:
  ///   - x: scaled images `[batch, channels, height, width]`, batch ≥ 1.
  /// - Returns: rank 0, differentiable.
  public func negativeLogLikelihood(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    -logProbability(x).mean()
  }

  /// Dequantises `pixels` and returns −log p(x) averaged over the batch, in
  /// nats of the continuous density of the scaled data x.
  /// - Parameters:
  ///   - pixels: `[batch, channels, height, width]`, integers in 0...255, batch ≥ 1.
  ///   - generator: the dequantisation noise.
  /// - Returns: rank 0, differentiable in the parameters.
  /// - Complexity: one forward pass of the transform.
  public func negativeLogLikelihood(pixels: Tensor<Scalar>, using generator: inout SeededGenerator) -> Tensor<Scalar> {
    negativeLogLikelihood(dequantize(pixels: pixels, using: &generator))
  }

  /// Bits per dimension of the 8-bit images: (NLL + D·log 256)/(D·log 2),
  /// the NLL as ``negativeLogLikelihood(pixels:using:)`` (a mean over the batch).
  /// - Returns: rank 0, differentiable in the parameters.
  public func bitsPerDimension(pixels: Tensor<Scalar>, using generator: inout SeededGenerator) -> Tensor<Scalar> {
    bitsPerDimension(negativeLogLikelihood: negativeLogLikelihood(pixels: pixels, using: &generator))
  }

  /// Bits per dimension from a mean NLL in nats of the scaled data.
  public func bitsPerDimension(negativeLogLikelihood: Tensor<Scalar>) -> Tensor<Scalar> {
    dequantization.bitsPerDimension(negativeLogLikelihood: negativeLogLikelihood, dimensions: dimensions)
  }

  /// `count` samples: z ~ N(0, temperature²·I), mapped back through the inverse transform.
  /// - Parameters:
  ///   - count: ≥ 0.
  ///   - temperature: ≥ 0; 1 samples the model, less trades diversity for quality (Glow §5).
  ///   - generator: the base noise.
  /// - Returns: `[count, channels, height, width]` in the scaled data
  ///   space, mostly in [−½, ½) but not clipped; ``pixels(from:)`` turns
  ///   them into 0...255.
  /// - Complexity: one inverse pass of the transform.
  public func sample(count: Int, temperature: Double = 1, using generator: inout SeededGenerator) -> Tensor<Scalar> {
    precondition(count >= 0, "CDFlow.sample: count \(count) is negative")
    precondition(
      temperature >= 0 && temperature.isFinite, "CDFlow.sample: temperature \(temperature) must be finite and ≥ 0")
    let z = base.sample(count: count, using: &generator) * Scalar(temperature)
    return transform.inverse(z).output
  }

  /// Scaled images (as ``sample(count:temperature:using:)`` returns) as
  /// pixel values 0...255: ⌊256·(x + ½)⌋, clamped. Not differentiable.
  public func pixels(from x: Tensor<Scalar>) -> Tensor<Scalar> {
    dequantization.quantize(x)
  }

  /// ActNorm's data-dependent initialisation (Glow §3.1) from one
  /// dequantised batch; does nothing once ``isInitialized`` is set.
  /// - Parameters:
  ///   - pixels: `[batch, channels, height, width]`, integers in 0...255;
  ///     a batch large enough for channel statistics (Glow uses a few hundred images).
  ///   - generator: the dequantisation noise.
  public mutating func initialize(from pixels: Tensor<Scalar>, using generator: inout SeededGenerator) {
    guard !isInitialized else { return }
    let x = dequantize(pixels: pixels, using: &generator)
    _ = withoutRecording { transform.initialize(from: x) }
    isInitialized = true
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("transform", &transform)
  }

  private func checkImages(_ x: Tensor<Scalar>, operation: String) {
    precondition(
      x.rank == 4 && Array(x.shape.dropFirst()) == configuration.imageShape,
      "\(operation): input \(x.shape) is not [batch] + \(configuration.imageShape)")
  }
}
