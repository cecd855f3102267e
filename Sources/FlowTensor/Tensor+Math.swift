import RealModule

// Unary elementwise functions as free functions, `exp(x)`, like the scalar
// functions they lift. Each keeps `x`'s shape, runs in O(n) split across
// cores, maps NaN to NaN, and is specialised for `Float` and `Double`.
// The normal CDF and its relatives live in NormalDistribution.swift.

/// |x| of every scalar.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func abs<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.map { chunk in chunk.apply { $0.magnitude } }
}

/// eˣ of every scalar.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func exp<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = x.map { chunk in ElementwiseKernels.exp(chunk.source, chunk.destination, count: chunk.count) }
  guard x.autodiff != nil else { return value }
  return value.derived(
    from: x, operation: "exp", pullback: { $0 * value }, tangent: { _, output, tangent in tangent * output })
}

/// The natural logarithm of every scalar (NaN below 0, −∞ at 0).
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func log<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.map { chunk in chunk.apply { Scalar.log($0) } }
}

/// log(1 + x) of every scalar, accurate for tiny x where `log(1 + x)` would
/// round 1 + x.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func log1p<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.map { chunk in chunk.apply { Scalar.log(onePlus: $0) } }
}

/// eˣ − 1 of every scalar, accurate for tiny x where `exp(x) - 1` would cancel.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func expm1<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.map { chunk in chunk.apply { Scalar.expMinusOne($0) } }
}

/// √x of every scalar (NaN below 0).
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func sqrt<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.map { chunk in chunk.apply { Scalar.sqrt($0) } }
}

/// 1/√x of every scalar (+∞ at 0, NaN below 0).
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func rsqrt<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.map { chunk in chunk.apply { 1 / Scalar.sqrt($0) } }
}

/// x² of every scalar.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func square<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.map { chunk in chunk.apply { $0 * $0 } }
}

/// The hyperbolic tangent of every scalar.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape with values in [−1, 1].
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func tanh<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.map { chunk in chunk.apply { Scalar.tanh($0) } }
}

/// The logistic sigmoid σ(x) = 1/(1 + e⁻ˣ) of every scalar.
///
/// Written as 1/(1 + e⁻ˣ) for x ≥ 0 and eˣ/(1 + eˣ) for x < 0, so the
/// exponential never overflows and σ(−100) ≈ 3.7e-44 keeps its relative
/// precision instead of rounding to 0.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape with values in [0, 1].
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func sigmoid<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.map { chunk in chunk.apply { stableSigmoid($0) } }
}

@inline(__always) @usableFromInline
func stableSigmoid<Scalar: TensorScalar>(_ x: Scalar) -> Scalar {
  if x >= 0 { return 1 / (1 + Scalar.exp(-x)) }
  let e = Scalar.exp(x)
  return e / (1 + e)
}

/// softplus(x) = log(1 + eˣ) of every scalar.
///
/// Computed as max(x, 0) + log1p(e^−|x|), which neither overflows for large
/// x (softplus(1000) = 1000) nor loses the tiny value for very negative x.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape with values ≥ 0.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func softplus<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.map { chunk in chunk.apply { stableSoftplus($0) } }
}

@inline(__always) @usableFromInline
func stableSoftplus<Scalar: TensorScalar>(_ x: Scalar) -> Scalar {
  // `x > 0 ? x : 0` would turn NaN into 0; the log1p term carries NaN on.
  (x > 0 ? x : 0) + Scalar.log(onePlus: Scalar.exp(-x.magnitude))
}

/// log σ(x) = −softplus(−x) of every scalar, finite for very negative x
/// (log σ(−1000) = −1000) where log(sigmoid(x)) would give −∞.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape with values ≤ 0.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func logSigmoid<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.map { chunk in chunk.apply { -stableSoftplus(-$0) } }
}

/// max(x, 0) of every scalar; NaN stays NaN.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func relu<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.map { chunk in chunk.apply { $0 < 0 ? 0 : $0 } }
}

/// The Gaussian error linear unit, x·Φ(x) (Hendrycks & Gimpel 2016), of
/// every scalar.
///
/// The exact form uses ``normalCDF(_:)-(Double)``, equal to ½(1 + erf(x/√2))
/// but without its cancellation for negative x, so gelu(−30) ≈ −1.5e-196
/// rather than 0. The approximate form is the
/// paper's ½x(1 + tanh(√(2/π)(x + 0.044715x³))), evaluated as
/// x·σ(2·√(2/π)(x + 0.044715x³)) since ½(1 + tanh u) = σ(2u).
/// - Parameters:
///   - x: a tensor of any shape.
///   - approximate: use the tanh approximation instead of the exact erfc form.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func gelu<Scalar: TensorScalar>(_ x: Tensor<Scalar>, approximate: Bool = false) -> Tensor<Scalar> {
  if approximate {
    let twiceSquareRootOfTwoOverPi = Scalar(2 * 0.7978845608028654)
    let cubic = Scalar(0.044715)
    return x.map { chunk in
      chunk.apply { value in
        let u = twiceSquareRootOfTwoOverPi * (value + cubic * value * value * value)
        return value * stableSigmoid(u)
      }
    }
  }
  return x.map { chunk in chunk.apply { value in value * Scalar(normalCDF(Double(value))) } }
}

/// The error function erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt of every scalar.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape with values in [−1, 1].
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func erf<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.map { chunk in chunk.apply { Scalar.erf($0) } }
}

/// The complementary error function erfc(x) = 1 − erf(x) of every scalar,
/// accurate where erf(x) is close to 1.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape with values in [0, 2].
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func erfc<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.map { chunk in chunk.apply { Scalar.erfc($0) } }
}

/// The sine of every scalar, in radians.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func sin<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.map { chunk in chunk.apply { Scalar.sin($0) } }
}

/// The cosine of every scalar, in radians.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func cos<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.map { chunk in chunk.apply { Scalar.cos($0) } }
}
