import RealModule

// Binary and ternary elementwise ops with NumPy broadcasting: power,
// NaN-propagating minimum and maximum, comparison masks and selection.
// A mask is a tensor of the same scalar type holding 1 where the relation
// holds and 0 elsewhere, so it multiplies and sums like any other tensor.
//
// Power, minimum, maximum and selection attach a VJP and a JVP (formulas and
// conventions at each op; scalar derivatives in
// Tensor+Comparison+Derivatives.swift). Masks attach none: a comparison is
// piecewise constant, its derivative is 0 wherever it exists, so a mask
// never carries autodiff state, even from operands that require gradients.

// MARK: - Power

/// xʸ with the IEEE 754 / C99 `pow` special cases (Annex F.9.4.4), which
/// NumPy's `power` follows and swift-numerics' `Real.pow` does not: a
/// negative base with an integral exponent is allowed (pow(−2, 3) = −8),
/// pow(x, ±0) = 1 and pow(1, y) = 1 even for NaN.
@inline(__always) @usableFromInline
func ieeePower<Scalar: TensorScalar>(_ x: Scalar, _ y: Scalar) -> Scalar {
  if y == 0 || x == 1 { return 1 }
  if x < 0 {
    // ±∞ count as even integers here: pow(−0.5, ∞) = 0, pow(−2, ∞) = ∞.
    if y.rounded(.towardZero) == y {
      let magnitude = Scalar.pow(-x, y)
      let isOdd = y.isFinite && (y / 2).rounded(.towardZero) * 2 != y
      return isOdd ? -magnitude : magnitude
    }
    // (−∞)^y for non-integral y is +∞ or +0 as ∞^y; other negative bases have no real power.
    return x.isInfinite ? Scalar.pow(-x, y) : .nan
  }
  // Real.pow maps 0^0 to NaN, but y == 0 returned above; for x ≥ +0 or NaN
  // it agrees with C.
  return Scalar.pow(x, y)
}

/// `base` raised to `exponent`, elementwise after broadcasting.
///
/// Follows C's `pow` (and NumPy's `power`): negative bases are allowed
/// with integral exponents and give NaN otherwise; pow(x, 0) = 1 and
/// pow(1, y) = 1 for every x and y, NaN included.
///
/// Derivatives: ∂/∂base = exponent·base^(exponent−1), taken as 0 where the
/// exponent is 0 (the value is the constant 1 there; the formula would give
/// 0·∞ at base 0). ∂/∂exponent = base^exponent·log(base), taken as 0 where
/// base^exponent = 0 and exponent > 0 — at base 0 (0·(−∞) otherwise), and
/// where the power underflows, whose true derivative is as small — and NaN
/// for a negative base, where no real power exists for nearby exponents.
/// At 0⁰ it is 1·log 0 = −∞ (PyTorch zeroes it wherever base = 0 and
/// exponent ≥ 0, so returns 0 there).
/// - Parameters:
///   - base: a tensor whose shape broadcasts with `exponent`'s.
///   - exponent: a tensor whose shape broadcasts with `base`'s.
/// - Returns: a tensor of the broadcast shape.
/// - Complexity: O(n) in the result's size.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func pow<Scalar: TensorScalar>(_ base: Tensor<Scalar>, _ exponent: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = Tensor.zip(base, exponent, operation: "pow") { chunk in chunk.apply { ieeePower($0, $1) } }
  guard base.autodiff != nil || exponent.autodiff != nil else { return value }
  let (a, b) = (base.detached, exponent.detached)
  let (needA, needB) = (base.requiresGradient, exponent.requiresGradient)
  return value.derived(
    from: base, exponent, operation: "pow",
    pullback: { cotangent in
      let baseCotangent = needA
        ? (cotangent * Tensor.zip(a, b, operation: "pow pullback") { chunk in
            chunk.apply { powerBaseDerivative($0, $1) }
          }).unbroadcast(to: a.shape)
        : nil
      let exponentCotangent = needB
        ? (cotangent * Tensor.zip(a, b, operation: "pow pullback") { chunk in
            chunk.apply { powerExponentDerivative($0, $1) }
          }).unbroadcast(to: b.shape)
        : nil
      return (baseCotangent, exponentCotangent)
    },
    tangent: { a, b, output, da, db in
      sumOfTangents(
        da.map { (alignTangent($0, primalRank: a.rank, toRank: output.rank) * powerBaseSlope(a, b), output) },
        db.map {
          (alignTangent($0, primalRank: b.rank, toRank: output.rank) * powerExponentSlope(output, a, b), output)
        },
        output: output)
    })
}

