// Derivatives of `solve` and `inverse` (Giles, "An extended collection of
// matrix derivative results for forward and reverse mode automatic
// differentiation", 2008, §2.2.3).

/// Attaches the derivatives of X = A⁻¹·B to its value.
///
/// Reverse: B̄ = A⁻ᵀ·X̄ (a transposed solve with the same factorisation, so
/// it cannot fail where the forward solve succeeded) and Ā = −B̄·Xᵀ.
/// Forward: dX = A⁻¹·(dB − dA·X), tangent batch axes folded into columns.
func solveDerived<Scalar: TensorScalar>(
  _ value: Tensor<Scalar>, _ a: Tensor<Scalar>, _ b: Tensor<Scalar>
) -> Tensor<Scalar> {
  let isVector = b.rank == a.rank - 1
  return value.derived(
    from: a, b, operation: "solve",
    pullback: { [a = a.detached, x = value.detached, needA = a.requiresGradient] cotangent in
      let gradientB = LinearAlgebraDerivatives.orNaN(shape: x.shape) {
        try solveValue(a, cotangent, transposed: true)
      }
      let gradientA: Tensor<Scalar>? =
        needA
        ? -(isVector
          ? LinearAlgebraDerivatives.outerProduct(gradientB, x) : matmul(gradientB, x, transposingB: true))
        : nil
      return (gradientA, gradientB)
    },
    tangent: { a, b, x, aTangent, bTangent in
      var rightHandSides = bTangent
      if let aTangent {
        let product = LinearAlgebraDerivatives.product(aTangent, x, isVector: isVector)
        rightHandSides = rightHandSides.map { $0 - product } ?? -product
      }
      let batchRank = rightHandSides!.rank - b.rank
      return LinearAlgebraDerivatives.applyingToColumns(rightHandSides!, batchRank: batchRank, isVector: isVector) {
        columns in
        // The same matrix as the forward solve: it factors the same way and
        // cannot throw.
        try! solve(a, columns)
      }
    })
}

/// Attaches the derivatives of Y = A⁻¹ to its value: Ā = −Yᵀ·Ȳ·Yᵀ and
/// dY = −Y·dA·Y, the tangent's batch axes broadcasting through `matmul`.
func inverseDerived<Scalar: TensorScalar>(_ value: Tensor<Scalar>, _ a: Tensor<Scalar>) -> Tensor<Scalar> {
  value.derived(
    from: a, operation: "inverse",
    pullback: { [y = value.detached] cotangent in
      -matmul(matmul(y, cotangent, transposingA: true), y, transposingB: true)
    },
    tangent: { _, y, tangent in -matmul(matmul(y, tangent), y) })
}
