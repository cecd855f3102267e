/// Derivatives of `matmul`. Vector operands are first promoted to the
/// matrices NumPy reads them as (`[k]` → `[1, k]` on the left, `[k, 1]` on
/// the right), so that one matrix rule serves every case.

/// Cotangents of `op(A)·op(B)`: with G the output cotangent,
/// Ā = G·op(B)ᵀ (transposed back when A was) and B̄ = op(A)ᵀ·G, each summed
/// over the batch axes its operand was broadcast along.
func matrixProductPullback<Scalar: TensorScalar>(
  _ cotangent: Tensor<Scalar>, _ a: Tensor<Scalar>, _ b: Tensor<Scalar>,
  transposingA: Bool, transposingB: Bool, needA: Bool, needB: Bool
) -> (Tensor<Scalar>?, Tensor<Scalar>?) {
  let matrixA = a.rank == 1 ? a.reshaped(to: [1, a.shape[0]]) : a
  let matrixB = b.rank == 1 ? b.reshaped(to: [b.shape[0], 1]) : b
  let transposeA = transposingA && a.rank > 1
  let transposeB = transposingB && b.rank > 1
  // Restore the axes the product removed for vector operands.
  var g = cotangent
  if a.rank == 1 { g = g.expandingShape(at: g.rank - (b.rank == 1 ? 0 : 1)) }
  if b.rank == 1 { g = g.expandingShape(at: g.rank) }
  var gradientA: Tensor<Scalar>? = nil
  var gradientB: Tensor<Scalar>? = nil
  if needA {
    let product =
      transposeA
      ? matmul(matrixB, g, transposingA: transposeB, transposingB: true)
      : matmul(g, matrixB, transposingB: !transposeB)
    gradientA = product.unbroadcast(to: matrixA.shape).reshaped(to: a.shape)
  }
  if needB {
    let product =
      transposeB
      ? matmul(g, matrixA, transposingA: true, transposingB: transposeA)
      : matmul(matrixA, g, transposingA: !transposeA)
    gradientB = product.unbroadcast(to: matrixB.shape).reshaped(to: b.shape)
  }
  return (gradientA, gradientB)
}

/// Tangent of `op(A)·op(B)`: dA·op(B) + op(A)·dB, with tangent batch axes
/// kept outermost (each tangent's matrix part is promoted like its primal
/// and padded with size-1 axes to the other operand's batch rank).
func matrixProductTangent<Scalar: TensorScalar>(
  _ a: Tensor<Scalar>, _ b: Tensor<Scalar>, _ output: Tensor<Scalar>,
  _ da: Tensor<Scalar>?, _ db: Tensor<Scalar>?, transposingA: Bool, transposingB: Bool
) -> Tensor<Scalar> {
  let matrixA = a.rank == 1 ? a.reshaped(to: [1, a.shape[0]]) : a
  let matrixB = b.rank == 1 ? b.reshaped(to: [b.shape[0], 1]) : b
  // The value ignores transposition of a vector, so the promoted matrices are used as they are.
  let transposeA = transposingA && a.rank > 1
  let transposeB = transposingB && b.rank > 1
  let primalRank = Swift.max(matrixA.rank, matrixB.rank)
  func promote(_ tangent: Tensor<Scalar>, primal: Tensor<Scalar>, matrix: Tensor<Scalar>) -> Tensor<Scalar> {
    let batch = Array(tangent.shape[..<(tangent.rank - primal.rank)])
    let padding = Array(repeating: 1, count: primalRank - matrix.rank)
    return tangent.reshaped(to: batch + padding + matrix.shape)
  }
  var terms: [Tensor<Scalar>] = []
  if let da {
    let promoted = promote(da, primal: a, matrix: matrixA)
    if matrixB.rank == 2 && !transposeA && promoted.rank > 2 {
      // Every row of every direction meets the same matrix B (a dense
      // layer's tangents `[directions, batch, in]` × W): fold them into one
      // `[rows, k]` operand. The value is the same single gemm, but the
      // recorded product is then rank 2 × rank 2, so that its pullback
      // forms B's cotangent as ONE gemm over all rows, as PyTorch's vmap'd
      // jvp does, instead of one gemm per direction and a sum over them.
      let leading = Array(promoted.shape.dropLast())
      let rows = promoted.reshaped(to: [leading.reduce(1, *), promoted.shape[promoted.rank - 1]])
      let product = matmul(rows, matrixB, transposingB: transposeB)
      terms.append(product.reshaped(to: leading + [product.shape[1]]))
    } else {
      terms.append(matmul(promoted, matrixB, transposingA: transposeA, transposingB: transposeB))
    }
  }
  if let db {
    terms.append(
      matmul(matrixA, promote(db, primal: b, matrix: matrixB), transposingA: transposeA, transposingB: transposeB))
  }
  var total = terms.count == 2 ? terms[0] + terms[1] : terms[0]
  // Drop the promoted vector axes again: the result's trailing [m, n].
  if b.rank == 1 { total = total.squeezingShape(at: -1) }
  if a.rank == 1 { total = total.squeezingShape(at: b.rank == 1 ? -1 : -2) }
  let batchRank = total.rank - output.rank
  let target = Array(total.shape[..<batchRank]) + output.shape
  return total.shape == target ? total : total.broadcast(to: target)
}
