import FlowLayers
import FlowTensor

/// One evaluation of the training objective on a batch.
public struct RectangularFlowLoss<Scalar: TensorScalar> {
  /// The loss to differentiate: one scalar, with its graph. For the
  /// stochastic estimator its value holds the surrogate, whose value is
  /// meaningless (only its gradient estimates ∂ ½ log det JᵀJ).
  public var value: Tensor<Scalar>
  /// The batch mean of log p_Z(g†(x)).
  public var priorLogProbability: Double
  /// The batch mean of log det(JᵀJ) (exact estimator only).
  public var logGramDeterminant: Double?
  /// The batch mean of ‖x − g(g†(x))‖².
  public var reconstructionError: Double
  /// The likelihood weight w applied at this step.
  public var likelihoodWeight: Double
  /// The largest number of CG iterations over the batch's systems (stochastic only).
  public var conjugateGradientIterations: Int?
  /// Whether every CG system reached its tolerance (stochastic only).
  public var conjugateGradientConverged: Bool?
  /// The Cholesky jitter used (exact only; 0 when none).
  public var jitter: Double?

  /// The batch mean of −log p(x), when the exact log-determinant is known.
  public var negativeLogLikelihood: Double? {
    logGramDeterminant.map { -priorLogProbability + 0.5 * $0 }
  }
}

/// Held-out figures of a ``RectangularFlow``, always by the exact estimator.
public struct RectangularFlowEvaluation: Codable, Equatable, Sendable {
  /// The mean of −log p(x), nats (density on the learned manifold).
  public var negativeLogLikelihood: Double
  /// The mean of ‖x − g(g†(x))‖².
  public var reconstructionError: Double
}

extension RectangularFlow {
  /// The training objective on a batch (see ``RectangularFlowObjective``),
  /// differentiable with respect to the parameters: use it inside
  /// `valueWithGradient(at: model) { try $0.loss(…).value }`.
  ///
  /// - Parameters:
  ///   - x: `[batch, ambientSize]`.
  ///   - objective: the estimator, β and the warm-up.
  ///   - step: the training step (0-based), for the warm-up.
  ///   - generator: draws the Hutchinson probes (stochastic estimator only).
  /// - Returns: the loss and its parts.
  /// - Throws: ``LinearAlgebraError`` from the exact estimator's Cholesky
  ///   factorisation after every jitter retry.
  /// - Complexity: exact: a forward pass of g with d tangents; stochastic:
  ///   up to `maximumIterations` (JVP + VJP) pairs on K·batch rows without
  ///   graph, then a forward pass with 2K tangents; two-step: one pass.
  public func loss(
    on x: Tensor<Scalar>, objective: RectangularFlowObjective, step: Int, using generator: inout SeededGenerator
  ) throws -> RectangularFlowLoss<Scalar> {
    checkData(x, operation: "RectangularFlow.loss")
    let weight = objective.warmup.weight(atStep: step)
    let z = injection.project(x)
    var result = RectangularFlowLoss<Scalar>(
      value: Tensor(0), priorLogProbability: 0, logGramDeterminant: nil, reconstructionError: 0,
      likelihoodWeight: weight)
    let priorLogProbability: Tensor<Scalar>
    let reconstruction: Tensor<Scalar>
    // The term standing for ½ log det JᵀJ in the loss (its value or a surrogate with its gradient).
    var halfLogGram: Tensor<Scalar>? = nil
    switch objective.estimator {
    case .exact:
      let terms = try densityTerms(latent: z)
      priorLogProbability = terms.priorLogProbability
      reconstruction = terms.reconstruction
      halfLogGram = terms.logGramDeterminant * Scalar(0.5)
      result.logGramDeterminant = Double(terms.logGramDeterminant.mean().scalar)
      result.jitter = terms.jitter
    case .stochastic(let settings):
      priorLogProbability = prior.logProbability(z)
      if let closedForm = injection.logGramDeterminant(at: z) {
        reconstruction = injection.embed(z)
        halfLogGram = closedForm * Scalar(0.5)
        result.logGramDeterminant = Double(closedForm.mean().scalar)
      } else {
        let estimate = hutchinsonSurrogate(at: z, settings: settings, using: &generator)
        reconstruction = estimate.reconstruction
        halfLogGram = estimate.surrogate * Scalar(0.5)
        result.conjugateGradientIterations = estimate.iterations
        result.conjugateGradientConverged = estimate.converged
      }
    case .twoStep:
      priorLogProbability = prior.logProbability(stopGradient(z))
      reconstruction = injection.embed(z)
    }
    let difference = x - reconstruction
    let squaredErrors = (difference * difference).sum(alongAxes: [1])
    var likelihoodTerm = -priorLogProbability
    if let halfLogGram { likelihoodTerm = likelihoodTerm + halfLogGram }
    result.value = (likelihoodTerm * Scalar(weight) + squaredErrors * Scalar(objective.reconstructionWeight)).mean()
    result.priorLogProbability = Double(priorLogProbability.mean().scalar)
    result.reconstructionError = Double(squaredErrors.mean().scalar)
    return result
  }

