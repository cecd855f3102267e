import FlowTensor

/// One pre-LayerNorm transformer layer (GPT-2, TarFlow's `AttentionBlock`):
/// x + attention(norm(x)), then x + feedForward(norm(x)).
///
/// Parameters: `attentionNorm.*`, `attention.*`, `feedForwardNorm.*`, `feedForward.*`.
public struct TransformerLayer<Scalar: TensorScalar>: Layer {
  public var attentionNorm: LayerNorm<Scalar>
  public var attention: CausalSelfAttention<Scalar>
  public var feedForwardNorm: LayerNorm<Scalar>
  public var feedForward: FeedForward<Scalar>

  /// - Parameters:
  ///   - width: ≥ 1, a multiple of `headCount`.
  ///   - headCount: ≥ 1.
  ///   - expansion: the feed-forward hidden width over `width`.
  ///   - generator: the seeded source of the initial values.
  public init(width: Int, headCount: Int, expansion: Int = 4, using generator: inout SeededGenerator) {
    attentionNorm = LayerNorm(features: width)
    attention = CausalSelfAttention(width: width, headCount: headCount, using: &generator)
    feedForwardNorm = LayerNorm(features: width)
    feedForward = FeedForward(width: width, expansion: expansion, using: &generator)
  }

  /// - Parameters:
  ///   - x: `[batch, length, width]`.
  /// - Returns: `[batch, length, width]`; position i depends on positions ≤ i only.
  public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    let attended = x + attention(attentionNorm(x))
    return attended + feedForward(feedForwardNorm(attended))
  }

  /// The layer on new positions after the cached ones.
  /// - Parameters:
  ///   - x: `[batch, new, width]`.
  ///   - cache: this layer's keys and values so far; the new ones are appended.
  /// - Returns: `[batch, new, width]`.
  public func callAsFunction(_ x: Tensor<Scalar>, cache: inout AttentionCache<Scalar>) -> Tensor<Scalar> {
    let attended = x + attention(attentionNorm(x), cache: &cache)
    return attended + feedForward(feedForwardNorm(attended))
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("attentionNorm", &attentionNorm)
    visitor.visit("attention", &attention)
    visitor.visit("feedForwardNorm", &feedForwardNorm)
    visitor.visit("feedForward", &feedForward)
  }
}
