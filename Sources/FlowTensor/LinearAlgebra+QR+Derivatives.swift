// Derivatives of the reduced QR decomposition, as PyTorch derives them
// (`linalg_qr_jvp` and `linalg_qr_backward` in
// torch/csrc/autograd/FunctionsManual.cpp; Walter & Lehmann, "Algorithmic
// differentiation of linear algebra functions with application in optimum
// experimental design", 2012, for m ≥ n).
//
// For m ≥ n, A = Q·R with QᵀQ = I and R square upper triangular. With
// C = Qᵀ·dA·R⁻¹ = Qᵀ·dQ + dR·R⁻¹, a skew-symmetric plus an upper-triangular
// part, the skew part Ω is fixed by C's strictly lower triangle:
// Ω = tril(C, −1) − tril(C, −1)ᵀ, U = C − Ω, and
//   dR = U·R,  dQ = dA·R⁻¹ − Q·U.
// The adjoint of that map: with M = R̄·Rᵀ − Qᵀ·Q̄ and N the symmetric matrix
// whose upper triangle is M's (N = triu(M) + triu(M, 1)ᵀ),
//   Ā = (Q̄ + Q·N)·R⁻ᵀ.
// For m < n, A = [X | Y] with X square: Q, R₁ are X's factors and
// R = [R₁ | Qᵀ·Y], so dR₂ = dQᵀ·Y + Qᵀ·dY, Ȳ = Q·R̄₂, and X̄ follows the
// square rule with Q̄ + Y·R̄₂ᵀ in place of Q̄.
//
// The factors are differentiable where R₁ is invertible (the leading
// min(m, n) columns of A independent); where R₁ has an exactly zero
// diagonal entry the derivatives are NaN. Q and R are separate graph
// outputs, each with a pullback for its own cotangent: their sum is the
// pullback of the pair, as the map is linear in (Q̄, R̄).

/// Attaches the derivatives of `qrDecomposition` to its two results.
func qrDerived<Scalar: TensorScalar>(
  _ q: Tensor<Scalar>, _ r: Tensor<Scalar>, _ a: Tensor<Scalar>
) -> (q: Tensor<Scalar>, r: Tensor<Scalar>) {
  let primal = a.withoutTangent
  let matrix = a.detached
  let qOutput = q.derived(
    from: primal, operation: "qrDecomposition (q)",
    pullback: { cotangent in qrPullback(matrix, q, r, qCotangent: cotangent, rCotangent: nil) },
    tangent: { _, _, tangent in tangent })  // unused: `primal` carries no tangent
  let rOutput = r.derived(
    from: primal, operation: "qrDecomposition (r)",
    pullback: { cotangent in qrPullback(matrix, q, r, qCotangent: nil, rCotangent: cotangent) },
    tangent: { _, _, tangent in tangent })
  guard let tangent = a.tangent else { return (qOutput, rOutput) }
  // Both tangents come from one computation, on the outputs that carry
  // graph nodes, so that they are recorded for reverse-over-forward.
  let (qTangent, rTangent) = qrTangent(primal, qOutput, rOutput, tangent)
  return (qOutput.attachingTangent(qTangent), rOutput.attachingTangent(rTangent))
}

/// Ā for cotangents Q̄ and R̄ (`nil` for zero, not both).
func qrPullback<Scalar: TensorScalar>(
  _ a: Tensor<Scalar>, _ q: Tensor<Scalar>, _ r: Tensor<Scalar>,
  qCotangent: Tensor<Scalar>?, rCotangent: Tensor<Scalar>?
) -> Tensor<Scalar> {
  let n = a.shape[a.rank - 1]
  let k = q.shape[q.rank - 1]
  var qCotangent = qCotangent
  var squareR = r
  var squareCotangent = rCotangent
  var gradientY: Tensor<Scalar>? = nil
  if n > k {
    squareR = r.sliced(alongAxis: -1, to: k)
    if let rCotangent {
      squareCotangent = rCotangent.sliced(alongAxis: -1, to: k)
      let rest = rCotangent.sliced(alongAxis: -1, from: k)
      gradientY = matmul(q, rest)
      let extra = matmul(a.sliced(alongAxis: -1, from: k), rest, transposingB: true)
      qCotangent = qCotangent.map { $0 + extra } ?? extra
    }
  }
  var mixed = squareCotangent.map { matmul($0, squareR, transposingB: true) }
  if let qCotangent {
    let term = matmul(q, qCotangent, transposingA: true)
    mixed = mixed.map { $0 - term } ?? -term
  }
  let upper = LinearAlgebraDerivatives.triangleMask(order: k, below: 0, diagonal: 1, above: Scalar(1))
  let strictlyUpper = LinearAlgebraDerivatives.triangleMask(order: k, below: 0, diagonal: 0, above: Scalar(1))
  let symmetric = mixed! * upper + (mixed! * strictlyUpper).transposed()
  var z = matmul(q, symmetric)
  if let qCotangent { z = z + qCotangent }
  // Z·R₁⁻ᵀ = (R₁⁻¹·Zᵀ)ᵀ.
  let zTransposed = z.transposed()
  let gradientX = LinearAlgebraDerivatives.orNaN(shape: zTransposed.shape) {
    try triangularSolve(squareR, zTransposed, lower: false)
  }.transposed()
  guard n > k else { return gradientX }
  let restShape = Array(a.shape.dropLast()) + [n - k]
  return Tensor(concatenating: [gradientX, gradientY ?? Tensor.zeros(shape: restShape)], alongAxis: -1)
}

/// (dQ, dR) for a tangent dA `[T..., batch..., m, n]`, from public ops on
/// the primal `a` and the outputs `q`, `r`.
func qrTangent<Scalar: TensorScalar>(
  _ a: Tensor<Scalar>, _ q: Tensor<Scalar>, _ r: Tensor<Scalar>, _ tangent: Tensor<Scalar>
) -> (Tensor<Scalar>, Tensor<Scalar>) {
  let n = a.shape[a.rank - 1]
  let k = q.shape[q.rank - 1]
  let batchRank = tangent.rank - a.rank
  let squareTangent = n > k ? tangent.sliced(alongAxis: -1, to: k) : tangent
  let squareR = n > k ? r.sliced(alongAxis: -1, to: k) : r
  // B = dX·R₁⁻¹, through Bᵀ = R₁⁻ᵀ·dXᵀ with the directions as columns.
  let b = LinearAlgebraDerivatives.applyingToColumns(
    squareTangent.transposed(), batchRank: batchRank, isVector: false
  ) { columns in
    LinearAlgebraDerivatives.orNaN(shape: columns.shape) {
      try triangularSolve(squareR, columns, lower: false, transposed: true)
    }
  }.transposed()
  let c = matmul(q, b, transposingA: true)
  let strictlyLower = LinearAlgebraDerivatives.triangleMask(order: k, below: 1, diagonal: 0, above: Scalar(0))
  let lowerPart = c * strictlyLower
  let u = c - lowerPart + lowerPart.transposed()
  let qTangent = b - matmul(q, u)
  var rTangent = matmul(u, squareR)
  if n > k {
    let restTangent =
      matmul(qTangent, a.sliced(alongAxis: -1, from: k), transposingA: true)
      + matmul(q, tangent.sliced(alongAxis: -1, from: k), transposingA: true)
    rTangent = Tensor(concatenating: [rTangent, restTangent], alongAxis: -1)
  }
  return (qTangent, rTangent)
}
