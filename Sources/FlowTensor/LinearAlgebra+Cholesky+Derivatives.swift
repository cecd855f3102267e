// Derivatives of the Cholesky factor (Murray, "Differentiation of the
// Cholesky decomposition", 2016, eqs. 8 and 10).
//
// `choleskyFactorization` reads only the lower triangle of A: it is
// L(S(A)) with S(A) = tril(A) + tril(A, −1)ᵀ the symmetric matrix that
// triangle describes. The rules are those of that function, so they agree
// with central differences on any input:
// - forward: dS = tril(dA) + tril(dA, −1)ᵀ, then dL = L·Φ(L⁻¹·dS·L⁻ᵀ),
//   with Φ(X) the lower triangle of X with its diagonal halved;
// - reverse: G = L⁻ᵀ·Φ(Lᵀ·L̄)·L⁻¹ is the gradient with respect to a
//   symmetric S, and through S(A) it becomes Ā = tril(G) + tril(Gᵀ, −1):
//   off the diagonal the lower entry collects both Gᵢⱼ and Gⱼᵢ, and the
//   strictly upper triangle, never read, gets zero. (Callers who want the
//   symmetric convention ½(Ā + Āᵀ) off the diagonal can symmetrise it.)

/// Attaches the derivatives of L = chol(A) to its value.
func choleskyDerived<Scalar: TensorScalar>(_ value: Tensor<Scalar>, _ a: Tensor<Scalar>) -> Tensor<Scalar> {
  let n = a.shape[a.rank - 1]
  let phi = LinearAlgebraDerivatives.triangleMask(order: n, below: 1, diagonal: Scalar(0.5), above: Scalar(0))
  let lower = LinearAlgebraDerivatives.triangleMask(order: n, below: 1, diagonal: 1, above: Scalar(0))
  let strictlyLower = LinearAlgebraDerivatives.triangleMask(order: n, below: 1, diagonal: 0, above: Scalar(0))
  return value.derived(
    from: a, operation: "choleskyFactorization",
    pullback: { [l = value.detached] cotangent in
      let weighted = matmul(l, cotangent, transposingA: true) * phi
      // L has a positive diagonal, so these solves cannot throw.
      let left = try! triangularSolve(l, weighted, lower: true, transposed: true)  // L⁻ᵀ·Φ
      // Gᵀ = L⁻ᵀ·(L⁻ᵀ·Φ)ᵀ
      let gTransposed = try! triangularSolve(l, left.transposed(), lower: true, transposed: true)
      return gTransposed.transposed() * lower + gTransposed * strictlyLower
    },
    tangent: { a, l, tangent in
      let symmetric = tangent * lower + (tangent * strictlyLower).transposed()
      let batchRank = tangent.rank - a.rank
      func solveLower(_ rightHandSides: Tensor<Scalar>) -> Tensor<Scalar> {
        LinearAlgebraDerivatives.applyingToColumns(rightHandSides, batchRank: batchRank, isVector: false) {
          try! triangularSolve(l, $0, lower: true)
        }
      }
      // L⁻¹·dS·L⁻ᵀ = L⁻¹·(L⁻¹·dS)ᵀ, as dS is symmetric.
      let middle = solveLower(solveLower(symmetric).transposed())
      return matmul(l, middle * phi)
    })
}
