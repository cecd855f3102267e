import RealModule

/// Φ⁻¹(e^l): the standard normal quantile of a probability given by its
/// logarithm, finite where the probability itself underflows.
///
/// Above l = −700 it is ``inverseNormalCDF(_:)-(Double)`` of e^l (exact in
/// `Double` there); below, Newton's method on log Φ(x) = l from
/// x₀ = −√(−2l), whose slope φ/Φ comes from the same asymptotic series as
/// ``logNormalCDF(_:)-(Double)``, so it stays accurate to l ≈ −1e300.
/// - Parameters:
///   - logProbability: l ≤ 0; 0 gives +∞, −∞ gives −∞, positive or NaN give NaN.
/// - Returns: the x with log Φ(x) = l.
/// - Complexity: O(1) (at most 50 Newton steps in the far tail; a handful in practice).
public func inverseNormalCDF(logProbability l: Double) -> Double {
  guard l <= 0 else { return .nan }
  if l > -700 { return inverseNormalCDF(Double.exp(l)) }
  if l == -.infinity { return -.infinity }
  var x = -Double.sqrt(-2 * l)
  for _ in 0..<50 {
    let step = (logNormalCDF(x) - l) / logNormalCDFDerivative(x)
    x -= step
    if Swift.abs(step) <= 1e-15 * Swift.abs(x) { break }
  }
  return x
}

/// Φ⁻¹(e^l) of every scalar, computed in `Double`; see
/// ``inverseNormalCDF(logProbability:)-(Double)``. Where `Float` would
/// underflow e^l (l < −87), the quantile is still exact.
///
/// Differentiable: d/dl Φ⁻¹(e^l) = Φ(u)/φ(u) = 1/(φ/Φ)(u) at the output u.
/// - Parameters:
///   - logProbability: a tensor of values ≤ 0, any shape.
/// - Returns: a tensor of its shape.
/// - Complexity: O(n), split across cores.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func inverseNormalCDF<Scalar: TensorScalar>(logProbability: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = logProbability.map { chunk in chunk.apply { Scalar(inverseNormalCDF(logProbability: Double($0))) } }
  guard logProbability.autodiff != nil else { return value }
  return value.derived(
    from: logProbability, operation: "inverseNormalCDF(logProbability:)",
    pullback: {
      Tensor.zip($0, value, operation: "inverseNormalCDF(logProbability:) pullback") { chunk in
        chunk.apply { $0 / Scalar(logNormalCDFDerivative(Double($1))) }
      }
    },
    tangent: { _, output, tangent in tangent / logNormalCDFSlope(output) })
}
