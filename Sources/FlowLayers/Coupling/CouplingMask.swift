import FlowTensor

/// Which part of a coupling layer's input stays as it is (the identity
/// part, read by the conditioner) and which part is transformed.
///
/// - ``channelHalf``: along axis 1 (the features of `[batch, features]`, the
///   channels of `[batch, channels, height, width]`), the first ⌊c/2⌋
///   entries are the identity part and the other ⌈c/2⌉ are transformed
///   (Glow's split). It is done by slicing: the conditioner reads only the
///   identity half and its outputs cover only the transformed half.
/// - ``checkerboard``: the positions whose index sum over the axes after the
///   channel axis is even (over the features themselves for rank-2 inputs)
///   are the identity part, in every channel (RealNVP's spatial
///   checkerboard, Dinh et al. 2017, figure 3). It is done by multiplying
///   with a fixed binary mask b: the conditioner reads b·x (all channels,
///   full size) and its shifts and log-scales are multiplied by 1 − b, so the
///   identity positions get scale exactly 1 and shift exactly 0. This is
///   differentiable like any product and needs no gather, at the cost of
///   running the conditioner over the full size.
///
/// ``swapped`` exchanges the two parts; alternating a mask with its swapped
/// form lets every coordinate be transformed.
public struct CouplingMask: Equatable, Sendable {
  /// How the input is divided.
  public enum Pattern: Equatable, Sendable {
    case channelHalf
    case checkerboard
  }

  public let pattern: Pattern
  /// Whether the roles of the two parts are exchanged.
  public let isSwapped: Bool

  /// A mask of the given pattern; `isSwapped` exchanges the identity and transformed parts.
  public init(pattern: Pattern, isSwapped: Bool = false) {
    self.pattern = pattern
    self.isSwapped = isSwapped
  }

  /// The first ⌊c/2⌋ features or channels condition the rest.
  public static let channelHalf = CouplingMask(pattern: .channelHalf)
  /// Even positions condition odd ones.
  public static let checkerboard = CouplingMask(pattern: .checkerboard)

  /// The same pattern with the two parts exchanged.
  public var swapped: CouplingMask { CouplingMask(pattern: pattern, isSwapped: !isSwapped) }

  /// The channels (axis 1) a conditioner reads, and the channels of each of
  /// its outputs (shift, raw scale), for an input with `channels` channels.
  public func conditionerChannels(forChannels channels: Int) -> (input: Int, output: Int) {
    switch pattern {
    case .channelHalf:
      let split = channels / 2
      return isSwapped ? (channels - split, split) : (split, channels - split)
    case .checkerboard:
      return (channels, channels)
    }
  }

  /// Whether a coordinate is in the identity (conditioning) part.
  /// - Parameters:
  ///   - eventIndex: the coordinate's row-major index within one event.
  ///   - eventShape: `[channels, ...]`, a sample's shape without the batch axis.
  public func isIdentity(eventIndex: Int, eventShape: [Int]) -> Bool {
    var index = [Int](repeating: 0, count: eventShape.count)
    var remainder = eventIndex
    for axis in stride(from: eventShape.count - 1, through: 0, by: -1) {
      index[axis] = remainder % eventShape[axis]
      remainder /= eventShape[axis]
    }
    let identity: Bool
    switch pattern {
    case .channelHalf:
      identity = index[0] < eventShape[0] / 2
    case .checkerboard:
      let positions = eventShape.count == 1 ? index : Array(index.dropFirst())
      identity = positions.reduce(0, +) % 2 == 0
    }
    return identity != isSwapped
  }

  /// The flattened event indices, identity part first (each part in
  /// increasing order): the order in which a coupling's Jacobian is lower
  /// triangular.
  public func identityFirstOrder(eventShape: [Int]) -> [Int] {
    let count = eventShape.reduce(1, *)
    let identity = (0..<count).filter { isIdentity(eventIndex: $0, eventShape: eventShape) }
    let transformed = (0..<count).filter { !isIdentity(eventIndex: $0, eventShape: eventShape) }
    return identity + transformed
  }

  /// Splits `x` for a coupling layer.
  func partition<Scalar: TensorScalar>(_ x: Tensor<Scalar>, operation: String) -> CouplingPartition<Scalar> {
    precondition(x.rank >= 2, "\(operation): input \(x.shape) must be [batch, channels, ...]")
    let channels = x.shape[1]
    switch pattern {
    case .channelHalf:
      precondition(channels >= 2, "\(operation): input \(x.shape) needs at least 2 channels on axis 1 for a channel-half mask")
      let parts = x.split(sizes: [channels / 2, channels - channels / 2], alongAxis: 1)
      return CouplingPartition(
        conditionerInput: isSwapped ? parts[1] : parts[0], active: isSwapped ? parts[0] : parts[1],
        activeMask: nil, identity: isSwapped ? parts[1] : parts[0], isSwapped: isSwapped)
    case .checkerboard:
      let identityMask = checkerboardMask(Scalar.self, shape: x.shape)
      let activeMask = 1 - identityMask
      return CouplingPartition(
        conditionerInput: x * identityMask, active: x, activeMask: activeMask, identity: x, isSwapped: isSwapped)
    }
  }

  /// 1 at the identity positions: `[1, 1, spatial...]`, or `[1, features]` for rank-2 inputs.
  func checkerboardMask<Scalar: TensorScalar>(_: Scalar.Type, shape: [Int]) -> Tensor<Scalar> {
    let maskShape = shape.count == 2 ? [1, shape[1]] : [1, 1] + Array(shape.dropFirst(2))
    let eventShape = Array(maskShape.dropFirst())
    let count = eventShape.reduce(1, *)
    let scalars = (0..<count).map { isIdentity(eventIndex: $0, eventShape: eventShape) ? Scalar(1) : Scalar(0) }
    return Tensor(shape: maskShape, scalars: scalars)
  }
}

/// A coupling layer's input divided by a ``CouplingMask``.
struct CouplingPartition<Scalar: TensorScalar> {
  /// What the conditioner reads: the identity half, or b·x for a checkerboard.
  let conditionerInput: Tensor<Scalar>
  /// What is transformed: the other half, or all of x for a checkerboard.
  let active: Tensor<Scalar>
  /// 1 − b for a checkerboard (where the transformation applies); nil for halves.
  let activeMask: Tensor<Scalar>?
  /// The untouched half (all of x for a checkerboard, whose mask handles it).
  let identity: Tensor<Scalar>
  let isSwapped: Bool

  /// A conditioner output restricted to the transformed positions.
  func restricted(_ t: Tensor<Scalar>) -> Tensor<Scalar> {
    activeMask.map { t * $0 } ?? t
  }

  /// The layer's output from the transformed active part.
  func merged(_ transformed: Tensor<Scalar>) -> Tensor<Scalar> {
    guard activeMask == nil else { return transformed }
    let parts = isSwapped ? [transformed, identity] : [identity, transformed]
    return Tensor(concatenating: parts, alongAxis: 1)
  }

  /// Splits a conditioner output into `count` parameter tensors of the
  /// active part's shape, checking its shape.
  func parameters(from output: Tensor<Scalar>, count: Int, operation: String) -> [Tensor<Scalar>] {
    var expected = active.shape
    expected[1] *= count
    precondition(
      output.shape == expected,
      "\(operation): the conditioner maps \(conditionerInput.shape) to \(output.shape); expected \(expected) "
        + "(\(count == 1 ? "a shift" : "a shift and a raw scale") per transformed coordinate)")
    return count == 1 ? [output] : output.split(count: count, alongAxis: 1)
  }
}
