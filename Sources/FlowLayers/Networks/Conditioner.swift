import FlowTensor

/// A network that a coupling layer asks for the parameters of its
/// transformation: it reads the identity (conditioning) part of the input
/// and returns shifts and raw scales for the transformed part.
///
/// ``MLP`` serves flat inputs (`[batch, features]`), ``ResidualConditioner``
/// images (`[batch, channels, height, width]`); any ``Layer`` with a
/// differentiable `callAsFunction` can be one.
public protocol Conditioner<Scalar>: Layer {
  /// The network's output for a batch.
  func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar>
}

/// The pointwise nonlinearity between the layers of a network.
public enum Activation: Equatable, Sendable {
  /// max(x, 0).
  case relu
  /// x·Φ(x), exact (Hendrycks & Gimpel 2016).
  case gelu
  /// The hyperbolic tangent.
  case tanh
  /// x·σ(x), the sigmoid-weighted linear unit (Elfwing et al. 2018; "swish").
  case silu

  /// Applies the activation to every scalar of `x`.
  /// - Complexity: O(n).
  public func callAsFunction<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    switch self {
    case .relu: return FlowTensor.relu(x)
    case .gelu: return FlowTensor.gelu(x)
    case .tanh: return FlowTensor.tanh(x)
    case .silu: return x * sigmoid(x)
    }
  }
}

/// Uniform samples in [−bound, bound) with bound = 1/√fan_in: PyTorch's
/// default initialisation of `nn.Linear` and `nn.Conv2d` (Kaiming-uniform
/// with a = √5 for the weight, whose bound works out to 1/√fan_in, and the
/// same bound for the bias). Drawn in Double and rounded, so Float and
/// Double layers built from one seed hold the same numbers up to rounding.
func kaimingUniform<Scalar: TensorScalar>(
  shape: [Int], fanIn: Int, using generator: inout SeededGenerator
) -> Tensor<Scalar> {
  guard fanIn > 0 else { return Tensor.zeros(shape: shape) }
  let bound = 1 / Double(fanIn).squareRoot()
  let values = Tensor<Double>.randomUniform(shape: shape, in: -bound..<bound, using: &generator)
  return Tensor(shape: shape, scalars: values.scalars.map { Scalar($0) })
}
