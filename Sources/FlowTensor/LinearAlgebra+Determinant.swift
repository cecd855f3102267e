/// The sign and the natural log of the absolute value of the determinant of
/// each matrix of a batch, as NumPy's `linalg.slogdet`.
///
/// Each matrix is LU-factored (`xGETRF`) and det = ±∏ Uᵢᵢ, the sign flipped
/// once per row interchange; the log is accumulated as Σ log|Uᵢᵢ|, so a
/// determinant that the scalar type cannot hold (1e-200 in `Float`, 1e-400
/// in `Double`) still has a finite log. The row-major matrix is factored as
/// it lies, as Aᵀ, whose determinant is the same: the only copy is the one
/// LAPACK overwrites.
///
/// An exactly singular matrix does not throw: it has sign 0 and log |det|
/// −∞. A 0×0 matrix has determinant 1 (sign 1, log 0). A matrix holding a
/// NaN has sign and log NaN (NumPy's result there depends on its LAPACK).
///
/// `logAbsDeterminant` is differentiable: its gradient is A⁻ᵀ (scaled by
/// the cotangent) and its tangent tr(A⁻¹·dA), both NaN for a singular
/// matrix; `sign` is piecewise constant and carries no derivative.
/// - Parameters:
///   - a: `[n, n]` or `[..., n, n]`.
/// - Returns: `sign` (−1, 0 or +1) and `logAbsDeterminant`, both of the batch
///   shape `[...]` (rank 0 for a single matrix).
/// - Complexity: O(n³) per matrix.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func slogdet<Scalar: TensorScalar>(
  _ a: Tensor<Scalar>
) -> (sign: Tensor<Scalar>, logAbsDeterminant: Tensor<Scalar>) {
  let (sign, logarithm) = slogdetValue(a)
  guard a.autodiff != nil else { return (sign, logarithm) }
  return (sign, logAbsDeterminantDerived(logarithm, a))
}

/// The value of ``slogdet(_:)``, without derivatives.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func slogdetValue<Scalar: TensorScalar>(
  _ a: Tensor<Scalar>
) -> (sign: Tensor<Scalar>, logAbsDeterminant: Tensor<Scalar>) {
  let (batchShape, n) = LinearAlgebraLayout.squareMatrices(a.shape, operation: "slogdet")
  let matrices = batchShape.reduce(1, *)
  var signs = Tensor<Scalar>(repeating: 1, shape: batchShape)
  var logarithms = Tensor<Scalar>(repeating: 0, shape: batchShape)
  guard n > 0 && matrices > 0 else { return (signs, logarithms) }
  let factors = UnsafeMutablePointer<Scalar>.allocate(capacity: n * n)
  defer { factors.deallocate() }
  var pivots = [Int32](repeating: 0, count: n)
  a.withUnsafeBufferPointer { source in
    signs.withUnsafeMutableBufferPointer { signs in
      logarithms.withUnsafeMutableBufferPointer { logarithms in
        for matrix in 0..<matrices {
          let slice = UnsafeBufferPointer(rebasing: source[(matrix * n * n)..<((matrix + 1) * n * n)])
          // Decided here, since how LAPACK pivots around a NaN varies by build.
          if slice.contains(where: { $0.isNaN }) {
            (signs[matrix], logarithms[matrix]) = (.nan, .nan)
            continue
          }
          factors.update(from: slice.baseAddress!, count: n * n)
          let info = Scalar.lapackGetrf(rows: n, columns: n, factors, leadingDimension: n, pivots: &pivots)
          LinearAlgebraLayout.requireArguments(info, "getrf", Scalar.self)
          (signs[matrix], logarithms[matrix]) =
            info > 0 ? (0, -Scalar.infinity) : signAndLogarithm(factors, pivots: pivots, order: n)
        }
      }
    }
  }
  return (signs, logarithms)
}

/// The sign and log |det| of P·L·U from `xGETRF`'s packed factors.
@inline(__always)
private func signAndLogarithm<Scalar: TensorScalar>(
  _ factors: UnsafePointer<Scalar>, pivots: [Int32], order n: Int
) -> (Scalar, Scalar) {
  var negative = false
  var logarithm: Scalar = 0
  for index in 0..<n {
    let diagonal = factors[index * n + index]
    if diagonal < 0 { negative.toggle() }
    // Each interchange of two distinct rows is a transposition: det flips sign.
    if Int(pivots[index]) != index + 1 { negative.toggle() }
    logarithm += Scalar.log(abs(diagonal))
  }
  return (negative ? -1 : 1, logarithm)
}
