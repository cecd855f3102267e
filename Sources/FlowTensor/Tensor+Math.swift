import RealModule

// Unary elementwise functions as free functions, `exp(x)`, like the scalar
// functions they lift. Each keeps `x`'s shape, runs in O(n) split across
// cores, maps NaN to NaN, and is specialised for `Float` and `Double`.
// The normal CDF and its relatives live in NormalDistribution.swift.
//
// Every op attaches a VJP and a JVP. Pullbacks multiply the cotangent by
// the derivative in one fused pass over detached values (the derivative
// formulas are in Tensor+Math+Derivatives.swift); tangent rules multiply the
// tangent by the same derivative written with public ops on the primal
// operand or output, so that reverse mode can differentiate them.

/// |x| of every scalar.
///
/// Its derivative is sign(x), taken as 0 at x = 0.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func abs<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = x.map { chunk in chunk.apply { $0.magnitude } }
  guard x.autodiff != nil else { return value }
  // The derivative is sign(x), taken as 0 at 0 (the subgradient PyTorch
  // and JAX pick); it is piecewise constant, so the tangent rule may use it
  // as a constant.
  let input = x.detached
  return value.derived(
    from: x, operation: "abs",
    pullback: { Tensor.zip($0, input, operation: "abs pullback") { chunk in chunk.apply { $0 * signOf($1) } } },
    tangent: { x, _, tangent in tangent * signs(of: x) })
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
  let value = x.map { chunk in chunk.apply { Scalar.log($0) } }
  guard x.autodiff != nil else { return value }
  let input = x.detached
  return value.derived(
    from: x, operation: "log",
    pullback: { Tensor.zip($0, input, operation: "log pullback") { chunk in chunk.apply { $0 / $1 } } },
    tangent: { x, _, tangent in tangent / x })
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
  let value = x.map { chunk in chunk.apply { Scalar.log(onePlus: $0) } }
  guard x.autodiff != nil else { return value }
  let input = x.detached
  return value.derived(
    from: x, operation: "log1p",
    pullback: { Tensor.zip($0, input, operation: "log1p pullback") { chunk in chunk.apply { $0 / (1 + $1) } } },
    tangent: { x, _, tangent in tangent / (x + 1) })
}

/// eˣ − 1 of every scalar, accurate for tiny x where `exp(x) - 1` would cancel.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func expm1<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = x.map { chunk in chunk.apply { Scalar.expMinusOne($0) } }
  guard x.autodiff != nil else { return value }
  // eˣ itself rather than output + 1, which would round eˣ to 0 for x < −37.
  let input = x.detached
  return value.derived(
    from: x, operation: "expm1",
    pullback: { Tensor.zip($0, input, operation: "expm1 pullback") { chunk in chunk.apply { $0 * Scalar.exp($1) } } },
    tangent: { x, _, tangent in tangent * exp(x) })
}

/// √x of every scalar (NaN below 0).
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func sqrt<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = x.map { chunk in chunk.apply { Scalar.sqrt($0) } }
  guard x.autodiff != nil else { return value }
  // d√x/dx = 1/(2√x), from the output (+∞ at 0).
  return value.derived(
    from: x, operation: "sqrt",
    pullback: { Tensor.zip($0, value, operation: "sqrt pullback") { chunk in chunk.apply { $0 / (2 * $1) } } },
    tangent: { _, output, tangent in tangent / (output * 2) })
}

/// 1/√x of every scalar (+∞ at 0, NaN below 0).
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func rsqrt<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = x.map { chunk in chunk.apply { 1 / Scalar.sqrt($0) } }
  guard x.autodiff != nil else { return value }
  // d(x^−½)/dx = −½·x^−³ᐟ² = −½·y³, from the output y.
  return value.derived(
    from: x, operation: "rsqrt",
    pullback: {
      Tensor.zip($0, value, operation: "rsqrt pullback") { chunk in chunk.apply { $0 * (-0.5 * $1 * $1 * $1) } }
    },
    tangent: { _, output, tangent in tangent * (square(output) * output * -0.5) })
}

