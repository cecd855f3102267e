import FlowTensor

/// TarFlowLM's ChannelMix between flows (arXiv 2507.00425, §4 "Flexible
/// Patch Size"): the even-index channels of every token, then the
/// odd-index ones, so that channels which shared a patch position with
/// their neighbours in one block meet others in the next.
///
/// Inputs are `[batch, length, channels]`; a permutation of each token's
/// channels, so both log-determinants are 0 and it has no parameters. Both
/// directions gather along the channel axis, which is differentiable.
public struct ChannelMix<Scalar: TensorScalar>: Bijector {
  public let channels: Int
  /// Output channel i is input channel `indices[i]`: 0, 2, 4, …, 1, 3, 5, ….
  public let indices: [Int]
  /// `inverseIndices[indices[i]] == i`.
  public let inverseIndices: [Int]

  /// - Parameters:
  ///   - channels: ≥ 1.
  public init(channels: Int) {
    precondition(channels >= 1, "ChannelMix(channels: \(channels)): needs at least one channel")
    self.channels = channels
    indices = Array(stride(from: 0, to: channels, by: 2)) + Array(stride(from: 1, to: channels, by: 2))
    var inverse = [Int](repeating: 0, count: channels)
    for (position, index) in indices.enumerated() { inverse[index] = position }
    inverseIndices = inverse
  }

  /// - Parameters:
  ///   - x: `[batch, length, channels]`.
  /// - Returns: the mixed channels and zeros `[batch]`.
  /// - Complexity: O(n), one gather.
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    (permuted(x, by: indices, operation: "forward"), Tensor.zeros(shape: [x.shape[0]]))
  }

  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    (permuted(y, by: inverseIndices, operation: "inverse"), Tensor.zeros(shape: [y.shape[0]]))
  }

  private func permuted(_ x: Tensor<Scalar>, by order: [Int], operation: String) -> Tensor<Scalar> {
    precondition(
      x.rank == 3 && x.shape[2] == channels,
      "ChannelMix.\(operation): input \(x.shape) is not [batch, length, \(channels)]")
    return x.gathering(atIndices: order, alongAxis: 2)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {}
}
