/// x·W + b for a matrix of rows, fused (PyTorch's `addmm`): the bias rows
/// are written into the result and one `gemm` adds the product onto them
/// (β = 1), instead of a product followed by a broadcast addition that
/// reads and writes the whole result again and allocates a second one.
///
/// Differentiable: x̄ = G·Wᵀ and W̄ = xᵀ·G are one `gemm` each, and the
/// bias cotangent, the column sums of G, one pass over G (`ColumnSums`),
/// where the generic broadcast reduction of `[rows, out]` took ~5% of a
/// TarFlow training step (perf, issue 8).
/// - Parameters:
///   - x: `[rows, inputSize]`.
///   - weight: `[inputSize, outputSize]`.
///   - bias: `[outputSize]`.
/// - Returns: `[rows, outputSize]`.
/// - Complexity: O(rows·inputSize·outputSize): one `gemm` forward, at most three back.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func affine<Scalar: TensorScalar>(
  _ x: Tensor<Scalar>, weight: Tensor<Scalar>, bias: Tensor<Scalar>
) -> Tensor<Scalar> {
  precondition(
    x.rank == 2 && weight.rank == 2 && bias.rank == 1 && x.shape[1] == weight.shape[0]
      && bias.shape[0] == weight.shape[1],
    "affine: x \(x.shape), weight \(weight.shape), bias \(bias.shape): need [rows, in], [in, out] and [out]")
  let value = affineValue(x, weight: weight, bias: bias)
  guard x.autodiff != nil || weight.autodiff != nil || bias.autodiff != nil else { return value }
  let (xValue, weightValue) = (x.detached, weight.detached)
  let (needX, needWeight, needBias) = (x.requiresGradient, weight.requiresGradient, bias.requiresGradient)
  return value.derived(
    from: [x, weight, bias], operation: "affine",
    pullback: { cotangent in
      [
        needX ? matrixProductValue(cotangent, weightValue, transposingA: false, transposingB: true) : nil,
        needWeight ? matrixProductValue(xValue, cotangent, transposingA: true, transposingB: false) : nil,
        needBias ? ColumnSums.of(cotangent) : nil,
      ]
    },
    tangent: { inputs, output, tangents in
      // Tangents carry leading batch axes: [batch..., rows, in], [batch..., in, out], [batch..., out].
      var terms: [Tensor<Scalar>] = []
      if let dx = tangents[0] { terms.append(matmul(dx, inputs[1])) }
      if let dWeight = tangents[1] { terms.append(matmul(inputs[0], dWeight)) }
      if let dBias = tangents[2] { terms.append(dBias.expandingShape(at: dBias.rank - 1)) }
      var total = terms[0]
      for term in terms.dropFirst() { total = total + term }
      let batch = Array(total.shape.dropLast(2))
      let target = batch + output.shape
      return total.shape == target ? total : total.broadcast(to: target)
    })
}

/// The value of ``affine(_:weight:bias:)``: bias rows, then `gemm` with β = 1.
@inline(__always)
func affineValue<Scalar: TensorScalar>(
  _ x: Tensor<Scalar>, weight: Tensor<Scalar>, bias: Tensor<Scalar>
) -> Tensor<Scalar> {
  let (rows, inner, columns) = (x.shape[0], x.shape[1], weight.shape[1])
  let result = Tensor<Scalar>(uninitializedShape: [rows, columns])
  guard result.scalarCount > 0 else { return result }
  let destination = result.storage.base
  let biasBase = UnsafePointer(bias.storage.base)
  withExtendedLifetime((x, weight, bias)) {
    Parallel.forEachRange(count: rows, grain: Swift.max(1, Parallel.elementwiseGrain / columns)) { range in
      for row in range { (destination + row * columns).update(from: biasBase, count: columns) }
    }
    guard inner > 0 else { return }
    Scalar.gemm(
      .notTransposed, .notTransposed, m: rows, n: columns, k: inner,
      alpha: 1, a: x.storage.base, leadingDimensionA: inner,
      b: weight.storage.base, leadingDimensionB: columns, beta: 1, c: destination, leadingDimensionC: columns)
  }
  return result
}
