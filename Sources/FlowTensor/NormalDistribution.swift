import RealModule

// The standard normal distribution's CDF Φ, its logarithm and its inverse,
// as scalar functions accurate far into the tails (mixture-CDF flows and
// Gaussianisation layers evaluate them at |x| up to ~38), and as
// elementwise tensor ops.
//
// Every function works in `Double`; the `Float` overloads and the `Float`
// tensor ops round a `Double` result, which is the most accurate `Float`
// answer and needs no second set of tail formulas.

/// 1/√2 split into a double and the rounding error of that double, so that
/// x/√2 can be formed to about twice double precision.
let inverseSquareRootOfTwoHigh = 0.7071067811865476
let inverseSquareRootOfTwoLow = -4.833646656726457e-17
/// 2/√π, the scale of erfc's derivative.
let twoOverSquareRootOfPi = 1.1283791670955126
/// ½ log(2π), the log normaliser of the normal density.
let halfLogTwoPi = 0.9189385332046728

/// The standard normal cumulative distribution function Φ(x) = P(Z ≤ x).
///
/// Φ(x) = ½ erfc(−x/√2), which keeps full relative precision in the lower
/// tail (Φ(−30) ≈ 4.9e-198, not 0). Below x = −1 the quotient x/√2 is formed
/// in double-double arithmetic and its low part applied as a first-order
/// correction, because rounding the argument of erfc alone would cost a
/// relative error of about x²·ε (1.6e-13 at x = −38).
/// - Parameters:
///   - x: any value; NaN gives NaN.
/// - Returns: Φ(x) in [0, 1], to a few ulps.
/// - Complexity: O(1).
public func normalCDF(_ x: Double) -> Double {
  guard x < -1 else { return 0.5 * Double.erfc(-x * inverseSquareRootOfTwoHigh) }
  if x == -.infinity { return 0 }
  // z = −x/√2 = high + low exactly up to O(ε²): `high` is the rounded
  // product, `low` its rounding error (by fused multiply-add) plus the
  // contribution of 1/√2's own low part.
  let high = -x * inverseSquareRootOfTwoHigh
  let low = -(high.addingProduct(x, inverseSquareRootOfTwoHigh) + x * inverseSquareRootOfTwoLow)
  // erfc(high + low) ≈ erfc(high) − low · (2/√π) e^(−high²).
  let derivative = twoOverSquareRootOfPi * Double.exp(-high * high)
  return 0.5 * (Double.erfc(high) - low * derivative)
}

/// The standard normal CDF Φ in single precision, rounded from ``normalCDF(_:)-(Double)``.
public func normalCDF(_ x: Float) -> Float { Float(normalCDF(Double(x))) }

/// The logarithm of the standard normal CDF, log Φ(x).
///
/// Three regimes keep it accurate everywhere:
/// - x > 0: log Φ(x) = log1p(−Φ(−x)), since Φ(x) is close to 1;
/// - −30 ≤ x ≤ 0: log of ``normalCDF(_:)-(Double)``, which is accurate there;
/// - x < −30: the asymptotic (Mills-ratio) expansion
///   Φ(x) = φ(x)/|x| · (1 − 1/x² + 3/x⁴ − 15/x⁶ + …)
///   (Abramowitz & Stegun 26.2.12), so that log Φ stays finite long after
///   Φ itself underflows (log Φ(−1e10) ≈ −5e19). Eight terms leave a
///   relative error below 1e-17 in the series at x = −30.
/// - Parameters:
///   - x: any value; NaN gives NaN, −∞ gives −∞.
/// - Returns: log Φ(x) ≤ 0.
/// - Complexity: O(1).
public func logNormalCDF(_ x: Double) -> Double {
  if x > 0 { return Double.log(onePlus: -normalCDF(-x)) }
  if x >= -30 { return Double.log(normalCDF(x)) }
  if x.isNaN { return x }
  let t = 1 / (x * x)
  // The series minus its leading 1: Σ (−1)^k (2k−1)!! t^k for k = 1…8.
  let series =
    t * (-1 + t * (3 + t * (-15 + t * (105 + t * (-945 + t * (10_395 + t * (-135_135 + t * 2_027_025)))))))
  return -0.5 * x * x - Double.log(-x) - halfLogTwoPi + Double.log(onePlus: series)
}

