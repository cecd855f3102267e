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
  var total: Scalar = 0
  for index in tensors.indices { total += detachedWeightedSum(tensors[index], weights: weights[index]) }
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

/// Σₖ w[k]·x[k] (Σₖ x[k] when `weights` is nil) as a plain number: no
/// tensor, no graph node, no allocation.
///
/// For hot paths that add up a few small tensors with no derivative in
/// play, such as CDFlow's log|det W| outside training, where building the
/// arguments of ``weightedSum(_:weights:)`` costs as much as the sum.
/// - Parameters:
///   - x: any shape.
///   - weights: x's shape, or `nil` for all ones.
/// - Complexity: O(x.scalarCount).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func detachedWeightedSum<Scalar: TensorScalar>(_ x: Tensor<Scalar>, weights: Tensor<Scalar>?) -> Scalar {
  // Four running sums, so that the additions do not wait on one another
  // (one accumulator is a chain of dependent adds, 4 cycles each: most of
  // the op's time for CDFlow's log-det at n = 96).
  var (s0, s1, s2, s3): (Scalar, Scalar, Scalar, Scalar) = (0, 0, 0, 0)
  let values = UnsafePointer(x.storage.base)
  let count = x.scalarCount
  let whole = count & ~3
  if let weights {
    precondition(
      weights.shape == x.shape, "weightedSum: weights \(weights.shape) for a tensor of shape \(x.shape)")
    let w = UnsafePointer(weights.storage.base)
    for start in stride(from: 0, to: whole, by: 4) {
      s0 += values[start] * w[start]
      s1 += values[start + 1] * w[start + 1]
      s2 += values[start + 2] * w[start + 2]
      s3 += values[start + 3] * w[start + 3]
    }
    for index in whole..<count { s0 += values[index] * w[index] }
    withExtendedLifetime(weights) {}
  } else {
    for start in stride(from: 0, to: whole, by: 4) {
      s0 += values[start]
      s1 += values[start + 1]
      s2 += values[start + 2]
      s3 += values[start + 3]
    }
    for index in whole..<count { s0 += values[index] }
  }
  withExtendedLifetime(x) {}
  return (s0 + s1) + (s2 + s3)
}
