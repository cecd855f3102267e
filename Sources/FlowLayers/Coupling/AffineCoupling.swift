import FlowTensor

/// How an affine coupling turns the conditioner's raw scale s into a
/// positive scale.
public enum CouplingScale: Equatable, Sendable {
  /// scale = σ(s + 2), Glow's choice (Kingma & Dhariwal 2018, the official
  /// code's `sigmoid(h + 2.)`): in (0, 1), so the forward map contracts, and
  /// about 0.88 at s = 0.
  case sigmoid
  /// scale = exp(c·tanh(s/c)): log-scale soft-clamped to (−c, c), equal to
  /// s near 0 (so a zero conditioner gives the identity), never overflowing.
  case softClamp(bound: Double)

  /// log scale for raw scales `s`, computed stably (log σ, not log of σ).
  func logScale<Scalar: TensorScalar>(_ s: Tensor<Scalar>) -> Tensor<Scalar> {
    switch self {
    case .sigmoid:
      return logSigmoid(s + 2)
    case .softClamp(let bound):
      let c = Scalar(bound)
      return tanh(s / c) * c
    }
  }
}

/// The affine coupling layer of RealNVP (Dinh et al. 2017) and Glow
/// (Kingma & Dhariwal 2018).
///
/// The input is divided by a ``CouplingMask`` into an identity part x_a and a
/// transformed part x_b; a conditioner reads x_a and returns a shift t and a
/// raw scale s for x_b (its output channels: first all shifts, then all raw
/// scales). The forward (data → base) map is
///
///     y_a = x_a,   y_b = x_b · scale(s) + t,   log|det J| = Σ log scale(s),
///
/// the sum over the transformed coordinates (RealNVP, eq. 6–7). The Jacobian
/// is triangular with the identity coordinates first, and the inverse is
/// exact: x_b = (y_b − t)·scale⁻¹ with t and s computed from y_a = x_a.
///
/// Parameters: `conditioner.…`.
public struct AffineCoupling<Network: Conditioner>: Bijector {
  public typealias Scalar = Network.Scalar
  public var conditioner: Network
  public let mask: CouplingMask
  public let scale: CouplingScale

  /// - Parameters:
  ///   - mask: which part conditions which.
  ///   - scale: how the raw scale becomes positive.
  ///   - conditioner: maps the identity part (see
  ///     ``CouplingMask/conditionerChannels(forChannels:)``) to
  ///     `2 × output channels` on axis 1, the other axes as the transformed part.
  public init(mask: CouplingMask, scale: CouplingScale = .sigmoid, conditioner: Network) {
    if case .softClamp(let bound) = scale {
      precondition(bound > 0 && bound.isFinite, "AffineCoupling: soft-clamp bound \(bound) must be positive and finite")
    }
    self.conditioner = conditioner
    self.mask = mask
    self.scale = scale
  }

  /// - Parameters:
  ///   - x: `[batch, channels, ...]`, in the shape the conditioner accepts.
  /// - Returns: the output (`x`'s shape) and log|det J| (`[batch]`).
  /// - Complexity: one conditioner pass plus O(size of x).
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let partition = mask.partition(x, operation: "AffineCoupling.forward")
    let (shift, logScale) = parameters(partition, operation: "AffineCoupling.forward")
    let transformed = partition.active * exp(logScale) + shift
    return (partition.merged(transformed), couplingLogDeterminant(logScale))
  }

  /// - Parameters:
  ///   - y: `[batch, channels, ...]`.
  /// - Returns: the input that ``forward(_:)`` maps to `y`, and minus the
  ///   forward log-determinant there.
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let partition = mask.partition(y, operation: "AffineCoupling.inverse")
    let (shift, logScale) = parameters(partition, operation: "AffineCoupling.inverse")
    let restored = (partition.active - shift) * exp(-logScale)
    return (partition.merged(restored), -couplingLogDeterminant(logScale))
  }

  /// The shift and log-scale of the active part, zero on a checkerboard's identity positions.
  private func parameters(
    _ partition: CouplingPartition<Scalar>, operation: String
  ) -> (shift: Tensor<Scalar>, logScale: Tensor<Scalar>) {
    let outputs = partition.parameters(from: conditioner(partition.conditionerInput), count: 2, operation: operation)
    return (partition.restricted(outputs[0]), partition.restricted(scale.logScale(outputs[1])))
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("conditioner", &conditioner)
  }
}

extension AffineCoupling {
  /// A coupling of flat inputs `[batch, features]` with an ``MLP`` conditioner
  /// whose last layer starts at zero.
  /// - Parameters:
  ///   - features: ≥ 2.
  ///   - hiddenSizes: the widths of the conditioner's hidden layers.
  public init<T: TensorScalar>(
    features: Int, hiddenSizes: [Int], mask: CouplingMask = .channelHalf, scale: CouplingScale = .sigmoid,
    activation: Activation = .relu, using generator: inout SeededGenerator
  ) where Network == MLP<T> {
    let channels = mask.conditionerChannels(forChannels: features)
    self.init(
      mask: mask, scale: scale,
      conditioner: MLP(
        inputSize: channels.input, hiddenSizes: hiddenSizes, outputSize: 2 * channels.output,
        activation: activation, using: &generator))
  }

  /// A coupling of images `[batch, channels, height, width]` with a
  /// ``ResidualConditioner`` whose last convolution starts at zero.
  /// - Parameters:
  ///   - channels: ≥ 2 for a channel-half mask, ≥ 1 for a checkerboard.
  public init<T: TensorScalar>(
    channels: Int, hiddenChannels: Int, blockCount: Int, mask: CouplingMask = .channelHalf,
    scale: CouplingScale = .sigmoid, activation: Activation = .relu, using generator: inout SeededGenerator
  ) where Network == ResidualConditioner<T> {
    let counts = mask.conditionerChannels(forChannels: channels)
    self.init(
      mask: mask, scale: scale,
      conditioner: ResidualConditioner(
        inputChannels: counts.input, hiddenChannels: hiddenChannels, outputChannels: 2 * counts.output,
        blockCount: blockCount, activation: activation, using: &generator))
  }
}

/// Σ over every axis but the first (`[batch, ...]` → `[batch]`): the per-sample log-determinant.
private func couplingLogDeterminant<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.reshaped(to: [x.shape[0], x.shape.dropFirst().reduce(1, *)]).sum(alongAxes: [1])
}