/// log Φ in single precision, rounded from ``logNormalCDF(_:)-(Double)``.
public func logNormalCDF(_ x: Float) -> Float { Float(logNormalCDF(Double(x))) }

/// The inverse of the standard normal CDF (the probit, or normal quantile
/// function): the x with Φ(x) = p.
///
/// Wichura's algorithm AS 241 (PPND16; M. J. Wichura, "The percentage
/// points of the normal distribution", Applied Statistics 37 (1988)
/// 477–484): a rational minimax approximation of degree 7/7 in
/// p − ½ for |p − ½| ≤ 0.425, and two of degree 7/7 in r = √(−log min(p, 1−p))
/// beyond, about 1e-16 relative. In the tails one Halley step on
/// Φ(x) = min(p, 1−p), with Φ from erfc, then removes the rounding errors of
/// the log, square root and rational evaluation. For p > ½ the symmetry
/// Φ⁻¹(p) = −Φ⁻¹(1 − p) applies, and 1 − p is exact (Sterbenz), so
/// 1 − 1e-16 still maps to a finite 8.2.
/// - Parameters:
///   - p: a probability; p = 0 gives −∞, p = 1 gives +∞, NaN or p outside
///     [0, 1] give NaN.
/// - Returns: Φ⁻¹(p), to about 1e-15 relative for p in [1e-300, 1 − 1e-16].
/// - Complexity: O(1).
public func inverseNormalCDF(_ p: Double) -> Double {
  guard p > 0 && p < 1 else {
    if p == 0 { return -.infinity }
    if p == 1 { return .infinity }
    return .nan
  }
  let q = p - 0.5
  if Swift.abs(q) <= 0.425 {
    let r = 0.180625 - q * q
    let numerator =
      (((((((2.5090809287301226727e3 * r + 3.3430575583588128105e4) * r + 6.7265770927008700853e4) * r
        + 4.5921953931549871457e4) * r + 1.3731693765509461125e4) * r + 1.9715909503065514427e3) * r
        + 1.3314166789178437745e2) * r + 3.3871328727963666080)
    let denominator =
      (((((((5.2264952788528545610e3 * r + 2.8729085735721942674e4) * r + 3.9307895800092710610e4) * r
        + 2.1213794301586595867e4) * r + 5.3941960214247511077e3) * r + 6.8718700749205790830e2) * r
        + 4.2313330701600911252e1) * r + 1)
    return q * numerator / denominator
  }
  // The smaller tail probability; 1 − p is exact because p ≥ ½.
  let tail = q < 0 ? p : 1 - p
  let logTail = Double.log(tail)
  var r = Double.sqrt(-logTail)
  var x: Double
  if r <= 5 {
    r -= 1.6
    let numerator =
      (((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r + 2.41780725177450611770e-1) * r
        + 1.27045825245236838258) * r + 3.64784832476320460504) * r + 5.76949722146069140550) * r
        + 4.63033784615654529590) * r + 1.42343711074968357734)
    let denominator =
      (((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r + 1.51986665636164571966e-2) * r
        + 1.48103976427480074590e-1) * r + 6.89767334985100004550e-1) * r + 1.67638483018380384940) * r
        + 2.05319162663775882187) * r + 1)
    x = -numerator / denominator
  } else {
    r -= 5
    let numerator =
      (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 1.24266094738807843860e-3) * r
        + 2.65321895265761230930e-2) * r + 2.96560571828504891230e-1) * r + 1.78482653991729133580) * r
        + 5.46378491116411436990) * r + 6.65790464350110377720)
    let denominator =
      (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r + 1.84631831751005468180e-5) * r
        + 7.86869131145613259100e-4) * r + 1.48753612908506148525e-2) * r + 1.36929880922735805310e-1) * r
        + 5.99832206555887937690e-1) * r + 1)
    x = -numerator / denominator
  }
  // One Halley step on f(x) = Φ(x) − tail, whose root x is negative:
  // u = f/φ(x), x ← x − u / (1 + x·u/2). φ(x) = e^(−x²/2)/√(2π) underflows
  // near x = −38.6 while tail is still representable, so the ratio is
  // formed as (f/tail) · e^(x²/2 + log tail) · √(2π), whose exponent stays
  // small. Subnormal tails skip the step: Φ there has lost precision.
  if tail >= Double.leastNormalMagnitude {
    let relativeResidual = normalCDF(x) / tail - 1
    let u = relativeResidual * Double.exp(0.5 * x * x + logTail) * 2.5066282746310007
    x -= u / (1 + 0.5 * x * u)
  }
  return q < 0 ? x : -x
}

