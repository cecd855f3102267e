import FlowTensor

/// A fully connected layer, y = x·W + b.
///
/// Parameters: `weight` `[inputSize, outputSize]` and `bias` `[outputSize]`.
public struct Dense<Scalar: TensorScalar>: Conditioner {
  public var weight: Tensor<Scalar>
  public var bias: Tensor<Scalar>

  /// A layer initialised as PyTorch's `nn.Linear`: weight and bias uniform
  /// in ±1/√inputSize (Kaiming-uniform with a = √5), or all zeros.
  /// - Parameters:
  ///   - inputSize, outputSize: ≥ 0.
  ///   - zeroInitialized: start with zero weight and bias, so the layer
  ///     outputs zeros: the last layer of a coupling's conditioner, which
  ///     then starts as the identity (or a fixed scale).
  ///   - generator: the seeded source of the initial values.
  public init(inputSize: Int, outputSize: Int, zeroInitialized: Bool = false, using generator: inout SeededGenerator) {
    precondition(
      inputSize >= 0 && outputSize >= 0, "Dense(inputSize: \(inputSize), outputSize: \(outputSize)): sizes must be ≥ 0")
    if zeroInitialized {
      weight = Tensor.zeros(shape: [inputSize, outputSize])
      bias = Tensor.zeros(shape: [outputSize])
    } else {
      weight = kaimingUniform(shape: [inputSize, outputSize], fanIn: inputSize, using: &generator)
      bias = kaimingUniform(shape: [outputSize], fanIn: inputSize, using: &generator)
    }
  }

  /// A layer with the given parameters.
  /// - Parameters:
  ///   - weight: `[inputSize, outputSize]`.
  ///   - bias: `[outputSize]`.
  public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>) {
    precondition(
      weight.rank == 2 && bias.shape == [weight.shape.last ?? -1],
      "Dense(weight:bias:): weight \(weight.shape) must be [in, out] and bias \(bias.shape) [out]")
    self.weight = weight
    self.bias = bias
  }

  public var inputSize: Int { weight.shape[0] }
  public var outputSize: Int { weight.shape[1] }

  /// x·W + b.
  /// - Parameters:
  ///   - x: `[batch, inputSize]` (or more leading axes, `[..., inputSize]`).
  /// - Returns: `[batch, outputSize]`.
  /// - Complexity: O(batch·inputSize·outputSize), one `gemm`.
  public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(
      x.rank >= 2 && x.shape.last == inputSize,
      "Dense: input \(x.shape) is not [batch, \(inputSize)] for weight \(weight.shape)")
    return matmul(x, weight) + bias
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("weight", &weight)
    visitor.visit("bias", &bias)
  }
}
