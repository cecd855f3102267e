import FlowTensor

/// The additive coupling layer of NICE (Dinh, Krueger & Bengio 2015, eq. 5):
/// y_a = x_a, y_b = x_b + t(x_a), volume-preserving (log|det J| = 0).
///
/// The input is divided by a ``CouplingMask``; the conditioner maps the
/// identity part to a shift for each transformed coordinate (as many output
/// channels as the transformed part has).
///
/// Parameters: `conditioner.…`.
public struct AdditiveCoupling<Network: Conditioner>: Bijector {
  public typealias Scalar = Network.Scalar
  public var conditioner: Network
  public let mask: CouplingMask

  public init(mask: CouplingMask, conditioner: Network) {
    self.conditioner = conditioner
    self.mask = mask
  }

  /// - Parameters:
  ///   - x: `[batch, channels, ...]`.
  /// - Returns: the output (`x`'s shape) and zeros (`[batch]`).
  /// - Complexity: one conditioner pass plus O(size of x).
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let partition = mask.partition(x, operation: "AdditiveCoupling.forward")
    let shift = self.shift(partition, operation: "AdditiveCoupling.forward")
    return (partition.merged(partition.active + shift), Tensor.zeros(shape: [x.shape[0]]))
  }

  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let partition = mask.partition(y, operation: "AdditiveCoupling.inverse")
    let shift = self.shift(partition, operation: "AdditiveCoupling.inverse")
    return (partition.merged(partition.active - shift), Tensor.zeros(shape: [y.shape[0]]))
  }

  private func shift(_ partition: CouplingPartition<Scalar>, operation: String) -> Tensor<Scalar> {
    partition.restricted(
      partition.parameters(from: conditioner(partition.conditionerInput), count: 1, operation: operation)[0])
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("conditioner", &conditioner)
  }
}

extension AdditiveCoupling {
  /// A coupling of flat inputs `[batch, features]` with an ``MLP``
  /// conditioner whose last layer starts at zero.
  public init<T: TensorScalar>(
    features: Int, hiddenSizes: [Int], mask: CouplingMask = .channelHalf, activation: Activation = .relu,
    using generator: inout SeededGenerator
  ) where Network == MLP<T> {
    let channels = mask.conditionerChannels(forChannels: features)
    self.init(
      mask: mask,
      conditioner: MLP(
        inputSize: channels.input, hiddenSizes: hiddenSizes, outputSize: channels.output, activation: activation,
        using: &generator))
  }
}
