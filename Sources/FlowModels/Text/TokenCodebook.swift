import FlowTensor

/// TarFlowLM's token encoder and decoder: one isotropic Gaussian per token
/// in a latent space of width d (Zhang et al., "Flexible Language Modeling
/// in Continuous Space with Transformer-based Autoregressive Flows",
/// arXiv 2507.00425, §3.1).
///
/// The encoder is q(z | x = k) = N(z; μ_k, σ_k² I); the decoder is tied to
/// it by Bayes' rule, p(x = k | z) = π_k N(z; μ_k, σ_k² I) / Σ_j π_j N(z; μ_j, σ_j² I),
/// with π uniform (the paper) or learned. Parameters: `means` `[V, d]`,
/// `logScales` `[V]` (log σ_k, so any value is a valid scale), and, when the
/// token prior is learned, `tokenLogits` `[V]` (π = softmax).
///
/// The ELBO and the importance-weighted bound that combine this with a
/// prior over latent sequences are in `TokenCodebook+Bound.swift`.
public struct TokenCodebook<Scalar: TensorScalar>: Layer {
  /// μ_k, `[vocabularySize, latentDimension]`.
  public var means: Tensor<Scalar>
  /// log σ_k, `[vocabularySize]`.
  public var logScales: Tensor<Scalar>
  /// The token prior's logits, `[vocabularySize]`; zeros and not a
  /// parameter unless ``learnsTokenPrior``.
  public var tokenLogits: Tensor<Scalar>
  /// Whether π is learned (and `tokenLogits` visited as a parameter).
  public let learnsTokenPrior: Bool

  /// V, the number of tokens.
  public var vocabularySize: Int { means.shape[0] }
  /// d, the latent width.
  public var latentDimension: Int { means.shape[1] }

  /// A codebook with the given parameters.
  /// - Parameters:
  ///   - means: `[V, d]`, V ≥ 1, d ≥ 1.
  ///   - logScales: `[V]`.
  ///   - tokenLogits: `[V]` for a learned token prior, `nil` for a uniform one.
  public init(means: Tensor<Scalar>, logScales: Tensor<Scalar>, tokenLogits: Tensor<Scalar>? = nil) {
    precondition(means.rank == 2 && means.shape[0] >= 1 && means.shape[1] >= 1,
      "TokenCodebook: means of shape \(means.shape) must be [vocabularySize ≥ 1, latentDimension ≥ 1]")
    precondition(logScales.shape == [means.shape[0]],
      "TokenCodebook: logScales of shape \(logScales.shape) for means \(means.shape); expected [\(means.shape[0])]")
    if let tokenLogits {
      precondition(tokenLogits.shape == [means.shape[0]],
        "TokenCodebook: tokenLogits of shape \(tokenLogits.shape) for means \(means.shape); expected [\(means.shape[0])]")
    }
    self.means = means
    self.logScales = logScales
    self.tokenLogits = tokenLogits ?? Tensor.zeros(shape: [means.shape[0]])
    learnsTokenPrior = tokenLogits != nil
  }

  /// A codebook at random initial parameters: means standard normal, every
  /// scale `initialScale`, a uniform token prior.
  /// - Parameters:
  ///   - vocabularySize: V, 27 for characters. Precondition: positive.
  ///   - latentDimension: d (5 for text8 in the paper). Precondition: positive.
  ///   - initialScale: σ at the start. Precondition: positive.
  ///   - learnsTokenPrior: learn π (starting uniform) instead of fixing it.
  public init(
    vocabularySize: Int = CharacterVocabulary.size, latentDimension: Int, initialScale: Scalar = 0.5,
    learnsTokenPrior: Bool = false, using generator: inout SeededGenerator
  ) {
    precondition(vocabularySize > 0 && latentDimension > 0,
      "TokenCodebook: vocabulary size \(vocabularySize) and latent dimension \(latentDimension) must be positive")
    precondition(initialScale > 0, "TokenCodebook: initial scale \(initialScale) must be positive")
    self.init(
      means: Tensor.randomNormal(shape: [vocabularySize, latentDimension], using: &generator),
      logScales: Tensor.full(Scalar.log(initialScale), shape: [vocabularySize]),
      tokenLogits: learnsTokenPrior ? Tensor.zeros(shape: [vocabularySize]) : nil)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("means", &means)
    visitor.visit("logScales", &logScales)
    if learnsTokenPrior { visitor.visit("tokenLogits", &tokenLogits) }
  }

  // MARK: Encoder

  /// μ_x for every token of `tokens`.
  /// - Parameters:
  ///   - tokens: any shape, each in `0..<vocabularySize`.
  /// - Returns: `[tokens.shape..., d]`.
  public func encoderMeans(for tokens: IndexTensor) -> Tensor<Scalar> {
    means.gathering(atIndices: tokens.indices, alongAxis: 0).reshaped(to: tokens.shape + [latentDimension])
  }

