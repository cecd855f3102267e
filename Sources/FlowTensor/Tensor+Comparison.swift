import RealModule

// Binary and ternary elementwise ops with NumPy broadcasting: power,
// NaN-propagating minimum and maximum, comparison masks and selection.
// A mask is a tensor of the same scalar type holding 1 where the relation
// holds and 0 elsewhere, so it multiplies and sums like any other tensor.

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
/// - Parameters:
///   - base: a tensor whose shape broadcasts with `exponent`'s.
///   - exponent: a tensor whose shape broadcasts with `base`'s.
/// - Returns: a tensor of the broadcast shape.
/// - Complexity: O(n) in the result's size.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func pow<Scalar: TensorScalar>(_ base: Tensor<Scalar>, _ exponent: Tensor<Scalar>) -> Tensor<Scalar> {
  Tensor.zip(base, exponent, operation: "pow") { chunk in chunk.apply { ieeePower($0, $1) } }
}

/// `base` raised to a scalar `exponent`, elementwise.
/// - Parameters:
///   - base: a tensor of any shape.
///   - exponent: the power applied to every scalar.
/// - Returns: a tensor of `base`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func pow<Scalar: TensorScalar>(_ base: Tensor<Scalar>, _ exponent: Scalar) -> Tensor<Scalar> {
  base.map { chunk in chunk.apply { ieeePower($0, exponent) } }
}

/// A scalar `base` raised to each scalar of `exponent`.
/// - Parameters:
///   - base: the value raised.
///   - exponent: a tensor of any shape.
/// - Returns: a tensor of `exponent`'s shape.
/// - Complexity: O(n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func pow<Scalar: TensorScalar>(_ base: Scalar, _ exponent: Tensor<Scalar>) -> Tensor<Scalar> {
  exponent.map { chunk in chunk.apply { ieeePower(base, $0) } }
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
/// - Parameters:
///   - lhs: a tensor whose shape broadcasts with `rhs`'s.
///   - rhs: a tensor whose shape broadcasts with `lhs`'s.
/// - Returns: a tensor of the broadcast shape.
/// - Complexity: O(n) in the result's size.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func min<Scalar: TensorScalar>(_ lhs: Tensor<Scalar>, _ rhs: Tensor<Scalar>) -> Tensor<Scalar> {
  Tensor.zip(lhs, rhs, operation: "min") { chunk in chunk.apply { propagatingMinimum($0, $1) } }
}

/// The elementwise maximum after broadcasting; NaN wherever either operand
/// is NaN, as NumPy's `maximum`.
/// - Parameters:
///   - lhs: a tensor whose shape broadcasts with `rhs`'s.
///   - rhs: a tensor whose shape broadcasts with `lhs`'s.
/// - Returns: a tensor of the broadcast shape.
/// - Complexity: O(n) in the result's size.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func max<Scalar: TensorScalar>(_ lhs: Tensor<Scalar>, _ rhs: Tensor<Scalar>) -> Tensor<Scalar> {
  Tensor.zip(lhs, rhs, operation: "max") { chunk in chunk.apply { propagatingMaximum($0, $1) } }
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
