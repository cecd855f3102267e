import FlowTensor

/// ½ log(2π), the log normaliser of the normal density.
let halfLogTwoPi = 0.9189385332046728

/// A shared Gaussian mixture over a token's channels, Σ_k π_k N(μ_k, σ_k² I),
/// applied as a Mixture-Rosenblatt flow (TarFlowLM, arXiv 2507.00425,
/// Alg. 1): channel by channel, u_i = Φ⁻¹(Σ_k α_k⁽ⁱ⁾ Φ((z_i − μ_{k,i})/σ_k)),
/// with α⁽ⁱ⁾ the posterior over components given z_<i, α_k⁽ⁱ⁺¹⁾ ∝ α_k⁽ⁱ⁾ N(z_i; μ_{k,i}, σ_k²).
/// Its log-determinant is log p_mix(z) − log N(u; 0, I).
///
/// The means and log-scales are the codebook; the weights π come per
/// token from the caller (the transformer). Parameters: `means`
/// `[components, channels]` and `logScales` `[components]`, unless tied.
public struct RosenblattMixture<Scalar: TensorScalar>: Layer {
  public var means: Tensor<Scalar>
  public var logScales: Tensor<Scalar>
  /// Whether the means and log-scales belong to someone else (an encoder's
  /// codebook): then they are not visited as parameters here, and the
  /// owner sets them before each use so that gradients reach it.
  public var isTied: Bool

  /// A codebook of standard-normal means and unit scales.
  /// - Parameters:
  ///   - components, channels: ≥ 1.
  ///   - generator: the seeded source of the means.
  public init(components: Int, channels: Int, using generator: inout SeededGenerator) {
    precondition(
      components >= 1 && channels >= 1,
      "RosenblattMixture(components: \(components), channels: \(channels)): both must be ≥ 1")
    means = Tensor.randomNormal(shape: [components, channels], using: &generator)
    logScales = Tensor.zeros(shape: [components])
    isTied = false
  }

  /// A mixture over the given codebook.
  /// - Parameters:
  ///   - means: `[components, channels]`.
  ///   - logScales: `[components]`, log σ_k.
  ///   - isTied: the codebook is another layer's parameter (not visited here).
  public init(means: Tensor<Scalar>, logScales: Tensor<Scalar>, isTied: Bool = false) {
    precondition(
      means.rank == 2 && logScales.shape == [means.shape[0]],
      "RosenblattMixture(means: \(means.shape), logScales: \(logScales.shape)): need [components, channels] and [components]")
    self.means = means
    self.logScales = logScales
    self.isTied = isTied
  }

  public var components: Int { means.shape[0] }
  public var channels: Int { means.shape[1] }

  /// The flow of each token.
  /// - Parameters:
  ///   - z: `[tokens, channels]`.
  ///   - logits: `[tokens, components]`, the unnormalised log prior weights π.
  /// - Returns: `output` u `[tokens, channels]` and `logDerivative`
  ///   `[tokens, channels]`, whose sum over channels is log|det ∂u/∂z|.
  /// - Complexity: O(tokens·channels·components), every channel at once
  ///   (the Bayes updates are one fused op, ``mixturePosteriorLogits(_:logits:means:logScales:)``).
  public func forward(_ z: Tensor<Scalar>, logits: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDerivative: Tensor<Scalar>) {
    checkShapes(z, logits, operation: "forward")
    // Channel i's weights: the prior times the likelihoods of channels < i.
    let posterior = mixturePosteriorLogits(z, logits: logits, means: means, logScales: logScales)
    return mixtureCDFTransform(z, logits: posterior, means: means.transposed(), logScales: logScales)
  }

  /// The inverse of ``forward(_:logits:)``, channel by channel.
  /// - Parameters:
  ///   - u: `[tokens, channels]`.
  ///   - logits: `[tokens, components]`.
  /// - Returns: `output` z `[tokens, channels]` and the forward's `logDerivative` at z.
  /// - Complexity: `channels` sequential solves of O(tokens·components·iterations).
  public func inverse(_ u: Tensor<Scalar>, logits: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDerivative: Tensor<Scalar>) {
    checkShapes(u, logits, operation: "inverse")
    let tokens = u.shape[0]
    let columnMeans = means.transposed()
    var posterior = logits
    var columns: [Tensor<Scalar>] = []
    var logDerivatives: [Tensor<Scalar>] = []
    for channel in 0..<channels {
      let channelMeans = columnMeans.sliced(alongAxis: 0, from: channel, to: channel + 1).reshaped(to: [components])
      let (column, logDerivative) = inverseMixtureCDFTransform(
        u.sliced(alongAxis: 1, from: channel, to: channel + 1).reshaped(to: [tokens]),
        logits: posterior, means: channelMeans, logScales: logScales)
      columns.append(column.expandingShape(at: 1))
      logDerivatives.append(logDerivative.expandingShape(at: 1))
      if channel + 1 < channels {
        posterior = posterior + componentLogDensities(column.expandingShape(at: 1), means: channelMeans)
      }
    }
    return (Tensor(concatenating: columns, alongAxis: 1), Tensor(concatenating: logDerivatives, alongAxis: 1))
  }

  /// log N(z; μ, σ_k²) for every component, `z` `[..., 1]` against means `[..., components]`.
  private func componentLogDensities(_ z: Tensor<Scalar>, means: Tensor<Scalar>) -> Tensor<Scalar> {
    let standardized = (z - means) * exp(-logScales)
    return square(standardized) * Scalar(-0.5) - logScales - Scalar(halfLogTwoPi)
  }

  private func checkShapes(_ z: Tensor<Scalar>, _ logits: Tensor<Scalar>, operation: String) {
    precondition(
      z.rank == 2 && z.shape[1] == channels && logits.shape == [z.shape[0], components],
      "RosenblattMixture.\(operation): input \(z.shape) and logits \(logits.shape) are not [tokens, \(channels)] and [tokens, \(components)]"
    )
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    guard !isTied else { return }
    visitor.visit("means", &means)
    visitor.visit("logScales", &logScales)
  }
}