  /// log σ_x for every token of `tokens`.
  /// - Returns: `[tokens.shape..., 1]`, to broadcast against latents.
  public func encoderLogScales(for tokens: IndexTensor) -> Tensor<Scalar> {
    logScales.reshaped(to: [vocabularySize, 1]).gathering(atIndices: tokens.indices, alongAxis: 0)
      .reshaped(to: tokens.shape + [1])
  }

  /// z = μ_x + σ_x ε, the reparameterised encoder sample for given noise.
  /// - Parameters:
  ///   - tokens: any shape.
  ///   - noise: ε, `[tokens.shape..., d]`, standard normal.
  /// - Returns: `[tokens.shape..., d]`, differentiable in the parameters.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func latents(for tokens: IndexTensor, noise: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(noise.shape == tokens.shape + [latentDimension],
      "TokenCodebook.latents: noise of shape \(noise.shape) for tokens \(tokens.shape); expected \(tokens.shape + [latentDimension])")
    return encoderMeans(for: tokens) + exp(encoderLogScales(for: tokens)) * noise
  }

  /// Standard normal noise ε for ``latents(for:noise:)``, drawn from `generator`.
  /// - Returns: `[tokens.shape..., d]`.
  public func noise(for tokens: IndexTensor, using generator: inout SeededGenerator) -> Tensor<Scalar> {
    Tensor.randomNormal(shape: tokens.shape + [latentDimension], using: &generator)
  }

  /// log q(z_t | x_t) for every position, in nats:
  /// −½ ‖(z − μ_x)/σ_x‖² − d log σ_x − (d/2) log 2π.
  /// - Parameters:
  ///   - latents: `[tokens.shape..., d]`.
  /// - Returns: `tokens.shape`.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func encoderLogDensity(of latents: Tensor<Scalar>, given tokens: IndexTensor) -> Tensor<Scalar> {
    precondition(latents.shape == tokens.shape + [latentDimension],
      "TokenCodebook.encoderLogDensity: latents of shape \(latents.shape) for tokens \(tokens.shape)")
    let logScale = encoderLogScales(for: tokens)
    let standardized = (latents - encoderMeans(for: tokens)) * exp(-logScale)
    let dimension = Scalar(latentDimension)
    return -0.5 * square(standardized).sum(alongAxes: [-1])
      - dimension * logScale.squeezingShape(at: [-1])
      - dimension / 2 * Scalar.log(2 * Scalar.pi)
  }

  /// The encoder's exact entropy per position, −E_q[log q(z_t | x_t)] =
  /// (d/2)(1 + log 2π) + d log σ_x, in nats (a Gaussian's entropy, so the
  /// ELBO's entropy term carries no sampling noise).
  /// - Returns: `tokens.shape`.
  public func encoderEntropy(for tokens: IndexTensor) -> Tensor<Scalar> {
    let dimension = Scalar(latentDimension)
    return dimension * encoderLogScales(for: tokens).squeezingShape(at: [-1])
      + dimension / 2 * (1 + Scalar.log(2 * Scalar.pi))
  }

  // MARK: Decoder

  /// log p(x = k | z) for every token k at every position, by Bayes' rule
  /// over the codebook: a log-softmax over k of log π_k + log N(z; μ_k, σ_k² I).
  /// - Parameters:
  ///   - latents: `[..., d]`.
  /// - Returns: `[..., V]`; each slice's exponentials sum to 1.
  /// - Complexity: O(positions × V × d).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func tokenLogProbabilities(given latents: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(latents.rank >= 1 && latents.shape[latents.rank - 1] == latentDimension,
      "TokenCodebook.tokenLogProbabilities: latents of shape \(latents.shape); the last axis must be \(latentDimension)")
    // log N(z; μ_k, σ_k² I) up to the constant −(d/2) log 2π, which the
    // softmax cancels; from the differences, so a latent near its mean
    // keeps its precision.
    var scores = codebookLogDensities(latents, means: means, logScales: logScales)
    if learnsTokenPrior { scores = scores + logSoftmax(tokenLogits) }
    return logSoftmax(scores, alongAxis: -1)
  }

  /// log p(x_t | z_t) for each position, in nats.
  /// - Parameters:
  ///   - tokens: any shape.
  ///   - latents: `[tokens.shape..., d]`.
  /// - Returns: `tokens.shape`.
  public func decoderLogLikelihood(of tokens: IndexTensor, given latents: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(latents.shape == tokens.shape + [latentDimension],
      "TokenCodebook.decoderLogLikelihood: latents of shape \(latents.shape) for tokens \(tokens.shape)")
    let picked = IndexTensor(shape: tokens.shape + [1], indices: tokens.indices)
    return tokenLogProbabilities(given: latents).gathering(indices: picked, alongAxis: -1)
      .squeezingShape(at: [-1])
  }

  /// The most probable token at every position (the decoder's argmax), as
  /// generation decodes a latent sequence to text.
  /// - Parameters:
  ///   - latents: `[..., d]`.
  /// - Returns: `[...]`.
  public func mostLikelyTokens(given latents: Tensor<Scalar>) -> IndexTensor {
    withoutRecording { tokenLogProbabilities(given: latents).argmax(alongAxis: -1) }
  }
}
