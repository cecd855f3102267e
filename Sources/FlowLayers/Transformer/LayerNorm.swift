import FlowTensor

/// Layer normalisation over the last axis (Ba, Kiros & Hinton 2016):
/// y = (x − mean)/√(variance + ε)·scale + offset, mean and (biased)
/// variance over the features of each position.
///
/// Parameters: `scale` `[features]` (ones) and `offset` `[features]` (zeros).
public struct LayerNorm<Scalar: TensorScalar>: Layer {
  public var scale: Tensor<Scalar>
  public var offset: Tensor<Scalar>
  /// Added to the variance before the square root; PyTorch's default 1e-5.
  public let epsilon: Scalar

  /// A normalisation that starts as the plain standardisation.
  /// - Parameters:
  ///   - features: ≥ 1, the size of the last axis.
  ///   - epsilon: > 0.
  public init(features: Int, epsilon: Scalar = 1e-5) {
    precondition(features >= 1, "LayerNorm(features: \(features)): needs at least one feature")
    precondition(epsilon > 0, "LayerNorm(epsilon: \(epsilon)): epsilon must be positive")
    scale = Tensor.ones(shape: [features])
    offset = Tensor.zeros(shape: [features])
    self.epsilon = epsilon
  }

  public var features: Int { scale.shape[0] }

  /// The normalised features.
  /// - Parameters:
  ///   - x: `[..., features]`.
  /// - Returns: `x`'s shape.
  /// - Complexity: O(n), two fused passes (``FlowTensor/layerNormalization(_:scale:offset:epsilon:)``).
  public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(
      x.rank >= 1 && x.shape.last == features, "LayerNorm: input \(x.shape) does not end in \(features) features")
    return layerNormalization(x, scale: scale, offset: offset, epsilon: epsilon)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("scale", &scale)
    visitor.visit("offset", &offset)
  }
}
