import FlowTensor
import RealModule

/// Multi-head causal self-attention: each position attends itself and the
/// positions before it (Vaswani et al. 2017, with GPT's causal mask).
///
/// Parameters: `queryKeyValue.weight` `[width, 3·width]` (queries, keys,
/// values side by side, each split into `headCount` heads), its bias, and
/// `output.weight` `[width, width]` with its bias.
public struct CausalSelfAttention<Scalar: TensorScalar>: Layer {
  public var queryKeyValue: Dense<Scalar>
  public var output: Dense<Scalar>
  public let headCount: Int

  /// - Parameters:
  ///   - width: ≥ 1, a multiple of `headCount`.
  ///   - headCount: ≥ 1.
  ///   - generator: the seeded source of the initial values (PyTorch's `nn.Linear` initialisation).
  public init(width: Int, headCount: Int, using generator: inout SeededGenerator) {
    precondition(
      headCount >= 1 && width >= 1 && width % headCount == 0,
      "CausalSelfAttention(width: \(width), headCount: \(headCount)): width must be a positive multiple of headCount")
    queryKeyValue = Dense(inputSize: width, outputSize: 3 * width, using: &generator)
    output = Dense(inputSize: width, outputSize: width, using: &generator)
    self.headCount = headCount
  }

  public var width: Int { output.outputSize }
  public var headSize: Int { width / headCount }

  /// Attention over the whole sequence, position i seeing positions ≤ i.
  /// - Parameters:
  ///   - x: `[batch, length, width]`.
  /// - Returns: `[batch, length, width]`.
  /// - Complexity: O(batch·length·width² + batch·length²·width): one
  ///   `gemm` for the packed projections, the fused
  ///   ``FlowTensor/causalSelfAttention(_:headCount:)`` on them in place
  ///   (no transposed copies of the heads), one `gemm` for the output.
  public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(
      x.rank == 3 && x.shape[2] == width, "CausalSelfAttention: input \(x.shape) is not [batch, length, \(width)]")
    return output.applied(toRows: causalSelfAttention(queryKeyValue.applied(toRows: x), headCount: headCount))
  }

  /// Attention of new positions over the cached ones and themselves; the
  /// new keys and values join the cache.
  /// - Parameters:
  ///   - x: `[batch, new, width]`, the positions after the cached ones.
  ///   - cache: the keys and values of the earlier positions (same batch).
  /// - Returns: `[batch, new, width]`, what ``callAsFunction(_:)`` gives for
  ///   these positions on the whole sequence.
  /// - Complexity: O(batch·new·(width² + (cached + new)·width)).
  public func callAsFunction(_ x: Tensor<Scalar>, cache: inout AttentionCache<Scalar>) -> Tensor<Scalar> {
    let (queries, keys, values) = projections(x)
    return merge(cache.attend(queries, keys: keys, values: values), batch: x.shape[0], length: x.shape[1])
  }

  /// Queries (already scaled by 1/√headSize), keys and values, each `[batch, heads, length, headSize]`.
  private func projections(_ x: Tensor<Scalar>) -> (Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>) {
    precondition(
      x.rank == 3 && x.shape[2] == width, "CausalSelfAttention: input \(x.shape) is not [batch, length, \(width)]")
    let (batch, length) = (x.shape[0], x.shape[1])
    let heads = queryKeyValue.applied(toRows: x)
      .reshaped(to: [batch, length, 3, headCount, headSize])
      .transposed(permutation: [2, 0, 3, 1, 4])
    let parts = heads.split(count: 3, alongAxis: 0).map { $0.reshaped(to: [batch, headCount, length, headSize]) }
    return (parts[0] * Scalar(1 / Double.sqrt(Double(headSize))), parts[1], parts[2])
  }

  /// The heads of `attended` (`[batch, heads, length, headSize]`) side by
  /// side and projected: `[batch, length, width]`.
  private func merge(_ attended: Tensor<Scalar>, batch: Int, length: Int) -> Tensor<Scalar> {
    let mixed = attended
      .transposed(permutation: [0, 2, 1, 3])
      .reshaped(to: [batch, length, width])
    return output.applied(toRows: mixed)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("queryKeyValue", &queryKeyValue)
    visitor.visit("output", &output)
  }
}
