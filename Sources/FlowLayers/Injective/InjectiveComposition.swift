import FlowTensor

/// An injective map followed by a square flow: g = f⁻¹ ∘ h with h injective
/// R^d → R^D and f a D-dimensional ``Bijector``, the injective map of a
/// rectangular flow (Caterini et al. 2021: h a ``ZeroPadding``, f a
/// RealNVP).
///
/// A bijector's `forward` is data → base, so its *inverse* is the
/// generative direction used here: ``embed(_:)`` = f.inverse(h.embed(z)),
/// and ``project(_:)`` = h.project(f.forward(x)). Since f is invertible,
/// project(embed(z)) = z whenever h's left inverse is exact.
///
/// The log-determinants of f are not used: det(JᵀJ) does not factor through
/// a square map applied after the padding, so ``logGramDeterminant(at:)``
/// is `nil` and comes from the Jacobian. Parameters: `injection.…`,
/// `transform.…`.
public struct InjectiveComposition<Injection: InjectiveBijector, Transform: Bijector>: InjectiveBijector
where Injection.Scalar == Transform.Scalar {
  public typealias Scalar = Injection.Scalar
  /// h, R^d → R^D.
  public var injection: Injection
  /// f, the square flow on R^D, data → base in its `forward`.
  public var transform: Transform

  public init(injection: Injection, transform: Transform) {
    self.injection = injection
    self.transform = transform
  }

  public var latentSize: Int { injection.latentSize }
  public var ambientSize: Int { injection.ambientSize }

  /// f⁻¹(h(z)).
  /// - Parameters:
  ///   - z: `[batch, latentSize]`.
  /// - Returns: `[batch, ambientSize]`.
  /// - Complexity: h's cost plus one inverse pass of f.
  public func embed(_ z: Tensor<Scalar>) -> Tensor<Scalar> {
    transform.inverse(injection.embed(z)).output
  }

  /// h†(f(x)).
  /// - Parameters:
  ///   - x: `[batch, ambientSize]`.
  /// - Returns: `[batch, latentSize]`.
  /// - Complexity: one forward pass of f plus h†'s cost.
  public func project(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    injection.project(transform.forward(x).output)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("injection", &injection)
    visitor.visit("transform", &transform)
  }
}
