import FlowTensor

/// A pre-activation residual block of two 3×3 convolutions:
/// x + conv(act(conv(act(x)))) (He et al. 2016, "Identity Mappings in Deep
/// Residual Networks", figure 4(e), without normalisation).
///
/// Parameters: `first.…`, `second.…`.
public struct ResidualBlock<Scalar: TensorScalar>: Conditioner {
  public var first: Conv2D<Scalar>
  public var second: Conv2D<Scalar>
  public let activation: Activation

  /// A block of `channels` channels, its convolutions initialised as PyTorch's.
  public init(channels: Int, activation: Activation = .relu, using generator: inout SeededGenerator) {
    first = Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: (3, 3), padding: (1, 1), using: &generator)
    second = Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: (3, 3), padding: (1, 1), using: &generator)
    self.activation = activation
  }

  /// - Parameters:
  ///   - x: `[batch, channels, height, width]`.
  /// - Returns: the same shape.
  public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    x + second(activation(first(activation(x))))
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("first", &first)
    visitor.visit("second", &second)
  }
}

/// The convolutional conditioner of an image coupling layer (RealNVP's and
/// Glow's "NN()"): a 3×3 convolution to `hiddenChannels`, residual blocks,
/// the activation, and a zero-initialised 3×3 convolution to the output
/// channels. All convolutions keep the spatial size (padding 1).
///
/// The final activation makes the last convolution read non-negative
/// features for ReLU, as the pre-activation design intends; the final
/// convolution starts at zero, so a coupling using this network starts as
/// the identity (soft clamp) or a fixed scale (sigmoid).
///
/// Parameters: `input.…`, `blocks.<index>.first.…`, `blocks.<index>.second.…`, `output.…`.
public struct ResidualConditioner<Scalar: TensorScalar>: Conditioner {
  public var input: Conv2D<Scalar>
  public var blocks: [ResidualBlock<Scalar>]
  public var output: Conv2D<Scalar>
  public let activation: Activation

  /// - Parameters:
  ///   - inputChannels, outputChannels, hiddenChannels: ≥ 1.
  ///   - blockCount: the number of residual blocks, ≥ 0.
  ///   - activation: the nonlinearity inside and after the blocks.
  ///   - generator: the seeded source of the initial values.
  public init(
    inputChannels: Int, hiddenChannels: Int, outputChannels: Int, blockCount: Int, activation: Activation = .relu,
    using generator: inout SeededGenerator
  ) {
    precondition(blockCount >= 0, "ResidualConditioner: blockCount \(blockCount) must be ≥ 0")
    input = Conv2D(
      inputChannels: inputChannels, outputChannels: hiddenChannels, kernelSize: (3, 3), padding: (1, 1),
      using: &generator)
    blocks = (0..<blockCount).map { _ in ResidualBlock(channels: hiddenChannels, activation: activation, using: &generator) }
    output = Conv2D(
      inputChannels: hiddenChannels, outputChannels: outputChannels, kernelSize: (3, 3), padding: (1, 1),
      zeroInitialized: true, using: &generator)
    self.activation = activation
  }

  /// - Parameters:
  ///   - x: `[batch, inputChannels, height, width]`.
  /// - Returns: `[batch, outputChannels, height, width]`.
  /// - Complexity: O(batch·height·width·9·hiddenChannels·(in + out + 2·blocks·hidden)).
  public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    var hidden = input(x)
    for block in blocks { hidden = block(hidden) }
    return output(activation(hidden))
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("input", &input)
    visitor.visit("blocks", &blocks)
    visitor.visit("output", &output)
  }
}
