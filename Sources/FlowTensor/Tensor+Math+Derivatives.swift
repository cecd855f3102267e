import RealModule

// Scalar derivative formulas of the elementwise functions in
// Tensor+Math.swift, used by their pullbacks inside fused loops. Each is
// written so it neither overflows nor cancels in the tails.

/// sign(x): −1, 0 or 1, the derivative of |x| (0 at 0); NaN stays NaN.
@inline(__always) @usableFromInline
func signOf<Scalar: TensorScalar>(_ x: Scalar) -> Scalar {
  x > 0 ? 1 : x < 0 ? -1 : x
}

/// sign(x) of every scalar, as a constant (no derivative: it is piecewise constant).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func signs<Scalar: TensorScalar>(of x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.detached.map { chunk in chunk.apply { signOf($0) } }
}

/// σ′(x) = σ(x)·σ(−x) = e^−|x| / (1 + e^−|x|)², symmetric in x and accurate
/// to a few ulps everywhere: one exponential that cannot overflow, no
/// subtraction.
@inline(__always) @usableFromInline
func logisticDerivative<Scalar: TensorScalar>(_ x: Scalar) -> Scalar {
  let e = Scalar.exp(-x.magnitude)
  let denominator = 1 + e
  return e / (denominator * denominator)
}

/// tanh′(x) = sech² x = 4·e^−2|x| / (1 + e^−2|x|)², accurate in the tails
/// where 1 − tanh² x cancels.
@inline(__always) @usableFromInline
func hyperbolicSecantSquared<Scalar: TensorScalar>(_ x: Scalar) -> Scalar {
  let e = Scalar.exp(-2 * x.magnitude)
  let denominator = 1 + e
  return 4 * e / (denominator * denominator)
}

/// 2·√(2/π), the scale c of the tanh-approximate GELU's argument u = c(x + k x³)
/// in its sigmoid form x·σ(u) (Hendrycks & Gimpel 2016).
let approximateGeluScale = 2 * 0.7978845608028654
/// The cubic coefficient k = 0.044715 of the tanh-approximate GELU.
let approximateGeluCubic = 0.044715

/// The derivative of the tanh-approximate GELU x·σ(u), u = c(x + k x³):
/// σ(u) + x·σ(u)·σ(−u)·c(1 + 3k x²).
@inline(__always) @usableFromInline
func approximateGeluDerivative<Scalar: TensorScalar>(_ x: Scalar) -> Scalar {
  let scale = Scalar(approximateGeluScale)
  let cubic = Scalar(approximateGeluCubic)
  let square = x * x
  let u = scale * (x + cubic * square * x)
  let s = stableSigmoid(u)
  return s + x * s * stableSigmoid(-u) * scale * (1 + 3 * cubic * square)
}

/// The derivative of the exact GELU x·Φ(x): Φ(x) + x·φ(x).
@inline(__always) @usableFromInline
func exactGeluDerivative(_ x: Double) -> Double {
  normalCDF(x) + x * normalDensity(x)
}