/// `base` raised to a scalar `exponent`, elementwise.
///
/// Its derivative is exponent·base^(exponent−1), and 0 for exponent 0.
/// - Parameters:
///   - base: a tensor of any shape.
///   - exponent: the power applied to every scalar.
/// - Returns: a tensor of `base`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func pow<Scalar: TensorScalar>(_ base: Tensor<Scalar>, _ exponent: Scalar) -> Tensor<Scalar> {
  let value = base.map { chunk in chunk.apply { ieeePower($0, exponent) } }
  guard base.autodiff != nil else { return value }
  let input = base.detached
  return value.derived(
    from: base, operation: "pow(_:\(exponent))",
    pullback: {
      Tensor.zip($0, input, operation: "pow pullback") { chunk in
        chunk.apply { $0 * powerBaseDerivative($1, exponent) }
      }
    },
    tangent: { x, _, tangent in tangent * (exponent == 0 ? Tensor(0) : pow(x, exponent - 1) * exponent) })
}

/// A scalar `base` raised to each scalar of `exponent`.
///
/// Its derivative is base^exponent·log(base), and 0 where base^exponent = 0
/// with exponent > 0 (see ``pow(_:_:)-(Tensor<Scalar>,Tensor<Scalar>)``).
/// - Parameters:
///   - base: the value raised.
///   - exponent: a tensor of any shape.
/// - Returns: a tensor of `exponent`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func pow<Scalar: TensorScalar>(_ base: Scalar, _ exponent: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = exponent.map { chunk in chunk.apply { ieeePower(base, $0) } }
  guard exponent.autodiff != nil else { return value }
  let input = exponent.detached
  return value.derived(
    from: exponent, operation: "pow(\(base), _:)",
    pullback: {
      Tensor.zip($0, input, operation: "pow pullback") { chunk in
        chunk.apply { $0 * powerExponentDerivative(base, $1) }
      }
    },
    tangent: { y, output, tangent in tangent * powerExponentSlope(output, Tensor(base), y) })
}

// MARK: - Minimum and maximum

/// The smaller of two scalars, NaN if either is NaN (NumPy's `minimum`,
/// unlike `Swift.min`, which depends on the argument order).
@inline(__always) @usableFromInline
func propagatingMinimum<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar) -> Scalar {
  a < b || a.isNaN ? a : b
}

/// The larger of two scalars, NaN if either is NaN (NumPy's `maximum`).
@inline(__always) @usableFromInline
func propagatingMaximum<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar) -> Scalar {
  a > b || a.isNaN ? a : b
}

/// The elementwise minimum after broadcasting; NaN wherever either operand
/// is NaN, as NumPy's `minimum`.
///
/// The gradient goes to the operand the value came from; at a tie each
/// operand gets half, as PyTorch's `minimum` does, so min(x, x) has
/// derivative 1. A NaN operand is the one selected (the left one if both).
/// - Parameters:
///   - lhs: a tensor whose shape broadcasts with `rhs`'s.
///   - rhs: a tensor whose shape broadcasts with `lhs`'s.
/// - Returns: a tensor of the broadcast shape.
/// - Complexity: O(n) in the result's size.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func min<Scalar: TensorScalar>(_ lhs: Tensor<Scalar>, _ rhs: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = Tensor.zip(lhs, rhs, operation: "min") { chunk in chunk.apply { propagatingMinimum($0, $1) } }
  guard lhs.autodiff != nil || rhs.autodiff != nil else { return value }
  let lhsWeight = Tensor.zip(lhs.detached, rhs.detached, operation: "min") { chunk in
    chunk.apply { minimumSelectionWeight($0, $1) }
  }
  return value.derivedFromSelection(lhs, rhs, lhsWeight: lhsWeight, operation: "min")
}

/// The elementwise maximum after broadcasting; NaN wherever either operand
/// is NaN, as NumPy's `maximum`.
///
/// The gradient goes to the operand the value came from, half to each at a
/// tie (PyTorch's `maximum`); see ``min(_:_:)-(Tensor<Scalar>,Tensor<Scalar>)``.
/// - Parameters:
///   - lhs: a tensor whose shape broadcasts with `rhs`'s.
///   - rhs: a tensor whose shape broadcasts with `lhs`'s.
/// - Returns: a tensor of the broadcast shape.
/// - Complexity: O(n) in the result's size.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func max<Scalar: TensorScalar>(_ lhs: Tensor<Scalar>, _ rhs: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = Tensor.zip(lhs, rhs, operation: "max") { chunk in chunk.apply { propagatingMaximum($0, $1) } }
  guard lhs.autodiff != nil || rhs.autodiff != nil else { return value }
  let lhsWeight = Tensor.zip(lhs.detached, rhs.detached, operation: "max") { chunk in
    chunk.apply { maximumSelectionWeight($0, $1) }
  }
  return value.derivedFromSelection(lhs, rhs, lhsWeight: lhsWeight, operation: "max")
}

