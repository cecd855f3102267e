import FlowTensor

/// An invertible, differentiable map with a cheap log-determinant: the
/// building block of a normalizing flow.
///
/// The convention is nflows': `forward` maps data toward the base
/// distribution (the normalizing direction) and `inverse` maps back
/// (sampling). Inputs are batches: `[batch, event...]`; the log-determinant
/// is one value per sample, natural log of |det ∂output/∂input|, summed over
/// the event dimensions (never a mean).
///
/// Both directions are differentiable (they are built from FlowTensor ops),
/// so a flow trains by ``valueWithGradient(at:in:)-(Model,_)`` on its
/// negative log-likelihood. Parameters are visited through ``Layer``.
///
/// Every bijector in the package is registered in the conformance suite
/// (``checkBijector(_:input:parameterStep:options:)``).
public protocol Bijector<Scalar>: Layer {
  associatedtype Scalar

  /// Maps `x` (`[batch, event...]`) toward the base distribution.
  /// - Returns: the output (`[batch, output event...]`) and log|det J| per sample (`[batch]`).
  func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>)

  /// Maps `y` back toward the data: the inverse of ``forward(_:)``.
  /// - Returns: the output and the inverse's log|det J| per sample, which is
  ///   minus the forward log-determinant at that output.
  func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>)

  /// Initialises parameters from the first batch (ActNorm's data-dependent
  /// initialisation) and returns `forward(x)` with the new parameters, so
  /// that a ``Chain`` can pass the batch on. The default does nothing but
  /// the forward pass.
  mutating func initialize(from x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>)
}

extension Bijector {
  public mutating func initialize(from x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    forward(x)
  }
}

/// A bijector of `x` whose parameters depend on a context tensor (a class
/// label, an image, the tokens so far): a conditional flow.
public protocol ConditionalBijector<Scalar>: Layer {
  associatedtype Scalar

  /// Maps `x` (`[batch, event...]`) given `context` (`[batch, context...]`).
  func forward(_ x: Tensor<Scalar>, context: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>)

  /// The inverse of ``forward(_:context:)`` for the same context.
  func inverse(_ y: Tensor<Scalar>, context: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>)
}

/// A conditional bijector with its context fixed: an ordinary bijector.
public struct Conditioned<Base: ConditionalBijector>: Bijector {
  public typealias Scalar = Base.Scalar
  public var base: Base
  /// The context every call uses (`[batch, context...]`, the batch of the inputs).
  public var context: Tensor<Scalar>

  public init(_ base: Base, context: Tensor<Scalar>) {
    self.base = base
    self.context = context
  }

  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    base.forward(x, context: context)
  }

  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    base.inverse(y, context: context)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("base", &base)
  }
}
