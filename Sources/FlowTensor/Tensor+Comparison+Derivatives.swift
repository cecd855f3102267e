import RealModule

// Derivatives of power, minimum and maximum (Tensor+Comparison.swift): the
// scalar formulas their pullbacks use in fused loops, the same formulas as
// public-op expressions for their tangent rules, and the rule that min and
// max share.

// MARK: - Power

/// ∂(aᵇ)/∂a = b·a^(b−1), and 0 for b = 0, where aᵇ is the constant 1 (the
/// formula would give 0·∞ at a = 0).
@inline(__always) @usableFromInline
func powerBaseDerivative<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar) -> Scalar {
  b == 0 ? 0 : b * ieeePower(a, b - 1)
}

/// ∂(aᵇ)/∂b = aᵇ·log a, and 0 where aᵇ = 0 with b > 0: at a = 0, where the
/// formula would give 0·(−∞), and where aᵇ underflows.
@inline(__always) @usableFromInline
func powerExponentDerivative<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar) -> Scalar {
  let power = ieeePower(a, b)
  return power == 0 && b > 0 ? 0 : power * Scalar.log(a)
}

/// ``powerBaseDerivative(_:_:)`` from public ops, for tangent rules: a
/// tensor of the broadcast shape of `base` and `exponent`.
func powerBaseSlope<Scalar: TensorScalar>(_ base: Tensor<Scalar>, _ exponent: Tensor<Scalar>) -> Tensor<Scalar> {
  select(where: exponent.elementsEqual(0), Tensor(0), else: pow(base, exponent - 1) * exponent)
}

/// ``powerExponentDerivative(_:_:)`` from public ops, for tangent rules,
/// given the power `output` = base^exponent.
func powerExponentSlope<Scalar: TensorScalar>(
  _ output: Tensor<Scalar>, _ base: Tensor<Scalar>, _ exponent: Tensor<Scalar>
) -> Tensor<Scalar> {
  let vanishing = output.elementsEqual(0) * exponent.elementsGreater(than: 0)
  return select(where: vanishing, Tensor(0), else: output * log(base))
}

// MARK: - Minimum and maximum

/// The share of min(a, b)'s derivative that goes to `a`: 1 where a is
/// selected (smaller, or NaN), 0 where b is, ½ at a tie.
@inline(__always) @usableFromInline
func minimumSelectionWeight<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar) -> Scalar {
  a == b ? 0.5 : a < b || a.isNaN ? 1 : 0
}

/// The share of max(a, b)'s derivative that goes to `a`: 1 where a is
/// selected (larger, or NaN), 0 where b is, ½ at a tie.
@inline(__always) @usableFromInline
func maximumSelectionWeight<Scalar: TensorScalar>(_ a: Scalar, _ b: Scalar) -> Scalar {
  a == b ? 0.5 : a > b || a.isNaN ? 1 : 0
}

extension Tensor {
  /// Attaches the derivatives of an op that selects, element by element,
  /// between two broadcast operands (min, max): `lhsWeight` (the output's
  /// shape, piecewise constant, so without derivative) is the share of the
  /// derivative going to `lhs`, the rest goes to `rhs`.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func derivedFromSelection(
    _ lhs: Tensor, _ rhs: Tensor, lhsWeight: Tensor, operation: String
  ) -> Tensor {
    let (lhsShape, rhsShape) = (lhs.shape, rhs.shape)
    let (needA, needB) = (lhs.requiresGradient, rhs.requiresGradient)
    return derived(
      from: lhs, rhs, operation: operation,
      pullback: { cotangent in
        // Selecting rather than multiplying keeps an infinite cotangent
        // from turning into NaN on the operand not chosen.
        let toLhs = needA
          ? Tensor.zip(cotangent, lhsWeight, operation: operation) { chunk in
              chunk.apply { $1 == 0 ? 0 : $0 * $1 }
            }.unbroadcast(to: lhsShape)
          : nil
        let toRhs = needB
          ? Tensor.zip(cotangent, lhsWeight, operation: operation) { chunk in
              chunk.apply { $1 == 1 ? 0 : $0 * (1 - $1) }
            }.unbroadcast(to: rhsShape)
          : nil
        return (toLhs, toRhs)
      },
      tangent: { a, b, output, da, db in
        sumOfTangents(
          da.map { (alignTangent($0, primalRank: a.rank, toRank: output.rank) * lhsWeight, output) },
          db.map { (alignTangent($0, primalRank: b.rank, toRank: output.rank) * (1 - lhsWeight), output) },
          output: output)
      })
  }
}
