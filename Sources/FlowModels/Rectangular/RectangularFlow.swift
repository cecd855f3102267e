import FlowLayers
import FlowTensor

/// A rectangular (injective) flow: data on a d-dimensional manifold in R^D
/// modelled as x = g(z), g injective R^d → R^D and z from a d-dimensional
/// flow p_Z (Caterini, Loaiza-Ganem, Pleiss & Cunningham, "Rectangular
/// Flows for Manifold Learning", NeurIPS 2021).
///
/// The density with respect to the volume measure of the manifold g(R^d) is
/// the injective change of variables (their eq. 3):
///
///     log p(x) = log p_Z(g†(x)) − ½·log det(J_g(z)ᵀ J_g(z)),  z = g†(x),
///
/// J_g the D×d Jacobian. When d = D it is the square flow's density. The
/// term −½·log det(JᵀJ) and its gradient are what the estimators of
/// ``RectangularFlowEstimator`` handle; ``loss(on:objective:step:using:)``
/// adds the reconstruction penalty β‖x − g(g†(x))‖² that keeps the manifold
/// on the data.
///
/// Parameters: `injection.…` and `prior.…` (`prior.base.…`, `prior.transform.…`).
public struct RectangularFlow<Injection: InjectiveBijector, PriorBase: Distribution, PriorTransform: Bijector>: Layer
where Injection.Scalar == PriorBase.Scalar, PriorBase.Scalar == PriorTransform.Scalar {
  public typealias Scalar = Injection.Scalar
  /// g, R^d → R^D, with its left inverse g†.
  public var injection: Injection
  /// p_Z, a flow on R^d.
  public var prior: Flow<PriorBase, PriorTransform>

  /// - Parameters:
  ///   - injection: g.
  ///   - prior: a flow over `[batch, injection.latentSize]`.
  public init(injection: Injection, prior: Flow<PriorBase, PriorTransform>) {
    precondition(
      prior.base.eventShape == [injection.latentSize],
      "RectangularFlow: prior event shape \(prior.base.eventShape) is not [\(injection.latentSize)], the latent size")
    self.injection = injection
    self.prior = prior
  }

  /// d.
  public var latentSize: Int { injection.latentSize }
  /// D.
  public var ambientSize: Int { injection.ambientSize }

  /// log p(x) per sample by the exact estimator (the full Jacobian and its
  /// Cholesky factor), differentiable.
  /// - Parameters:
  ///   - x: `[batch, ambientSize]`.
  /// - Returns: `[batch]`.
  /// - Throws: ``LinearAlgebraError`` when JᵀJ stays numerically singular
  ///   after every jitter retry (``GramLogDeterminant``).
  /// - Complexity: one pass of g† and of p_Z, one forward pass of g with d
  ///   tangents, O(batch·(d²D + d³)).
  public func logProbability(_ x: Tensor<Scalar>) throws -> Tensor<Scalar> {
    try densityTerms(x).logProbability
  }

  /// The terms of log p(x) and the reconstruction, by the exact estimator.
  /// - Parameters:
  ///   - x: `[batch, ambientSize]`.
  /// - Returns: z = g†(x) `[batch, d]`, log p_Z(z) `[batch]`,
  ///   log det(JᵀJ) `[batch]`, log p(x) `[batch]`, the reconstruction g(z)
  ///   `[batch, D]`, and the jitter the Cholesky factorisation needed.
  public func densityTerms(_ x: Tensor<Scalar>) throws -> RectangularDensityTerms<Scalar> {
    checkData(x, operation: "RectangularFlow.densityTerms")
    return try densityTerms(latent: injection.project(x))
  }

  /// ``densityTerms(_:)`` from z = g†(x) already computed.
  func densityTerms(latent z: Tensor<Scalar>) throws -> RectangularDensityTerms<Scalar> {
    let priorLogProbability = prior.logProbability(z)
    let reconstruction: Tensor<Scalar>
    let logGram: Tensor<Scalar>
    var jitter = 0.0
    if let closedForm = injection.logGramDeterminant(at: z) {
      reconstruction = injection.embed(z)
      logGram = closedForm
    } else {
      let (output, transposedJacobian) = injection.transposedJacobian(at: z)
      let gram = matmul(transposedJacobian, transposedJacobian, transposingB: true)
      let result = try GramLogDeterminant.cholesky(gram)
      reconstruction = output
      logGram = result.logDeterminant
      jitter = result.jitter
    }
    return RectangularDensityTerms(
      latent: z, priorLogProbability: priorLogProbability, logGramDeterminant: logGram,
      logProbability: priorLogProbability - logGram * Scalar(0.5), reconstruction: reconstruction, jitter: jitter)
  }

  /// Points on the learned manifold: g(z) for z drawn from p_Z.
  /// - Returns: `[count, ambientSize]`.
  public func sample(count: Int, using generator: inout SeededGenerator) -> Tensor<Scalar> {
    injection.embed(prior.sample(count: count, using: &generator))
  }

  /// g(g†(x)), the projection of data onto the learned manifold.
  /// - Parameters:
  ///   - x: `[batch, ambientSize]`.
  /// - Returns: `[batch, ambientSize]`.
  public func reconstruct(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    checkData(x, operation: "RectangularFlow.reconstruct")
    return injection.reconstruct(x)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("injection", &injection)
    visitor.visit("prior", &prior)
  }

  func checkData(_ x: Tensor<Scalar>, operation: String) {
    precondition(
      x.rank == 2 && x.shape[1] == ambientSize, "\(operation): input \(x.shape) is not [batch, \(ambientSize)]")
  }
}

/// The pieces of a rectangular flow's log-density at a batch, from
/// ``RectangularFlow/densityTerms(_:)``; every tensor keeps its graph.
public struct RectangularDensityTerms<Scalar: TensorScalar> {
  /// z = g†(x), `[batch, d]`.
  public var latent: Tensor<Scalar>
  /// log p_Z(z), `[batch]`.
  public var priorLogProbability: Tensor<Scalar>
  /// log det(J_g(z)ᵀ J_g(z)), `[batch]`.
  public var logGramDeterminant: Tensor<Scalar>
  /// log p(x) = log p_Z(z) − ½ log det(JᵀJ), `[batch]`.
  public var logProbability: Tensor<Scalar>
  /// g(z), `[batch, D]`.
  public var reconstruction: Tensor<Scalar>
  /// The jitter ε added to the diagonal of JᵀJ (0 when none was needed).
  public var jitter: Double
}
