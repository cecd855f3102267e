import FlowTensor

/// A fixed reordering of the channels of images (a channel shuffle): output
/// channel i is input channel `indices[i]`, at every pixel. Random or
/// reversed, it is the permutation that Glow's invertible 1×1 convolution
/// generalises (Kingma & Dhariwal, "Glow", 2018, §3.2).
///
/// Inputs are `[batch, channels, height, width]`. The log-determinants are
/// 0 and there are no parameters. Both directions gather along axis 1
/// (``FlowTensor/Tensor/gathering(atIndices:alongAxis:)``), which is
/// differentiable.
public struct ChannelPermutation<Scalar: TensorScalar>: Bijector {
  /// Output channel i is input channel `indices[i]`.
  public let indices: [Int]
  /// The inverse permutation: `inverseIndices[indices[i]] == i`.
  public let inverseIndices: [Int]

  /// The permutation that takes input channel `indices[i]` to output channel i.
  /// - Parameters:
  ///   - indices: each of `0..<indices.count` exactly once.
  public init(indices: [Int]) {
    self.inverseIndices = PermutationIndices.inverse(of: indices, operation: "ChannelPermutation(indices:)")
    self.indices = indices
  }

  /// A uniformly random channel permutation drawn from `generator`.
  /// - Parameters:
  ///   - channels: ≥ 0.
  /// - Complexity: O(channels).
  public init(channels: Int, using generator: inout SeededGenerator) {
    self.init(indices: PermutationIndices.random(count: channels, using: &generator))
  }

  /// The random permutation that ``init(channels:using:)`` draws from
  /// `SeededGenerator(seed: seed)`.
  public init(channels: Int, seed: UInt64) {
    var generator = SeededGenerator(seed: seed)
    self.init(channels: channels, using: &generator)
  }

  /// The channel order reversed: output channel i is input channel `channels − 1 − i`.
  /// - Parameters:
  ///   - channels: ≥ 0.
  public init(reversingChannels channels: Int) {
    precondition(channels >= 0, "ChannelPermutation(reversingChannels: \(channels)): the channel count is negative")
    self.init(indices: Array((0..<channels).reversed()))
  }

  /// The number of channels permuted.
  public var channels: Int { indices.count }

  /// Reorders the channels of `x`.
  /// - Parameters:
  ///   - x: `[batch, channels, height, width]`.
  /// - Returns: the reordered images, shaped as `x`, and zeros `[batch]`.
  /// - Complexity: O(x.scalarCount).
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    PermutationIndices.check(x, rank: 4, size: channels, operation: "ChannelPermutation.forward")
    return (x.gathering(atIndices: indices, alongAxis: 1), Tensor.zeros(shape: [x.shape[0]]))
  }

  /// Puts the channels of `y` back in their original order.
  /// - Parameters:
  ///   - y: `[batch, channels, height, width]`.
  /// - Returns: the images, shaped as `y`, and zeros `[batch]`.
  /// - Complexity: O(y.scalarCount).
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    PermutationIndices.check(y, rank: 4, size: channels, operation: "ChannelPermutation.inverse")
    return (y.gathering(atIndices: inverseIndices, alongAxis: 1), Tensor.zeros(shape: [y.shape[0]]))
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {}
}
