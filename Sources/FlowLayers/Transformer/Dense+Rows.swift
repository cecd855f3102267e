import FlowTensor

extension Dense {
  /// x·W + b applied to every row of `x` (`[..., inputSize]` → `[..., outputSize]`)
  /// as ONE matrix product `[rows, inputSize] × [inputSize, outputSize]`.
  ///
  /// The value is ``callAsFunction(_:)``'s, but a rank-2 left operand makes
  /// the weight's gradient one `gemm` with the rows as inner dimension,
  /// where a batched `[batch, length, inputSize]` operand would give one
  /// `gemm` per batch element and a `[batch, inputSize, outputSize]`
  /// temporary to sum.
  /// - Complexity: O(rows·inputSize·outputSize), one `gemm` each way.
  func applied(toRows x: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(
      x.rank >= 1 && x.shape.last == inputSize, "Dense: input \(x.shape) does not end in \(inputSize) features")
    let rows = x.scalarCount / Swift.max(inputSize, 1)
    let product = matmul(x.reshaped(to: [rows, inputSize]), weight) + bias
    return product.reshaped(to: Array(x.shape.dropLast()) + [outputSize])
  }
}
