import FlowLayers
import FlowTensor

/// The conditioner of Glow's affine coupling (Kingma & Dhariwal 2018, §3.3,
/// "NN()"): a 3×3 convolution to `hiddenChannels`, ReLU, a 1×1 convolution,
/// ReLU, and a zero-initialised 3×3 convolution to the output channels. The
/// 3×3 convolutions pad by 1, so the spatial size is kept.
///
/// The last convolution starts at zero, so a coupling using this network
/// starts as a fixed scale (sigmoid) or the identity (soft clamp). Glow's
/// own code also normalises the hidden layers with ActNorm and scales the
/// last layer's output by exp(3·logs); this network leaves both out, as
/// issue 6 specifies.
///
/// Parameters: `input.…`, `hidden.…`, `output.…` (each ``Conv2D``'s
/// `filter` and `bias`).
public struct GlowConditioner<Scalar: TensorScalar>: Conditioner {
  public var input: Conv2D<Scalar>
  public var hidden: Conv2D<Scalar>
  public var output: Conv2D<Scalar>

  /// - Parameters:
  ///   - inputChannels, hiddenChannels, outputChannels: ≥ 1.
  ///   - generator: the seeded source of the first two convolutions'
  ///     initial values (PyTorch's `nn.Conv2d` initialisation).
  public init(inputChannels: Int, hiddenChannels: Int, outputChannels: Int, using generator: inout SeededGenerator) {
    input = Conv2D(
      inputChannels: inputChannels, outputChannels: hiddenChannels, kernelSize: (3, 3), padding: (1, 1),
      using: &generator)
    hidden = Conv2D(inputChannels: hiddenChannels, outputChannels: hiddenChannels, kernelSize: (1, 1), using: &generator)
    output = Conv2D(
      inputChannels: hiddenChannels, outputChannels: outputChannels, kernelSize: (3, 3), padding: (1, 1),
      zeroInitialized: true, using: &generator)
  }

  /// - Parameters:
  ///   - x: `[batch, inputChannels, height, width]`.
  /// - Returns: `[batch, outputChannels, height, width]`.
  /// - Complexity: O(batch·height·width·hiddenChannels·(9·input + hidden + 9·output)).
  public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    output(relu(hidden(relu(input(x)))))
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("input", &input)
    visitor.visit("hidden", &hidden)
    visitor.visit("output", &output)
  }
}
