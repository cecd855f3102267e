import FlowTensor

extension Dense {
  /// x·W + b applied to every row of `x` (`[..., inputSize]` → `[..., outputSize]`)
  /// as ONE matrix product `[rows, inputSize] × [inputSize, outputSize]`.
  ///
  /// The value is ``callAsFunction(_:)``'s, but a rank-2 left operand makes
  /// the weight's gradient one `gemm` with the rows as inner dimension,
  /// where a batched `[batch, length, inputSize]` operand would give one
  /// `gemm` per batch element and a `[batch, inputSize, outputSize]`
  /// temporary to sum. The bias gradient, the column sums of the output
  /// cotangent, is one more product `1ᵀ·G` (a `gemm` with one row):
  /// the generic broadcast reduction (`unbroadcast`) of `[rows, outputSize]`
  /// took ~5% of a TarFlow training step (perf, issue 8), the product a
  /// fraction of that.
  /// - Complexity: O(rows·inputSize·outputSize), one `gemm` forward, three back.
  func applied(toRows x: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(
      x.rank >= 1 && x.shape.last == inputSize, "Dense: input \(x.shape) does not end in \(inputSize) features")
    let rows = x.scalarCount / Swift.max(inputSize, 1)
    let matrix = x.reshaped(to: [rows, inputSize])
    let product = affineRows(matrix, weight: weight, bias: bias)
    return product.reshaped(to: Array(x.shape.dropLast()) + [outputSize])
  }
}

/// x·W + b for a matrix of rows, with its own derivative rules (see
/// ``Dense/applied(toRows:)``).
/// - Parameters:
///   - x: `[rows, in]`.
///   - weight: `[in, out]`.
///   - bias: `[out]`.
/// - Returns: `[rows, out]`.
func affineRows<Scalar: TensorScalar>(
  _ x: Tensor<Scalar>, weight: Tensor<Scalar>, bias: Tensor<Scalar>
) -> Tensor<Scalar> {
  let value = matmul(stopGradient(x), stopGradient(weight)) + stopGradient(bias)
  let operands = [x, weight, bias]
  guard operands.contains(where: { $0.requiresGradient || $0.tangent != nil }) else { return value }
  let (xValue, weightValue) = (stopGradient(x), stopGradient(weight))
  let (needX, needWeight, needBias) = (x.requiresGradient, weight.requiresGradient, bias.requiresGradient)
  return value.derived(
    from: operands, operation: "Dense.applied(toRows:)",
    pullback: { cotangent in
      [
        needX ? matmul(cotangent, weightValue, transposingB: true) : nil,
        needWeight ? matmul(xValue, cotangent, transposingA: true) : nil,
        needBias ? columnSums(cotangent) : nil,
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

/// The sums of the columns of `g` (`[rows, columns]` → `[columns]`) as the
/// product 1ᵀ·g, one pass at `gemm` speed.
private func columnSums<Scalar: TensorScalar>(_ g: Tensor<Scalar>) -> Tensor<Scalar> {
  let ones = Tensor<Scalar>.ones(shape: [1, g.shape[0]])
  return matmul(ones, g).reshaped(to: [g.shape[1]])
}
