import RealModule

// Derivatives of the normal-distribution functions: the density φ, which is
// Φ′, and the slope φ/Φ of log Φ, as scalar functions for pullbacks and as
// tensor expressions for tangent rules.

/// √(2π), the normaliser of the normal density, whose reciprocal is
/// Φ⁻¹′(p)·φ(Φ⁻¹(p)).
let squareRootOfTwoPi = 2.5066282746310002

/// The standard normal density φ(x) = e^(−x²/2)/√(2π).
@inline(__always) @usableFromInline
func normalDensity(_ x: Double) -> Double {
  Double.exp(-0.5 * x * x - halfLogTwoPi)
}

/// (log Φ)′(x) = φ(x)/Φ(x), accurate where both underflow.
///
/// Below x = −30 it comes from the same asymptotic series as
/// ``logNormalCDF(_:)-(Double)``: Φ(x) = φ(x)/|x| · (1 + S(x)), so
/// φ/Φ = −x / (1 + S(x)) (Abramowitz & Stegun 26.2.12). Above, it is
/// exp(log φ − log Φ), whose exponent loses at most x²·ε/2 (1e-13 at −30).
@inline(__always) @usableFromInline
func logNormalCDFDerivative(_ x: Double) -> Double {
  if x >= -30 { return Double.exp(-0.5 * x * x - halfLogTwoPi - logNormalCDF(x)) }
  if x.isNaN { return x }
  let t = 1 / (x * x)
  let series =
    t * (-1 + t * (3 + t * (-15 + t * (105 + t * (-945 + t * (10_395 + t * (-135_135 + t * 2_027_025)))))))
  return -x / (1 + series)
}

/// φ(x) of every scalar, from public ops (so that it differentiates).
func standardNormalDensity<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  exp(square(x) * -0.5) * Scalar(1 / squareRootOfTwoPi)
}

/// φ(x)/Φ(x), the slope of log Φ, of every scalar: the tangent factor of
/// ``logNormalCDF(_:)-(Tensor<Scalar>)``, an op of its own so that it keeps
/// its precision far into the lower tail and can itself be differentiated.
///
/// Its derivative is r′ = (φ′Φ − φ²)/Φ² = −r·(x + r), with r = φ/Φ.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func logNormalCDFSlope<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = x.map { chunk in chunk.apply { Scalar(logNormalCDFDerivative(Double($0))) } }
  guard x.autodiff != nil else { return value }
  let input = x.detached
  return value.derived(
    from: x, operation: "logNormalCDF slope",
    pullback: { cotangent in
      Tensor.zip(cotangent * value, input + value, operation: "logNormalCDF slope pullback") { chunk in
        chunk.apply { -$0 * $1 }
      }
    },
    tangent: { x, output, tangent in tangent * -(output * (x + output)) })
}
