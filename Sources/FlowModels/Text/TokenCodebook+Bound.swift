import FlowTensor

/// The terms of TarFlowLM's evidence lower bound on a batch of sequences,
/// each per character in nats and averaged over the batch (rank 0,
/// differentiable):
/// ELBO = E_q[log p(x|z)] + E_q[log p(z)] − E_q[log q(z|x)]
/// (arXiv 2507.00425, §3.1 and Eq. 9).
public struct TokenEvidenceBound<Scalar: TensorScalar> {
  /// E_q[log p(x | z)] per character: how well the codebook decodes its
  /// own samples (one sample per position).
  public var reconstruction: Tensor<Scalar>
  /// E_q[log p(z)] per character: the prior's log-density of the sample.
  public var prior: Tensor<Scalar>
  /// −E_q[log q(z | x)] per character, exact (the encoder's Gaussian entropy).
  public var entropy: Tensor<Scalar>
  /// The bound per character for each sequence, `[batch]`.
  public var sequenceBounds: Tensor<Scalar>

  /// The ELBO per character: the sum of the three terms, ≤ log p(x) / L.
  public var evidenceLowerBound: Tensor<Scalar> { reconstruction + prior + entropy }
  /// −ELBO in bits per character: an upper bound on the model's
  /// cross-entropy, the training loss and the reported figure.
  public var bitsPerCharacter: Tensor<Scalar> { -evidenceLowerBound / Scalar.log(2) }

  /// Nats to bits: divides by ln 2.
  public static func bits(fromNats nats: Scalar) -> Scalar { nats / Scalar.log(2) }
}

extension TokenCodebook {
  /// The ELBO of `tokens` with the reparameterised sample z = μ_x + σ_x ε.
  ///
  /// Per sequence, (Σ_t log p(x_t | z_t) + log p(z) + Σ_t H[q(z_t | x_t)]) / L;
  /// the entropy term is exact, the other two single-sample estimates.
  /// - Parameters:
  ///   - tokens: `[batch, length]`, batch ≥ 1, length ≥ 1.
  ///   - noise: ε, `[batch, length, d]`.
  ///   - priorLogDensity: log p(z) in nats, summed over the sequence: takes
  ///     latents `[batch, length, d]` and returns `[batch]` (the flow prior,
  ///     or a Gaussian in tests). Differentiable in whatever it captures.
  /// - Returns: the terms, each differentiable in the codebook's parameters.
  /// - Complexity: O(batch × length × V × d) plus the prior.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func evidenceLowerBound(
    of tokens: IndexTensor, noise: Tensor<Scalar>, priorLogDensity: (Tensor<Scalar>) -> Tensor<Scalar>
  ) -> TokenEvidenceBound<Scalar> {
    let (batch, length) = Self.checkSequences(tokens, operation: "evidenceLowerBound")
    let latents = latents(for: tokens, noise: noise)
    let prior = priorLogDensity(latents)
    precondition(prior.shape == [batch],
      "TokenCodebook.evidenceLowerBound: the prior's log-density has shape \(prior.shape); expected [\(batch)]")
    let characters = Scalar(length)
    let reconstruction = decoderLogLikelihood(of: tokens, given: latents).sum(alongAxes: [1]) / characters
    let entropy = encoderEntropy(for: tokens).sum(alongAxes: [1]) / characters
    let priorPerCharacter = prior / characters
    return TokenEvidenceBound(
      reconstruction: reconstruction.mean(), prior: priorPerCharacter.mean(), entropy: entropy.mean(),
      sequenceBounds: reconstruction + priorPerCharacter + entropy)
  }

  /// The ELBO of `tokens` with fresh noise from `generator`; see
  /// ``evidenceLowerBound(of:noise:priorLogDensity:)``.
  public func evidenceLowerBound(
    of tokens: IndexTensor, using generator: inout SeededGenerator,
    priorLogDensity: (Tensor<Scalar>) -> Tensor<Scalar>
  ) -> TokenEvidenceBound<Scalar> {
    evidenceLowerBound(of: tokens, noise: noise(for: tokens, using: &generator), priorLogDensity: priorLogDensity)
  }

  /// The importance-weighted bound over `samples` draws per sequence
  /// (Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders",
  /// ICLR 2016, Eq. 8), per character:
  /// (1/L) log (1/S) Σ_s p(x | z_s) p(z_s) / q(z_s | x), z_s ~ q(z | x).
  ///
  /// Its expectation is at most log p(x) / L, at least the ELBO's, and
  /// grows with S toward log p(x) / L.
  /// - Parameters:
  ///   - tokens: `[batch, length]`.
  ///   - samples: S. Precondition: positive.
  ///   - priorLogDensity: as for ``evidenceLowerBound(of:noise:priorLogDensity:)``,
  ///     called once on `[samples × batch, length, d]` latents (sample-major).
  /// - Returns: `[batch]`, nats per character; differentiable.
  /// - Complexity: S times that of one ELBO.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func importanceWeightedBound(
    of tokens: IndexTensor, samples: Int, using generator: inout SeededGenerator,
    priorLogDensity: (Tensor<Scalar>) -> Tensor<Scalar>
  ) -> Tensor<Scalar> {
    let (batch, length) = Self.checkSequences(tokens, operation: "importanceWeightedBound")
    precondition(samples > 0, "TokenCodebook.importanceWeightedBound: samples \(samples) must be positive")
    var repeatedIndices: [Int] = []
    repeatedIndices.reserveCapacity(samples * tokens.indices.count)
    for _ in 0..<samples { repeatedIndices.append(contentsOf: tokens.indices) }
    let repeated = IndexTensor(shape: [samples * batch, length], indices: repeatedIndices)
    let latents = latents(for: repeated, noise: noise(for: repeated, using: &generator))
    let prior = priorLogDensity(latents)
    precondition(prior.shape == [samples * batch],
      "TokenCodebook.importanceWeightedBound: the prior's log-density has shape \(prior.shape); expected [\(samples * batch)]")
    let logWeights = decoderLogLikelihood(of: repeated, given: latents).sum(alongAxes: [1]) + prior
      - encoderLogDensity(of: latents, given: repeated).sum(alongAxes: [1])
    let bound = logWeights.reshaped(to: [samples, batch]).logSumExp(alongAxes: [0]) - Scalar.log(Scalar(samples))
    return bound / Scalar(length)
  }

  private static func checkSequences(_ tokens: IndexTensor, operation: String) -> (batch: Int, length: Int) {
    precondition(tokens.rank == 2 && tokens.shape[0] >= 1 && tokens.shape[1] >= 1,
      "TokenCodebook.\(operation): tokens of shape \(tokens.shape); expected [batch ≥ 1, length ≥ 1]")
    return (tokens.shape[0], tokens.shape[1])
  }
}
