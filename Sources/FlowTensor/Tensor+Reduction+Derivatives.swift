/// Derivatives of the reductions of `Tensor+Reduction.swift`.
///
/// Every rule reads the reduced result back at the input's rank through
/// ``ReductionPlan/keptShape`` (the reduced axes as size 1), where it
/// broadcasts against the input. Tangent rules reduce the tangent over the
/// plan's axes shifted past its leading batch axes
/// (``ReductionPlan/tangentAxes(_:primal:)``), and build the weights that
/// depend on the primal from public ops on the primal and output they are
/// handed, so that a tangent is itself differentiable (reverse-over-forward).

extension ReductionPlan {
  /// The input's shape with the reduced axes as size 1: the shape at which
  /// a result (or its cotangent) broadcasts against the input.
  @usableFromInline
  var keptShape: [Int] { shape.indices.map { axes.contains($0) ? 1 : shape[$0] } }

  /// The reduced axes of a forward-mode tangent `[batch..., shape...]` of
  /// the input `primal`: the plan's (normalised) axes shifted past the batch axes.
  @usableFromInline
  func tangentAxes<Scalar>(_ tangent: Tensor<Scalar>, primal: Tensor<Scalar>) -> [Int] {
    let batchRank = tangentBatchRank(tangent, primal: primal)
    return axes.map { $0 + batchRank }
  }

  /// Σ over the reduced axes of `weights · tangent`, the tangent of a
  /// reduction whose gradient is `weights` (the input's shape).
  func weightedTangent<Scalar>(_ tangent: Tensor<Scalar>, weights: Tensor<Scalar>, primal: Tensor<Scalar>) -> Tensor<Scalar> {
    (tangent * weights).sum(alongAxes: tangentAxes(tangent, primal: primal), keepingDimensions: keepingDimensions)
  }
}

/// The pullback of a variance: ∂/∂xᵢ Σ (x − x̄)² / d = 2(xᵢ − x̄) / d, since
/// Σ (x − x̄) = 0 removes the term through x̄.
func variancePullback<Scalar>(
  _ plan: ReductionPlan, correction: Int, input: Tensor<Scalar>
) -> (Tensor<Scalar>) -> Tensor<Scalar> {
  let keptShape = plan.keptShape
  let scale = 2 / Scalar(Swift.max(0, plan.reducedCount - correction))
  return { cotangent in
    let deviation = input - input.mean(alongAxes: plan.axes, keepingDimensions: true)
    return cotangent.reshaped(to: keptShape) * deviation * scale
  }
}

/// The tangent of a variance: 2/d · Σ (x − x̄)·ẋ over the reduced axes. The
/// deviation is built from the recorded primal, so the tangent's own
/// derivative includes the term through x − x̄.
func varianceTangent<Scalar>(
  _ plan: ReductionPlan, correction: Int, input: Tensor<Scalar>, tangent: Tensor<Scalar>
) -> Tensor<Scalar> {
  let deviation = input - input.mean(alongAxes: plan.axes, keepingDimensions: true)
  let scale = 2 / Scalar(Swift.max(0, plan.reducedCount - correction))
  return plan.weightedTangent(tangent, weights: deviation, primal: input) * scale
}

/// The pullback of `max` or `min`: each output's cotangent goes to the
/// positions that attain it, split evenly among ties (as torch's `amax`
/// and `amin`), so the gradient is the mean of the one-sided derivatives
/// along the tied positions. A slice holding NaN gets NaN.
func extremumPullback<Scalar>(
  _ plan: ReductionPlan, input: Tensor<Scalar>, output: Tensor<Scalar>
) -> (Tensor<Scalar>) -> Tensor<Scalar> {
  let keptShape = plan.keptShape
  return { cotangent in
    cotangent.reshaped(to: keptShape) * extremumWeights(plan, input: input, output: output)
  }
}

/// The tangent of `max` or `min`: the tangent averaged over the positions
/// attaining each output. The weights are piecewise constant in the input,
/// so they are computed without graph: their derivative is zero.
func extremumTangent<Scalar>(
  _ plan: ReductionPlan, input: Tensor<Scalar>, output: Tensor<Scalar>, tangent: Tensor<Scalar>
) -> Tensor<Scalar> {
  let weights = extremumWeights(plan, input: input.detached, output: output.detached)
  return plan.weightedTangent(tangent, weights: weights, primal: input)
}

/// 1/(number of ties) where the input equals its slice's extremum, 0 elsewhere.
func extremumWeights<Scalar>(_ plan: ReductionPlan, input: Tensor<Scalar>, output: Tensor<Scalar>) -> Tensor<Scalar> {
  let mask = input.elementsEqual(output.reshaped(to: plan.keptShape))
  return mask / mask.sum(alongAxes: plan.axes, keepingDimensions: true)
}

/// The pullback of log-sum-exp: ∂/∂xᵢ log Σ exp(x) = exp(xᵢ − lse), the softmax.
func logSumExpPullback<Scalar>(
  _ plan: ReductionPlan, input: Tensor<Scalar>, output: Tensor<Scalar>
) -> (Tensor<Scalar>) -> Tensor<Scalar> {
  let keptShape = plan.keptShape
  return { cotangent in
    cotangent.reshaped(to: keptShape) * exp(input - output.reshaped(to: keptShape))
  }
}

/// The tangent of log-sum-exp: the tangent averaged with softmax weights,
/// built from the primal and the output (both recorded).
func logSumExpTangent<Scalar>(
  _ plan: ReductionPlan, input: Tensor<Scalar>, output: Tensor<Scalar>, tangent: Tensor<Scalar>
) -> Tensor<Scalar> {
  plan.weightedTangent(tangent, weights: exp(input - output.reshaped(to: plan.keptShape)), primal: input)
}