/// Φ⁻¹ in single precision, rounded from ``inverseNormalCDF(_:)-(Double)``.
public func inverseNormalCDF(_ p: Float) -> Float { Float(inverseNormalCDF(Double(p))) }

// MARK: - Tensor ops

/// Φ(x), the standard normal CDF, of every scalar; see ``normalCDF(_:)-(Double)``.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape with values in [0, 1].
/// - Complexity: O(n), split across cores.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func normalCDF<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = x.map { chunk in chunk.apply { Scalar(normalCDF(Double($0))) } }
  guard x.autodiff != nil else { return value }
  // Φ′ = φ.
  let input = x.detached
  return value.derived(
    from: x, operation: "normalCDF",
    pullback: {
      Tensor.zip($0, input, operation: "normalCDF pullback") { chunk in
        chunk.apply { $0 * Scalar(normalDensity(Double($1))) }
      }
    },
    tangent: { x, _, tangent in tangent * standardNormalDensity(x) })
}

/// log Φ(x) of every scalar, finite far below where Φ underflows; see
/// ``logNormalCDF(_:)-(Double)``.
///
/// Its derivative φ(x)/Φ(x) keeps the same range: it is −x/(1 + S(x)) from
/// the asymptotic series below −30 and exp(log φ − log Φ) above, never the
/// quotient of two underflowed values.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape with values ≤ 0.
/// - Complexity: O(n), split across cores.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func logNormalCDF<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = x.map { chunk in chunk.apply { Scalar(logNormalCDF(Double($0))) } }
  guard x.autodiff != nil else { return value }
  let input = x.detached
  return value.derived(
    from: x, operation: "logNormalCDF",
    pullback: {
      Tensor.zip($0, input, operation: "logNormalCDF pullback") { chunk in
        chunk.apply { $0 * Scalar(logNormalCDFDerivative(Double($1))) }
      }
    },
    tangent: { x, _, tangent in tangent * logNormalCDFSlope(x) })
}

/// Φ⁻¹(p), the standard normal quantile, of every scalar; see
/// ``inverseNormalCDF(_:)-(Double)``.
/// - Parameters:
///   - p: a tensor of probabilities of any shape; 0 and 1 map to ∓∞,
///     values outside [0, 1] to NaN.
/// - Returns: a tensor of `p`'s shape.
/// - Complexity: O(n), split across cores.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func inverseNormalCDF<Scalar: TensorScalar>(_ p: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = p.map { chunk in chunk.apply { Scalar(inverseNormalCDF(Double($0))) } }
  guard p.autodiff != nil else { return value }
  // (Φ⁻¹)′(p) = 1/φ(Φ⁻¹(p)) = √(2π)·e^(y²/2), from the output y (+∞ at 0 and 1).
  return value.derived(
    from: p, operation: "inverseNormalCDF",
    pullback: {
      Tensor.zip($0, value, operation: "inverseNormalCDF pullback") { chunk in
        chunk.apply { $0 * Scalar(squareRootOfTwoPi * Double.exp(0.5 * Double($1) * Double($1))) }
      }
    },
    tangent: { _, output, tangent in tangent * (exp(square(output) * 0.5) * Scalar(squareRootOfTwoPi)) })
}
