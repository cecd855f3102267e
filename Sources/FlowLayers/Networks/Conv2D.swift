import FlowTensor

/// A 2-D convolution layer over NCHW images, wrapping
/// ``FlowTensor/conv2d(_:filter:bias:strides:padding:)``.
///
/// Parameters: `filter` `[outputChannels, inputChannels, kernelHeight,
/// kernelWidth]` and, when present, `bias` `[outputChannels]`.
public struct Conv2D<Scalar: TensorScalar>: Conditioner {
  public var filter: Tensor<Scalar>
  public var bias: Tensor<Scalar>?
  /// The steps (vertical, horizontal) between receptive fields.
  public let strides: (Int, Int)
  /// The zero rows and columns (vertical, horizontal) added on each side.
  public let padding: (Int, Int)

  /// A layer initialised as PyTorch's `nn.Conv2d`: filter and bias uniform
  /// in ±1/√fan_in with fan_in = inputChannels·kernelHeight·kernelWidth
  /// (Kaiming-uniform with a = √5), or all zeros.
  /// - Parameters:
  ///   - inputChannels, outputChannels: ≥ 1.
  ///   - kernelSize: (height, width), each ≥ 1.
  ///   - strides: each ≥ 1.
  ///   - padding: each ≥ 0; `(k/2, k/2)` for an odd kernel k at stride 1 keeps the size.
  ///   - usesBias: whether the layer adds a per-channel bias.
  ///   - zeroInitialized: start with zero filter and bias (an output of zeros).
  ///   - generator: the seeded source of the initial values.
  public init(
    inputChannels: Int, outputChannels: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1),
    padding: (Int, Int) = (0, 0), usesBias: Bool = true, zeroInitialized: Bool = false,
    using generator: inout SeededGenerator
  ) {
    precondition(
      inputChannels >= 1 && outputChannels >= 1 && kernelSize.0 >= 1 && kernelSize.1 >= 1,
      "Conv2D(inputChannels: \(inputChannels), outputChannels: \(outputChannels), kernelSize: \(kernelSize)): "
        + "channels and kernel sizes must be ≥ 1")
    precondition(
      strides.0 >= 1 && strides.1 >= 1 && padding.0 >= 0 && padding.1 >= 0,
      "Conv2D: strides \(strides) must be ≥ 1 and padding \(padding) ≥ 0")
    let shape = [outputChannels, inputChannels, kernelSize.0, kernelSize.1]
    let fanIn = inputChannels * kernelSize.0 * kernelSize.1
    if zeroInitialized {
      filter = Tensor.zeros(shape: shape)
      bias = usesBias ? Tensor.zeros(shape: [outputChannels]) : nil
    } else {
      filter = kaimingUniform(shape: shape, fanIn: fanIn, using: &generator)
      bias = usesBias ? kaimingUniform(shape: [outputChannels], fanIn: fanIn, using: &generator) : nil
    }
    self.strides = strides
    self.padding = padding
  }

  /// A layer with the given parameters.
  /// - Parameters:
  ///   - filter: `[outputChannels, inputChannels, kernelHeight, kernelWidth]`.
  ///   - bias: `[outputChannels]` or `nil`.
  public init(
    filter: Tensor<Scalar>, bias: Tensor<Scalar>?, strides: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)
  ) {
    precondition(filter.rank == 4, "Conv2D(filter:bias:): filter \(filter.shape) must be [out, in, height, width]")
    if let bias {
      precondition(
        bias.shape == [filter.shape[0]], "Conv2D(filter:bias:): bias \(bias.shape) is not [\(filter.shape[0])]")
    }
    self.filter = filter
    self.bias = bias
    self.strides = strides
    self.padding = padding
  }

  public var inputChannels: Int { filter.shape[1] }
  public var outputChannels: Int { filter.shape[0] }

  /// The convolution of `x` with the filter, plus the bias.
  /// - Parameters:
  ///   - x: `[batch, inputChannels, height, width]`.
  /// - Returns: `[batch, outputChannels, outHeight, outWidth]`, the sizes as
  ///   in ``FlowTensor/conv2d(_:filter:bias:strides:padding:)``.
  /// - Complexity: O(batch·outputChannels·inputChannels·kernel area·output area).
  public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(
      x.rank == 4 && x.shape[1] == inputChannels,
      "Conv2D: input \(x.shape) is not [batch, \(inputChannels), height, width] for filter \(filter.shape)")
    return conv2d(x, filter: filter, bias: bias, strides: strides, padding: padding)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("filter", &filter)
    if var present = bias {
      visitor.visit("bias", &present)
      bias = present
    }
  }
}
