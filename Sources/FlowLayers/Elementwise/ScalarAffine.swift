import FlowTensor

/// y = scale·x + shift with one scale and one shift for every element of
/// every event (nflows' `PointwiseAffineTransform`), fixed or learnable.
///
/// The scale is held as its logarithm, so it stays positive under any
/// parameter update; log|det ∂y/∂x| = D·log scale for events of D scalars.
/// A learnable layer exposes `logScale` and `shift` (rank-0 tensors) to
/// ``Layer/visitParameters(with:)``; a fixed one exposes nothing, so
/// optimizers and checkpoints leave it alone.
public struct ScalarAffine<Scalar: TensorScalar>: Bijector {
  /// log scale, shape `[]`.
  public var logScale: Tensor<Scalar>
  /// The shift, shape `[]`.
  public var shift: Tensor<Scalar>
  /// Whether `logScale` and `shift` are parameters.
  public let isLearnable: Bool

  /// - Parameters:
  ///   - scale: > 0 (finite).
  ///   - shift: finite.
  ///   - learnable: expose `logScale` and `shift` as parameters.
  public init(scale: Scalar = 1, shift: Scalar = 0, learnable: Bool = false) {
    precondition(
      scale > 0 && scale.isFinite, "ScalarAffine(scale: \(scale)): the scale must be positive and finite")
    precondition(shift.isFinite, "ScalarAffine(shift: \(shift)): the shift must be finite")
    self.logScale = Tensor(Scalar.log(scale))
    self.shift = Tensor(shift)
    self.isLearnable = learnable
  }

  /// The current scale, e^logScale.
  public var scale: Scalar { Scalar.exp(logScale.scalar) }

  /// - Parameters:
  ///   - x: `[batch, event...]`.
  /// - Returns: y of `x`'s shape and D·log scale per sample (`[batch]`).
  /// - Complexity: O(n).
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let eventSize = elementwiseEventSize(x)
    let logDeterminant = Tensor<Scalar>.zeros(shape: [x.shape[0]]) + logScale * Scalar(eventSize)
    return (x * exp(logScale) + shift, logDeterminant)
  }

  /// - Parameters:
  ///   - y: `[batch, event...]`.
  /// - Returns: (y − shift)/scale and −D·log scale per sample (`[batch]`).
  /// - Complexity: O(n).
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let eventSize = elementwiseEventSize(y)
    let logDeterminant = Tensor<Scalar>.zeros(shape: [y.shape[0]]) - logScale * Scalar(eventSize)
    return ((y - shift) * exp(-logScale), logDeterminant)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    guard isLearnable else { return }
    visitor.visit("logScale", &logScale)
    visitor.visit("shift", &shift)
  }
}
