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
  /// cotangent, is one pass over the output cotangent, and
  /// the bias is added inside the forward `gemm`
  /// (``FlowTensor/affine(_:weight:bias:)``).
  /// - Complexity: O(rows·inputSize·outputSize), one `gemm` forward, three back.
  func applied(toRows x: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(
      x.rank >= 1 && x.shape.last == inputSize, "Dense: input \(x.shape) does not end in \(inputSize) features")
    let rows = x.scalarCount / Swift.max(inputSize, 1)
    let matrix = x.reshaped(to: [rows, inputSize])
    let product = affine(matrix, weight: weight, bias: bias)
    return product.reshaped(to: Array(x.shape.dropLast()) + [outputSize])
  }
}
