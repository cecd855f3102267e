// Derivatives of `triangularSolve`: X = op(T)⁻¹·B with T the triangle of A
// that the flags name and op(T) = T or Tᵀ (Giles 2008, §2.2.3, restricted
// to the entries read).

/// Attaches the derivatives of X = op(T)⁻¹·B to its value.
///
/// Reverse: B̄ = op(T)⁻ᵀ·X̄ (a triangular solve with the opposite
/// `transposed` flag), op(T)‾ = −B̄·Xᵀ, so T̄ = −B̄·Xᵀ or −X·B̄ᵀ, masked to
/// the triangle read (without its diagonal when `unitDiagonal`).
/// Forward: dX = op(T)⁻¹·(dB − op(dT)·X) with dT the masked tangent of A.
func triangularSolveDerived<Scalar: TensorScalar>(
  _ value: Tensor<Scalar>, _ a: Tensor<Scalar>, _ b: Tensor<Scalar>, lower: Bool, transposed: Bool, unitDiagonal: Bool
) -> Tensor<Scalar> {
  let isVector = b.rank == a.rank - 1
  let n = a.shape[a.rank - 1]
  let diagonal: Scalar = unitDiagonal ? 0 : 1
  let mask = LinearAlgebraDerivatives.triangleMask(
    order: n, below: lower ? 1 : 0, diagonal: diagonal, above: lower ? 0 : 1)
  return value.derived(
    from: a, b, operation: "triangularSolve",
    pullback: { [a = a.detached, x = value.detached, needA = a.requiresGradient] cotangent in
      // T's diagonal has no zero (the forward solve succeeded): cannot throw.
      let gradientB = try! triangularSolve(
        a, cotangent, lower: lower, transposed: !transposed, unitDiagonal: unitDiagonal)
      guard needA else { return (nil, gradientB) }
      let (left, right) = transposed ? (x, gradientB) : (gradientB, x)
      let product =
        isVector ? LinearAlgebraDerivatives.outerProduct(left, right) : matmul(left, right, transposingB: true)
      return (-product * mask, gradientB)
    },
    tangent: { a, b, x, aTangent, bTangent in
      var rightHandSides = bTangent
      if let aTangent {
        let product = LinearAlgebraDerivatives.product(
          aTangent * mask, x, isVector: isVector, transposingM: transposed)
        rightHandSides = rightHandSides.map { $0 - product } ?? -product
      }
      let batchRank = rightHandSides!.rank - b.rank
      return LinearAlgebraDerivatives.applyingToColumns(rightHandSides!, batchRank: batchRank, isVector: isVector) {
        try! triangularSolve(a, $0, lower: lower, transposed: transposed, unitDiagonal: unitDiagonal)
      }
    })
}
