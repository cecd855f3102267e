import FlowTensor

/// A probability distribution over events of a fixed shape, with a
/// differentiable log-density and seeded sampling: the base of a ``Flow``.
public protocol Distribution<Scalar>: Layer {
  associatedtype Scalar

  /// The shape of one event (a sample without its batch axis).
  var eventShape: [Int] { get }

  /// log p(x) per sample, natural log.
  /// - Parameters:
  ///   - x: `[batch] + eventShape`.
  /// - Returns: `[batch]`.
  func logProbability(_ x: Tensor<Scalar>) -> Tensor<Scalar>

  /// `count` independent samples, `[count] + eventShape`.
  func sample<Generator: RandomNumberGenerator>(count: Int, using generator: inout Generator) -> Tensor<Scalar>
}

/// The standard normal distribution N(0, I) over events of a given shape.
public struct StandardNormal<Scalar: TensorScalar>: Distribution {
  public let eventShape: [Int]

  public init(eventShape: [Int]) {
    self.eventShape = eventShape
  }

  /// −½‖x‖² − (d/2)·log 2π per sample, d the event size.
  /// - Complexity: O(batch·d).
  public func logProbability(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(
      Array(x.shape.dropFirst()) == eventShape,
      "StandardNormal.logProbability: input \(x.shape) is not [batch] + \(eventShape)")
    let size = eventShape.reduce(1, *)
    let squares = (x * x).reshaped(to: [x.shape[0], size]).sum(alongAxes: [1])
    return squares * Scalar(-0.5) - Scalar(0.5 * Double(size) * Double.log(2 * Double.pi))
  }

  public func sample<Generator: RandomNumberGenerator>(count: Int, using generator: inout Generator) -> Tensor<Scalar> {
    Tensor.randomNormal(shape: [count] + eventShape, using: &generator)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {}
}