/// The minimum of every scalar and `rhs` (NaN-propagating).
public func min<Scalar: TensorScalar>(_ lhs: Tensor<Scalar>, _ rhs: Scalar) -> Tensor<Scalar> {
  min(lhs, Tensor(rhs))
}

/// The minimum of `lhs` and every scalar (NaN-propagating).
public func min<Scalar: TensorScalar>(_ lhs: Scalar, _ rhs: Tensor<Scalar>) -> Tensor<Scalar> {
  min(Tensor(lhs), rhs)
}

/// The maximum of every scalar and `rhs` (NaN-propagating): `max(x, 0)` is
/// ReLU that keeps NaN.
public func max<Scalar: TensorScalar>(_ lhs: Tensor<Scalar>, _ rhs: Scalar) -> Tensor<Scalar> {
  max(lhs, Tensor(rhs))
}

/// The maximum of `lhs` and every scalar (NaN-propagating).
public func max<Scalar: TensorScalar>(_ lhs: Scalar, _ rhs: Tensor<Scalar>) -> Tensor<Scalar> {
  max(Tensor(lhs), rhs)
}

// MARK: - Comparison masks

extension Tensor {
  /// A mask of 1 where `self` equals `other` and 0 elsewhere, after
  /// broadcasting; NaN equals nothing, itself included.
  /// - Parameters:
  ///   - other: a tensor whose shape broadcasts with `self`'s.
  /// - Returns: a 0/1 tensor of the broadcast shape.
  /// - Complexity: O(n) in the result's size.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func elementsEqual(_ other: Tensor) -> Tensor {
    Tensor.zip(self, other, operation: "elementsEqual") { chunk in chunk.apply { $0 == $1 ? 1 : 0 } }
  }

  /// A mask of 1 where `self` is less than `other` and 0 elsewhere
  /// (including where either is NaN), after broadcasting.
  /// - Parameters:
  ///   - other: a tensor whose shape broadcasts with `self`'s.
  /// - Returns: a 0/1 tensor of the broadcast shape.
  /// - Complexity: O(n) in the result's size.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func elementsLess(than other: Tensor) -> Tensor {
    Tensor.zip(self, other, operation: "elementsLess(than:)") { chunk in chunk.apply { $0 < $1 ? 1 : 0 } }
  }

  /// A mask of 1 where `self` is at most `other` and 0 elsewhere
  /// (including where either is NaN), after broadcasting.
  /// - Parameters:
  ///   - other: a tensor whose shape broadcasts with `self`'s.
  /// - Returns: a 0/1 tensor of the broadcast shape.
  /// - Complexity: O(n) in the result's size.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func elementsLessOrEqual(to other: Tensor) -> Tensor {
    Tensor.zip(self, other, operation: "elementsLessOrEqual(to:)") { chunk in chunk.apply { $0 <= $1 ? 1 : 0 } }
  }

  /// A mask of 1 where `self` is greater than `other` and 0 elsewhere
  /// (including where either is NaN), after broadcasting.
  /// - Parameters:
  ///   - other: a tensor whose shape broadcasts with `self`'s.
  /// - Returns: a 0/1 tensor of the broadcast shape.
  /// - Complexity: O(n) in the result's size.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func elementsGreater(than other: Tensor) -> Tensor {
    Tensor.zip(self, other, operation: "elementsGreater(than:)") { chunk in chunk.apply { $0 > $1 ? 1 : 0 } }
  }

  /// A mask of 1 where `self` is at least `other` and 0 elsewhere
  /// (including where either is NaN), after broadcasting.
  /// - Parameters:
  ///   - other: a tensor whose shape broadcasts with `self`'s.
  /// - Returns: a 0/1 tensor of the broadcast shape.
  /// - Complexity: O(n) in the result's size.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func elementsGreaterOrEqual(to other: Tensor) -> Tensor {
    Tensor.zip(self, other, operation: "elementsGreaterOrEqual(to:)") { chunk in chunk.apply { $0 >= $1 ? 1 : 0 } }
  }

  /// A mask of 1 where a scalar equals `value`, 0 elsewhere.
  public func elementsEqual(_ value: Scalar) -> Tensor { elementsEqual(Tensor(value)) }

  /// A mask of 1 where a scalar is less than `value`, 0 elsewhere.
  public func elementsLess(than value: Scalar) -> Tensor { elementsLess(than: Tensor(value)) }

  /// A mask of 1 where a scalar is at most `value`, 0 elsewhere.
  public func elementsLessOrEqual(to value: Scalar) -> Tensor { elementsLessOrEqual(to: Tensor(value)) }

  /// A mask of 1 where a scalar is greater than `value`, 0 elsewhere.
  public func elementsGreater(than value: Scalar) -> Tensor { elementsGreater(than: Tensor(value)) }

  /// A mask of 1 where a scalar is at least `value`, 0 elsewhere.
  public func elementsGreaterOrEqual(to value: Scalar) -> Tensor { elementsGreaterOrEqual(to: Tensor(value)) }
}

