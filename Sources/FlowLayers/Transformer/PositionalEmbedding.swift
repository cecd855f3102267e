import FlowTensor

/// A learned absolute positional embedding, added to the features of each
/// position.
///
/// Parameter: `weight` `[maxLength, width]`, initialised N(0, 0.01²) as
/// TarFlow's (apple/ml-tarflow `transformer_flow.py`).
public struct PositionalEmbedding<Scalar: TensorScalar>: Layer {
  public var weight: Tensor<Scalar>

  /// - Parameters:
  ///   - maxLength: ≥ 1, the longest sequence it can embed.
  ///   - width: ≥ 1, the model width.
  ///   - generator: the seeded source of the initial values.
  public init(maxLength: Int, width: Int, using generator: inout SeededGenerator) {
    precondition(
      maxLength >= 1 && width >= 1, "PositionalEmbedding(maxLength: \(maxLength), width: \(width)): both must be ≥ 1")
    weight = Tensor.randomNormal(shape: [maxLength, width], standardDeviation: 0.01, using: &generator)
  }

  public var maxLength: Int { weight.shape[0] }
  public var width: Int { weight.shape[1] }

  /// `x` plus the embeddings of positions `start ..< start + length`.
  /// - Parameters:
  ///   - x: `[batch, length, width]`.
  ///   - start: the position of `x`'s first row (the decoded length, when
  ///     decoding step by step); `start + length ≤ maxLength`.
  /// - Returns: `x`'s shape.
  /// - Complexity: O(n).
  public func callAsFunction(_ x: Tensor<Scalar>, startingAt start: Int = 0) -> Tensor<Scalar> {
    precondition(
      x.rank == 3 && x.shape[2] == width && start >= 0 && start + x.shape[1] <= maxLength,
      "PositionalEmbedding: input \(x.shape) from position \(start) does not fit [batch, ≤ \(maxLength), \(width)]")
    return x + weight.sliced(alongAxis: 0, from: start, to: start + x.shape[1])
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("weight", &weight)
  }
}
