/// Solves T·x = b (or Tᵀ·x = b) for a triangular T, for each matrix of a
/// batch (`xTRTRS`), by substitution.
///
/// Only the triangle that `lower` names is read (and the diagonal unless
/// `unitDiagonal`); the rest of `a` may hold anything. The row-major `a` is
/// Tᵀ column-major, whose triangle is the other one, so `a` passes to
/// LAPACK uncopied with the triangle and the transposition both flipped.
/// - Parameters:
///   - a: `[n, n]` or `[..., n, n]`.
///   - b: `[..., n]` (one vector per matrix) or `[..., n, k]`, with the batch
///     shape of `a`.
///   - lower: T is the lower triangle of `a` (else the upper).
///   - transposed: solve Tᵀ·x = b instead.
///   - unitDiagonal: take T's diagonal as ones, without reading it.
/// - Returns: x, in the shape of `b`; differentiable in `a` and `b`, the
///   gradient of `a` zero outside the entries read (the triangle, and the
///   diagonal unless `unitDiagonal`).
/// - Throws: ``LinearAlgebraError/singular(pivot:matrix:)`` when T's
///   diagonal entry `pivot` is exactly zero (never with `unitDiagonal`).
/// - Complexity: O(n²·k) per matrix; `b` with k > 1 columns is transposed
///   to column-major and back.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func triangularSolve<Scalar: TensorScalar>(
  _ a: Tensor<Scalar>, _ b: Tensor<Scalar>, lower: Bool, transposed: Bool = false, unitDiagonal: Bool = false
) throws -> Tensor<Scalar> {
  let value = try triangularSolveValue(a, b, lower: lower, transposed: transposed, unitDiagonal: unitDiagonal)
  guard a.autodiff != nil || b.autodiff != nil else { return value }
  return triangularSolveDerived(value, a, b, lower: lower, transposed: transposed, unitDiagonal: unitDiagonal)
}

/// The value of ``triangularSolve(_:_:lower:transposed:unitDiagonal:)``, without derivatives.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func triangularSolveValue<Scalar: TensorScalar>(
  _ a: Tensor<Scalar>, _ b: Tensor<Scalar>, lower: Bool, transposed: Bool, unitDiagonal: Bool
) throws -> Tensor<Scalar> {
  let (batchShape, n) = LinearAlgebraLayout.squareMatrices(a.shape, operation: "triangularSolve")
  let columns = LinearAlgebraLayout.rightHandSides(
    b.shape, batchShape: batchShape, order: n, matrixShape: a.shape, operation: "triangularSolve")
  let matrices = batchShape.reduce(1, *)
  guard n > 0 else { return b }
  return try a.withUnsafeBufferPointer { source in
    try LinearAlgebraLayout.solving(b, matrices: matrices, order: n, columns: columns) { matrix, rightHandSides in
      let info = Scalar.lapackTrtrs(
        upper: lower, transposed: !transposed, unitDiagonal: unitDiagonal, order: n, rightHandSides: columns,
        source.baseAddress! + matrix * n * n, leadingDimension: n, rightHandSides, leadingDimensionOfB: n)
      try LinearAlgebraLayout.checkArguments(info, "trtrs", Scalar.self)
      if info > 0 {
        throw LinearAlgebraError.singular(
          pivot: info - 1, matrix: LinearAlgebraLayout.batchIndex(matrix, batchShape: batchShape))
      }
    }
  }
}