// MARK: - Selection

/// Picks from `a` where `condition` is nonzero and from `b` elsewhere,
/// after broadcasting all three (NumPy's `where`). NaN counts as nonzero.
///
/// ```swift
/// let clipped = select(where: x.elementsGreater(than: 0), x, else: 0.1 * x)  // leaky ReLU
/// ```
///
/// The gradient goes to `a` where the condition is nonzero and to `b`
/// elsewhere, each summed back to its operand's shape; the condition gets
/// none (a mask is piecewise constant). A NaN or infinite cotangent in the
/// branch not taken does not leak into the other, but the derivative of an
/// op feeding the branch not taken still sees a zero cotangent there, so
/// `select(where: x > 0, log(x), else: 0)` has gradient 0·(1/x) at x = 0.
/// - Parameters:
///   - condition: a mask, typically 0/1 from a comparison; its shape
///     broadcasts with `a`'s and `b`'s.
///   - a: the values taken where `condition` is nonzero.
///   - b: the values taken where `condition` is zero.
/// - Returns: a tensor of the broadcast shape of all three.
/// - Complexity: O(n) in the result's size.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func select<Scalar: TensorScalar>(
  where condition: Tensor<Scalar>, _ a: Tensor<Scalar>, else b: Tensor<Scalar>
) -> Tensor<Scalar> {
  let value = selectValue(where: condition, a, else: b)
  guard a.autodiff != nil || b.autodiff != nil else { return value }
  let mask = condition.detached
  let (needA, needB) = (a.requiresGradient, b.requiresGradient)
  let (aShape, bShape) = (a.shape, b.shape)
  return value.derived(
    from: a, b, operation: "select(where:_:else:)",
    pullback: { cotangent in
      let zero = Tensor<Scalar>(0)
      return (needA ? selectValue(where: mask, cotangent, else: zero).unbroadcast(to: aShape) : nil,
              needB ? selectValue(where: mask, zero, else: cotangent).unbroadcast(to: bShape) : nil)
    },
    tangent: { a, b, output, da, db in
      // Both branches as [batch..., output shape...], a zero tangent in full.
      let zero = Tensor<Scalar>.zeros(shape: output.shape)
      let aTangent = da.map { alignTangent($0, primalRank: a.rank, toRank: output.rank) } ?? zero
      let bTangent = db.map { alignTangent($0, primalRank: b.rank, toRank: output.rank) } ?? zero
      return select(where: mask, aTangent, else: bTangent)
    })
}

/// The value of ``select(where:_:else:)``, without derivatives.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func selectValue<Scalar: TensorScalar>(
  where condition: Tensor<Scalar>, _ a: Tensor<Scalar>, else b: Tensor<Scalar>
) -> Tensor<Scalar> {
  let operation = "select(where:_:else:): condition \(condition.shape), values \(a.shape) and \(b.shape)"
  let shape = Shape.broadcast(
    Shape.broadcast(condition.shape, a.shape, operation: operation), b.shape, operation: operation)
  let result = Tensor<Scalar>(uninitializedShape: shape)
  guard result.scalarCount > 0 else { return result }
  let layout = StridedLayout(
    shape: shape,
    strides: [
      Shape.broadcastStrides(of: condition.shape, to: shape),
      Shape.broadcastStrides(of: a.shape, to: shape),
      Shape.broadcastStrides(of: b.shape, to: shape),
      // The result's own strides keep axis merging consistent with its layout.
      Shape.strides(of: shape),
    ])
  let inner = layout.innerCount
  let last = layout.shape.count - 1
  let (stepCondition, stepA, stepB) = (layout.strides[0][last], layout.strides[1][last], layout.strides[2][last])
  let (conditionBase, aBase, bBase) = (condition.storage.base, a.storage.base, b.storage.base)
  let out = result.storage.base
  let grain = Swift.max(1, Parallel.elementwiseGrain / Swift.max(inner, 1))
  Parallel.forEachRange(count: layout.outerCount, grain: grain) { rows in
    for row in rows {
      let rowCondition = conditionBase + layout.offset(ofRow: row, operand: 0)
      let rowA = aBase + layout.offset(ofRow: row, operand: 1)
      let rowB = bBase + layout.offset(ofRow: row, operand: 2)
      let rowOut = out + row * inner
      for j in 0..<inner {
        rowOut[j] = rowCondition[j * stepCondition] != 0 ? rowA[j * stepA] : rowB[j * stepB]
      }
    }
  }
  return result
}
