import FlowTensor

/// A normalizing flow: a base distribution and a bijector from data to it.
///
/// log p(x) = log p_base(f(x)) + log|det ∂f/∂x| (change of variables), and
/// samples are f⁻¹(z) for z from the base. Parameters are named `base.…`
/// and `transform.…`.
public struct Flow<Base: Distribution, Transform: Bijector>: Layer where Base.Scalar == Transform.Scalar {
  public typealias Scalar = Base.Scalar
  public var base: Base
  public var transform: Transform

  public init(base: Base, transform: Transform) {
    self.base = base
    self.transform = transform
  }

  /// log p(x) per sample: `x` is `[batch, event...]`, the result `[batch]`.
  public func logProbability(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    let (z, logDeterminant) = transform.forward(x)
    return base.logProbability(z) + logDeterminant
  }

  /// `count` samples from the flow.
  public func sample<Generator: RandomNumberGenerator>(count: Int, using generator: inout Generator) -> Tensor<Scalar> {
    transform.inverse(base.sample(count: count, using: &generator)).output
  }

  /// `count` samples and their log-densities, from one pass:
  /// log p(x) = log p_base(z) − log|det ∂f⁻¹/∂z|.
  public func sampleWithLogProbability<Generator: RandomNumberGenerator>(
    count: Int, using generator: inout Generator
  ) -> (samples: Tensor<Scalar>, logProbability: Tensor<Scalar>) {
    let z = base.sample(count: count, using: &generator)
    let (x, logDeterminant) = transform.inverse(z)
    return (x, base.logProbability(z) - logDeterminant)
  }

  /// Data to base: the transform's forward pass.
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    transform.forward(x)
  }

  /// Base to data: the transform's inverse pass.
  public func inverse(_ z: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    transform.inverse(z)
  }

  /// Data-dependent initialisation of the transform from a batch.
  public mutating func initialize(from x: Tensor<Scalar>) {
    _ = transform.initialize(from: x)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("base", &base)
    visitor.visit("transform", &transform)
  }
}
