import FlowTensor

/// Σ over every axis but the first of per-element log-derivatives
/// (`[batch, event...]` → `[batch]`): the log-determinant of an elementwise
/// map, whose Jacobian is diagonal.
///
/// Reshapes to `[batch, event size]` with explicit sizes, so an empty batch
/// or an empty event (log-det 0) needs no special case.
/// - Complexity: O(batch · event size).
func elementwiseEventSum<Scalar: TensorScalar>(_ terms: Tensor<Scalar>) -> Tensor<Scalar> {
  precondition(terms.rank >= 1, "elementwise bijector: input of shape \(terms.shape) has no batch axis")
  let batch = terms.shape[0]
  let eventSize = terms.shape.dropFirst().reduce(1, *)
  return terms.reshaped(to: [batch, eventSize]).sum(alongAxes: [1])
}

/// The number of scalars in one event of `x` (`[batch, event...]`).
func elementwiseEventSize<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Int {
  precondition(x.rank >= 1, "elementwise bijector: input of shape \(x.shape) has no batch axis")
  return x.shape.dropFirst().reduce(1, *)
}