/// x² of every scalar.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func square<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = x.map { chunk in chunk.apply { $0 * $0 } }
  guard x.autodiff != nil else { return value }
  let input = x.detached
  return value.derived(
    from: x, operation: "square",
    pullback: { Tensor.zip($0, input, operation: "square pullback") { chunk in chunk.apply { $0 * (2 * $1) } } },
    tangent: { x, _, tangent in tangent * (x * 2) })
}

/// The hyperbolic tangent of every scalar.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape with values in [−1, 1].
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func tanh<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = x.map { chunk in chunk.apply { Scalar.tanh($0) } }
  guard x.autodiff != nil else { return value }
  // tanh′ = sech² x = 4·σ(2x)·σ(−2x), which keeps its relative precision in
  // the tails where 1 − tanh² x cancels to 0 (from |x| ≈ 19 in Double).
  let input = x.detached
  return value.derived(
    from: x, operation: "tanh",
    pullback: {
      Tensor.zip($0, input, operation: "tanh pullback") { chunk in chunk.apply { $0 * hyperbolicSecantSquared($1) } }
    },
    tangent: { x, _, tangent in tangent * (sigmoid(x * 2) * sigmoid(x * -2) * 4) })
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
  let value = x.map { chunk in chunk.apply { stableSigmoid($0) } }
  guard x.autodiff != nil else { return value }
  // σ′ = σ(x)·(1 − σ(x)) = σ(x)·σ(−x): the second form keeps its relative
  // precision for large x, where 1 − σ(x) cancels.
  let input = x.detached
  return value.derived(
    from: x, operation: "sigmoid",
    pullback: {
      Tensor.zip($0, input, operation: "sigmoid pullback") { chunk in chunk.apply { $0 * logisticDerivative($1) } }
    },
    tangent: { x, output, tangent in tangent * (output * sigmoid(-x)) })
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
  let value = x.map { chunk in chunk.apply { stableSoftplus($0) } }
  guard x.autodiff != nil else { return value }
  // softplus′ = σ(x).
  let input = x.detached
  return value.derived(
    from: x, operation: "softplus",
    pullback: {
      Tensor.zip($0, input, operation: "softplus pullback") { chunk in chunk.apply { $0 * stableSigmoid($1) } }
    },
    tangent: { x, _, tangent in tangent * sigmoid(x) })
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
  let value = x.map { chunk in chunk.apply { -stableSoftplus(-$0) } }
  guard x.autodiff != nil else { return value }
  // (log σ)′ = 1 − σ(x) = σ(−x), without the cancellation of the first form.
  let input = x.detached
  return value.derived(
    from: x, operation: "logSigmoid",
    pullback: {
      Tensor.zip($0, input, operation: "logSigmoid pullback") { chunk in chunk.apply { $0 * stableSigmoid(-$1) } }
    },
    tangent: { x, _, tangent in tangent * sigmoid(-x) })
}

