/// The Cholesky factor of each matrix of a batch: the lower-triangular L
/// with positive diagonal and A = L·Lᵀ (`xPOTRF`).
///
/// Only the lower triangle of `a`, diagonal included, is read: the strictly
/// upper part may hold anything, and `a` is not checked for symmetry. The
/// row-major lower triangle is the upper triangle of the column-major
/// buffer, so `xPOTRF` runs with `uplo = 'U'` on the buffer as it lies: it
/// computes Uᵀ·U = A with U column-major, which is L = Uᵀ row-major. The
/// only copy is the result itself, whose strictly upper part is then zeroed.
/// - Parameters:
///   - a: `[n, n]` or `[..., n, n]`, symmetric positive definite.
/// - Returns: L, in the shape of `a`. Differentiable as the function of the
///   lower triangle it is: the gradient is zero on the strictly upper
///   triangle, and a tangent's strictly upper part is ignored (see
///   `LinearAlgebra+Cholesky+Derivatives.swift`).
/// - Throws: ``LinearAlgebraError/notPositiveDefinite(order:matrix:)`` with
///   the order of the first leading minor that is not positive (a NaN
///   counts as not positive).
/// - Complexity: O(n³) per matrix.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func choleskyFactorization<Scalar: TensorScalar>(_ a: Tensor<Scalar>) throws -> Tensor<Scalar> {
  let value = try choleskyValue(a)
  guard a.autodiff != nil else { return value }
  return choleskyDerived(value, a)
}

/// The value of ``choleskyFactorization(_:)``, without derivatives.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func choleskyValue<Scalar: TensorScalar>(_ a: Tensor<Scalar>) throws -> Tensor<Scalar> {
  let (batchShape, n) = LinearAlgebraLayout.squareMatrices(a.shape, operation: "choleskyFactorization")
  let matrices = batchShape.reduce(1, *)
  var result = a
  guard n > 0 && matrices > 0 else { return result }
  try result.withUnsafeMutableBufferPointer { buffer in
    for matrix in 0..<matrices {
      let slice = buffer.baseAddress! + matrix * n * n
      let info = Scalar.lapackPotrf(upper: true, order: n, slice, leadingDimension: n)
      try LinearAlgebraLayout.checkArguments(info, "potrf", Scalar.self)
      if info > 0 {
        throw LinearAlgebraError.notPositiveDefinite(
          order: info, matrix: LinearAlgebraLayout.batchIndex(matrix, batchShape: batchShape))
      }
      for row in 0..<n {
        (slice + row * n + row + 1).update(repeating: 0, count: n - row - 1)
      }
    }
  }
  return result
}
