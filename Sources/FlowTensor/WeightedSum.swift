/// Σᵢ Σₖ wᵢ[k]·xᵢ[k] over several tensors, as one op.
///
/// For quantities like a layer's log-determinant that add up many small
/// parameter tensors: one graph node instead of a sum, a product and an
/// addition per tensor, which matters when the whole computation is a few
/// hundred scalars (CDFlow's log|det W| is O(m·n) and input-independent).
///
/// - Parameters:
///   - tensors: any shapes.
///   - weights: one per tensor, of that tensor's shape, or `nil` for all ones.
///     Weights are constants: no gradient flows to them.
/// - Returns: a rank-0 tensor.
/// - Complexity: O(total scalars).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func weightedSum<Scalar: TensorScalar>(_ tensors: [Tensor<Scalar>], weights: [Tensor<Scalar>?]) -> Tensor<Scalar> {
  precondition(
    tensors.count == weights.count,
    "weightedSum: \(tensors.count) tensors but \(weights.count) weights")
  // Four running sums, so that the additions do not wait on one another
  // (one accumulator is a chain of dependent adds, 4 cycles each: most of
  // the op's time for CDFlow's log-det at n = 96).
  var (s0, s1, s2, s3): (Scalar, Scalar, Scalar, Scalar) = (0, 0, 0, 0)
  for index in tensors.indices {
    let tensor = tensors[index]
    let x = UnsafePointer(tensor.storage.base)
    let count = tensor.scalarCount
    let whole = count & ~3
    if let weight = weights[index] {
      precondition(
        weight.shape == tensor.shape, "weightedSum: weights \(weight.shape) for a tensor of shape \(tensor.shape)")
      let w = UnsafePointer(weight.storage.base)
      for start in stride(from: 0, to: whole, by: 4) {
        s0 += x[start] * w[start]
        s1 += x[start + 1] * w[start + 1]
        s2 += x[start + 2] * w[start + 2]
        s3 += x[start + 3] * w[start + 3]
      }
      for index in whole..<count { s0 += x[index] * w[index] }
      withExtendedLifetime(weight) {}
    } else {
      for start in stride(from: 0, to: whole, by: 4) {
        s0 += x[start]
        s1 += x[start + 1]
        s2 += x[start + 2]
        s3 += x[start + 3]
      }
      for index in whole..<count { s0 += x[index] }
    }
    withExtendedLifetime(tensor) {}
  }
  let total = (s0 + s1) + (s2 + s3)
  let value = Tensor(total)
  guard tensors.contains(where: { $0.autodiff != nil }) else { return value }
  let plainWeights = weights.map { $0?.detached }
  let shapes = tensors.map(\.shape)
  return value.derived(
    from: tensors, operation: "weightedSum",
    pullback: { cotangent in
      zip(shapes, plainWeights).map { shape, weight in
        weight.map { $0 * cotangent } ?? cotangent.broadcast(to: shape)
      }
    },
    tangent: { inputs, output, tangents in
      var result: Tensor<Scalar>? = nil
      for (index, tangent) in tangents.enumerated() {
        guard let tangent else { continue }
        let batchRank = tangent.rank - inputs[index].rank
        let weighted = plainWeights[index].map { tangent * $0 } ?? tangent
        let term = weighted.rank == batchRank ? weighted : weighted.sum(alongAxes: Array(batchRank..<weighted.rank))
        result = result.map { $0 + term } ?? term
      }
      return result!
    })
}
