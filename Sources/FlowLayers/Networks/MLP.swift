import FlowTensor

/// A multilayer perceptron: ``Dense`` layers with an ``Activation`` between
/// them (none after the last).
///
/// Parameters: `layers.<index>.weight` and `layers.<index>.bias`.
public struct MLP<Scalar: TensorScalar>: Conditioner {
  public var layers: [Dense<Scalar>]
  public let activation: Activation

  /// A network `inputSize → hiddenSizes… → outputSize`.
  /// - Parameters:
  ///   - inputSize, outputSize: ≥ 0.
  ///   - hiddenSizes: the widths of the hidden layers, in order; empty gives one ``Dense``.
  ///   - activation: applied after every layer but the last.
  ///   - zeroInitializingLastLayer: start the last layer at zero so the
  ///     network outputs zeros (a coupling then starts near the identity);
  ///     the other layers are initialised as PyTorch's `nn.Linear`.
  ///   - generator: the seeded source of the initial values.
  public init(
    inputSize: Int, hiddenSizes: [Int], outputSize: Int, activation: Activation = .relu,
    zeroInitializingLastLayer: Bool = true, using generator: inout SeededGenerator
  ) {
    let sizes = [inputSize] + hiddenSizes + [outputSize]
    layers = (0..<(sizes.count - 1)).map { index in
      Dense(
        inputSize: sizes[index], outputSize: sizes[index + 1],
        zeroInitialized: zeroInitializingLastLayer && index == sizes.count - 2, using: &generator)
    }
    self.activation = activation
  }

  /// A network of the given layers.
  public init(layers: [Dense<Scalar>], activation: Activation = .relu) {
    precondition(!layers.isEmpty, "MLP(layers:): needs at least one layer")
    for (index, pair) in zip(layers, layers.dropFirst()).enumerated() {
      precondition(
        pair.0.outputSize == pair.1.inputSize,
        "MLP(layers:): layer \(index) outputs \(pair.0.outputSize) features but layer \(index + 1) takes \(pair.1.inputSize)")
    }
    self.layers = layers
    self.activation = activation
  }

  /// The network's output.
  /// - Parameters:
  ///   - x: `[batch, inputSize]`.
  /// - Returns: `[batch, outputSize]`.
  /// - Complexity: O(batch·Σ inᵢ·outᵢ).
  public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    var y = x
    for (index, layer) in layers.enumerated() {
      y = layer(y)
      if index < layers.count - 1 { y = activation(y) }
    }
    return y
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("layers", &layers)
  }
}
