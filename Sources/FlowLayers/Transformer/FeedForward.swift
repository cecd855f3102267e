import FlowTensor

/// The position-wise feed-forward network of a transformer layer:
/// `Dense(width → expansion·width)`, exact GELU, `Dense(expansion·width → width)`.
///
/// Parameters: `expand.weight`, `expand.bias`, `contract.weight`, `contract.bias`.
public struct FeedForward<Scalar: TensorScalar>: Layer {
  public var expand: Dense<Scalar>
  public var contract: Dense<Scalar>

  /// A network initialised as PyTorch's `nn.Linear` pair.
  /// - Parameters:
  ///   - width: ≥ 1, the model width.
  ///   - expansion: ≥ 1, the hidden width as a multiple of `width` (4 in GPT-2 and TarFlow).
  ///   - generator: the seeded source of the initial values.
  public init(width: Int, expansion: Int = 4, using generator: inout SeededGenerator) {
    precondition(
      width >= 1 && expansion >= 1, "FeedForward(width: \(width), expansion: \(expansion)): both must be ≥ 1")
    expand = Dense(inputSize: width, outputSize: expansion * width, using: &generator)
    contract = Dense(inputSize: expansion * width, outputSize: width, using: &generator)
  }

  /// - Parameters:
  ///   - x: `[..., width]`, rank ≥ 2.
  /// - Returns: `x`'s shape.
  /// - Complexity: O(n·expansion·width), two `gemm`s.
  public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    contract.applied(toRows: gelu(expand.applied(toRows: x)))
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("expand", &expand)
    visitor.visit("contract", &contract)
  }
}