/// max(x, 0) of every scalar; NaN stays NaN.
///
/// Its derivative is 1 for x > 0 and 0 for x ≤ 0 (0 at the kink, and for NaN).
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func relu<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = x.map { chunk in chunk.apply { $0 < 0 ? 0 : $0 } }
  guard x.autodiff != nil else { return value }
  // The derivative is 1 for x > 0 and 0 elsewhere, 0 included (PyTorch's
  // choice); the pullback selects rather than multiplies, so an infinite
  // cotangent where x ≤ 0 gives 0, not NaN.
  let input = x.detached
  return value.derived(
    from: x, operation: "relu",
    pullback: { Tensor.zip($0, input, operation: "relu pullback") { chunk in chunk.apply { $1 > 0 ? $0 : 0 } } },
    tangent: { x, _, tangent in tangent * x.elementsGreater(than: 0) })
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
    let twiceSquareRootOfTwoOverPi = Scalar(approximateGeluScale)
    let cubic = Scalar(approximateGeluCubic)
    let value = x.map { chunk in
      chunk.apply { value in
        let u = twiceSquareRootOfTwoOverPi * (value + cubic * value * value * value)
        return value * stableSigmoid(u)
      }
    }
    guard x.autodiff != nil else { return value }
    let input = x.detached
    return value.derived(
      from: x, operation: "gelu(approximate: true)",
      pullback: {
        Tensor.zip($0, input, operation: "gelu pullback") { chunk in
          chunk.apply { $0 * approximateGeluDerivative($1) }
        }
      },
      tangent: { x, _, tangent in
        // d/dx x·σ(u) = σ(u) + x·σ(u)·σ(−u)·u′, u = c(x + k x³), u′ = c(1 + 3k x²).
        let u = (x + x * square(x) * cubic) * twiceSquareRootOfTwoOverPi
        let s = sigmoid(u)
        let slope = (square(x) * (3 * cubic) + 1) * twiceSquareRootOfTwoOverPi
        return tangent * (s + x * s * sigmoid(-u) * slope)
      })
  }
  let value = x.map { chunk in ElementwiseKernels.gelu(chunk.source, chunk.destination, count: chunk.count) }
  guard x.autodiff != nil else { return value }
  let input = x.detached
  return value.derived(
    from: x, operation: "gelu",
    pullback: { ElementwiseKernels.geluPullback($0, input: input) },
    // d/dx x·Φ(x) = Φ(x) + x·φ(x).
    tangent: { x, _, tangent in tangent * (normalCDF(x) + x * standardNormalDensity(x)) })
}

/// The error function erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt of every scalar.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape with values in [−1, 1].
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func erf<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = x.map { chunk in chunk.apply { Scalar.erf($0) } }
  guard x.autodiff != nil else { return value }
  // erf′ = (2/√π)·e^(−x²).
  let input = x.detached
  let scale = Scalar(twoOverSquareRootOfPi)
  return value.derived(
    from: x, operation: "erf",
    pullback: {
      Tensor.zip($0, input, operation: "erf pullback") { chunk in chunk.apply { $0 * (scale * Scalar.exp(-$1 * $1)) } }
    },
    tangent: { x, _, tangent in tangent * (exp(-square(x)) * scale) })
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
  let value = x.map { chunk in chunk.apply { Scalar.erfc($0) } }
  guard x.autodiff != nil else { return value }
  // erfc′ = −(2/√π)·e^(−x²).
  let input = x.detached
  let scale = -Scalar(twoOverSquareRootOfPi)
  return value.derived(
    from: x, operation: "erfc",
    pullback: {
      Tensor.zip($0, input, operation: "erfc pullback") { chunk in chunk.apply { $0 * (scale * Scalar.exp(-$1 * $1)) } }
    },
    tangent: { x, _, tangent in tangent * (exp(-square(x)) * scale) })
}

/// The sine of every scalar, in radians.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func sin<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = x.map { chunk in chunk.apply { Scalar.sin($0) } }
  guard x.autodiff != nil else { return value }
  let input = x.detached
  return value.derived(
    from: x, operation: "sin",
    pullback: { Tensor.zip($0, input, operation: "sin pullback") { chunk in chunk.apply { $0 * Scalar.cos($1) } } },
    tangent: { x, _, tangent in tangent * cos(x) })
}

/// The cosine of every scalar, in radians.
/// - Parameters:
///   - x: a tensor of any shape.
/// - Returns: a tensor of `x`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func cos<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = x.map { chunk in chunk.apply { Scalar.cos($0) } }
  guard x.autodiff != nil else { return value }
  let input = x.detached
  return value.derived(
    from: x, operation: "cos",
    pullback: { Tensor.zip($0, input, operation: "cos pullback") { chunk in chunk.apply { $0 * -Scalar.sin($1) } } },
    tangent: { x, _, tangent in tangent * -sin(x) })
}
