import RealModule

/// Cotangents of ``causalSelfAttention(_:headCount:)``, per head, with
/// G the output cotangent, P the attention weights and s = 1/√d:
/// V̄ = Pᵀ·G, P̄ = G·Vᵀ, S̄ = P ⊙ (P̄ − ⟨P̄, P⟩ per row) (softmax's rule),
/// Q̄ = s·S̄·K, K̄ = s·S̄ᵀ·Q, written straight into their places in the
/// packed `[batch, length, 3·width]` cotangent. Blocks of queries run from
/// the last, whose products cover every key and value row, so the
/// earlier blocks add into rows already written (`gemm`'s β = 1).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func selfAttentionPullback<Scalar: TensorScalar>(
  _ cotangent: Tensor<Scalar>, projections: Tensor<Scalar>, weights: Tensor<Scalar>, plan: SelfAttentionPlan
) -> Tensor<Scalar> {
  let result = Tensor<Scalar>(uninitializedShape: projections.shape)
  guard result.scalarCount > 0 else { return result }
  let (length, size, stride, width) = (plan.length, plan.headSize, plan.projectionStride, plan.width)
  let (source, gradient, kept) = (
    UnsafePointer(projections.storage.base), UnsafePointer(cotangent.storage.base), UnsafePointer(weights.storage.base)
  )
  let destination = result.storage.base
  let scale = Scalar(plan.scale)
  let starts = Array(Swift.stride(from: 0, to: length, by: plan.block))
  withExtendedLifetime((cotangent, projections, weights)) {
    Parallel.forEachRange(count: plan.matrices, grain: plan.grain) { range in
      withUnsafeTemporaryAllocation(of: Scalar.self, capacity: plan.block * length) { scratch in
        let scores = scratch.baseAddress!  // P̄, then S̄, for one block of queries
        for index in range {
          let (input, output) = plan.offsets(of: index)
          let (queries, keys, values) = (source + input, source + input + width, source + input + 2 * width)
          let (queryOut, keyOut, valueOut) = (
            destination + input, destination + input + width, destination + input + 2 * width
          )
          let (g, matrix) = (gradient + output, kept + index * length * length)
          for (order, start) in starts.reversed().enumerated() {
            let end = Swift.min(length, start + plan.block)
            let rows = end - start
            let beta: Scalar = order == 0 ? 0 : 1
            Scalar.gemm(
              .notTransposed, .transposed, m: rows, n: end, k: size,
              alpha: 1, a: g + start * width, leadingDimensionA: width,
              b: values, leadingDimensionB: stride, beta: 0, c: scores, leadingDimensionC: length)
            for row in start..<end {
              let (y, line) = (matrix + row * length, scores + (row - start) * length)
              let visible = row + 1
              let dot = Scalar.dot(count: visible, x: UnsafePointer(line), strideX: 1, y: y, strideY: 1)
              for key in 0..<visible { line[key] = y[key] * (line[key] - dot) }
              for key in visible..<end { line[key] = 0 }
            }
            Scalar.gemm(
              .notTransposed, .notTransposed, m: rows, n: size, k: end,
              alpha: scale, a: UnsafePointer(scores), leadingDimensionA: length,
              b: keys, leadingDimensionB: stride, beta: 0, c: queryOut + start * stride, leadingDimensionC: stride)
            Scalar.gemm(
              .transposed, .notTransposed, m: end, n: size, k: rows,
              alpha: scale, a: UnsafePointer(scores), leadingDimensionA: length,
              b: queries + start * stride, leadingDimensionB: stride, beta: beta, c: keyOut, leadingDimensionC: stride)
            Scalar.gemm(
              .transposed, .notTransposed, m: end, n: size, k: rows,
              alpha: 1, a: matrix + start * length, leadingDimensionA: length,
              b: g + start * width, leadingDimensionB: width, beta: beta, c: valueOut, leadingDimensionC: stride)
          }
        }
      }
    }
  }
  return result
}

/// The tangent of ``causalSelfAttention(_:headCount:)`` in public ops (so
/// it differentiates again): with the heads split out, Ṡ = s·(Q̇·Kᵀ + Q·K̇ᵀ),
/// Ṗ = P ⊙ (Ṡ − ⟨Ṡ, P⟩ per row), Ȯ = Ṗ·V + P·V̇, heads merged back.
/// `tangent` is `[batch..., batch, length, 3·width]`.
func selfAttentionTangent<Scalar: TensorScalar>(
  _ projections: Tensor<Scalar>, tangent: Tensor<Scalar>, plan: SelfAttentionPlan
) -> Tensor<Scalar> {
  let leading = Array(tangent.shape.dropLast(3))
  // [leading..., batch, length, 3·width] → three [leading..., batch, heads, length, d].
  func heads(_ x: Tensor<Scalar>) -> [Tensor<Scalar>] {
    let outer = x.rank - 3
    let axes = Array(0..<outer) + [outer + 2, outer, outer + 3, outer + 1, outer + 4]
    let shape = Array(x.shape.prefix(outer))
    return x.reshaped(to: shape + [plan.batch, plan.length, 3, plan.heads, plan.headSize])
      .transposed(permutation: axes)
      .split(count: 3, alongAxis: outer)
      .map { $0.reshaped(to: shape + [plan.batch, plan.heads, plan.length, plan.headSize]) }
  }
  let (primal, direction) = (heads(projections), heads(tangent))
  let scale = Scalar(plan.scale)
  let (queries, keys, values) = (primal[0], primal[1], primal[2])
  let weights = causalSoftmax(matmul(queries, keys, transposingB: true) * scale)
  let scores =
    (matmul(direction[0], keys, transposingB: true) + matmul(queries, direction[1], transposingB: true)) * scale
  let last = scores.rank - 1
  let weightsTangent = weights * (scores - (scores * weights).sum(alongAxes: [last], keepingDimensions: true))
  let attended = matmul(weightsTangent, values) + matmul(weights, direction[2])
  let outer = leading.count
  return attended
    .transposed(permutation: Array(0..<outer) + [outer, outer + 2, outer + 1, outer + 3])
    .reshaped(to: leading + [plan.batch, plan.length, plan.width])
}