  /// Mean −log p(x) and reconstruction error on held-out data, by the exact
  /// estimator, without recording.
  /// - Parameters:
  ///   - x: `[batch, ambientSize]`.
  public func evaluate(_ x: Tensor<Scalar>) throws -> RectangularFlowEvaluation {
    try withoutRecording {
      let terms = try densityTerms(stopGradient(x))
      let difference = x - terms.reconstruction
      return RectangularFlowEvaluation(
        negativeLogLikelihood: -Double(terms.logProbability.mean().scalar),
        reconstructionError: Double((difference * difference).sum(alongAxes: [1]).mean().scalar))
    }
  }

  /// The Hutchinson surrogate of log det(JᵀJ) at z (Caterini et al. 2021,
  /// §3.2 and the reference code's `_approx_log_det_jac_and_reconstruction`):
  ///
  ///     L̂ = (1/K) Σ_k sg(u_k)ᵀ (JᵀJ) ε_k = (1/K) Σ_k (J·sg(u_k))·(J·ε_k),
  ///     u_k = (JᵀJ)⁻¹ ε_k by conjugate gradients,
  ///
  /// so that ∇L̂ = (1/K) Σ_k ε_kᵀ A⁻¹ (∇A) ε_k, an unbiased estimate of
  /// ∇ log det A = tr(A⁻¹ ∇A) when CG has converged.
  ///
  /// The CG products A·v = Jᵀ(J·v) use a copy of g whose parameters are cut
  /// from the graph, a JVP without recording and a VJP whose graph is local
  /// to this call (its pullback runs without recording): nothing of the
  /// solve reaches the training graph. The K probes are folded into the
  /// batch (K·batch rows), so each CG iteration is one JVP and one VJP.
  /// The surrogate then comes from ONE differentiable forward pass carrying
  /// the 2K tangents u_k and ε_k, which also gives the reconstruction g(z).
  /// - Parameters:
  ///   - z: `[batch, d]`, with its graph.
  /// - Returns: the surrogate `[batch]` and g(z) `[batch, D]` (both
  ///   differentiable), and the CG iteration count and convergence.
  public func hutchinsonSurrogate(
    at z: Tensor<Scalar>, settings: HutchinsonSettings, using generator: inout SeededGenerator
  ) -> (surrogate: Tensor<Scalar>, reconstruction: Tensor<Scalar>, iterations: Int, converged: Bool) {
    let batch = z.shape[0]
    let d = latentSize
    let probes = settings.probes
    let epsilon: Tensor<Scalar>
    switch settings.distribution {
    case .gaussian: epsilon = Tensor.randomNormal(shape: [probes, batch, d], using: &generator)
    case .rademacher: epsilon = Tensor.randomRademacher(shape: [probes, batch, d], using: &generator)
    }
    var frozen = injection
    frozen.updateParameters { _, parameter in parameter = stopGradient(parameter) }
    let points = stopGradient(z).expandingShape(at: 0).broadcast(to: [probes, batch, d]).reshaped(to: [probes * batch, d])
    let (_, pullback) = vjp(of: { frozen.embed($0) }, at: points)
    let solve = conjugateGradientSolve(
      epsilon.reshaped(to: [probes * batch, d]), tolerance: settings.tolerance,
      maximumIterations: settings.maximumIterations ?? d
    ) { v in
      pullback(jvp(of: { frozen.embed($0) }, at: points, along: v).tangent)
    }
    let u = solve.solution.reshaped(to: [1, probes, batch, d])
    let directions = Tensor(concatenating: [u, epsilon.reshaped(to: [1, probes, batch, d])], alongAxis: 0)
    let (reconstruction, tangent) = jvp(of: { self.injection.embed($0) }, at: z, along: directions)
    // tangent: [2, K, batch, D]; J·u_k and J·ε_k.
    let halves = tangent.split(count: 2, alongAxis: 0)
    let surrogate = (halves[0] * halves[1]).sum(alongAxes: [0, 1, 3]) / Scalar(probes)
    return (surrogate, reconstruction, solve.iterationCount, solve.allConverged)
  }
}
