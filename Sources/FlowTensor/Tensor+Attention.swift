import RealModule

/// The softmax of attention scores under a causal mask, fused: query `i`
/// attends keys `j ≤ i + keyOffset` only, and the masked entries are 0.
///
/// The same as `softmax(scores + mask)` with `mask` −∞ above the shifted
/// diagonal, but one pass per row over the visible keys only, and no mask
/// tensor. The default offset `keys − queries` aligns the last query with
/// the last key: square scores give the usual lower-triangular mask, and a
/// single query against a key cache (`[..., 1, t]`) sees every key.
///
/// - Parameters:
///   - scores: rank ≥ 2, `[..., queries, keys]` (attention logits, already scaled).
///   - keyOffset: how many keys beyond its own index a query sees; `nil`
///     for `keys − queries`. A row that sees no key at all is all zeros.
/// - Returns: `scores`' shape; each row sums to 1 over its visible keys.
///
/// Differentiable: the rules are softmax's, `y ⊙ (g − ⟨g, y⟩)` along the
/// keys, which vanish on the masked entries because `y` does.
/// - Complexity: O(n) with one `exp` per visible score; rows split across cores.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func causalSoftmax<Scalar: TensorScalar>(_ scores: Tensor<Scalar>, keyOffset: Int? = nil) -> Tensor<Scalar> {
  precondition(scores.rank >= 2, "causalSoftmax: scores \(scores.shape) need rank ≥ 2, [..., queries, keys]")
  let queries = scores.shape[scores.rank - 2]
  let keys = scores.shape[scores.rank - 1]
  let offset = keyOffset ?? (keys - queries)
  let value = causalSoftmaxValue(scores, queries: queries, keys: keys, offset: offset)
  guard scores.autodiff != nil else { return value }
  return value.derived(
    from: scores, operation: "causalSoftmax(keyOffset: \(offset))",
    pullback: { cotangent in causalSoftmaxPullback(cotangent, output: value) },
    tangent: { _, output, tangent in
      output * (tangent - (tangent * output).sum(alongAxes: [tangent.rank - 1], keepingDimensions: true))
    })
}

/// The cotangent of ``causalSoftmax(_:keyOffset:)``, `y ⊙ (g − ⟨g, y⟩)` per
/// row, in one pass: the masked entries, where y is 0, give 0.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func causalSoftmaxPullback<Scalar: TensorScalar>(_ cotangent: Tensor<Scalar>, output: Tensor<Scalar>) -> Tensor<Scalar> {
  let result = Tensor<Scalar>(uninitializedShape: output.shape)
  let keys = output.shape.last ?? 0
  guard result.scalarCount > 0, keys > 0 else { return result }
  let (gradient, value) = (UnsafePointer(cotangent.storage.base), UnsafePointer(output.storage.base))
  let destination = result.storage.base
  withExtendedLifetime((cotangent, output)) {
    Parallel.forEachRange(count: result.scalarCount / keys, grain: Swift.max(1, Parallel.elementwiseGrain / keys)) { range in
      for row in range {
        let (g, y, out) = (gradient + row * keys, value + row * keys, destination + row * keys)
        var dot: Scalar = 0
        for index in 0..<keys where y[index] != 0 { dot += g[index] * y[index] }
        for index in 0..<keys { out[index] = y[index] == 0 ? 0 : y[index] * (g[index] - dot) }
      }
    }
  }
  return result
}

/// The value of ``causalSoftmax(_:keyOffset:)``, without derivatives.
@inline(__always)
func causalSoftmaxValue<Scalar: TensorScalar>(
  _ scores: Tensor<Scalar>, queries: Int, keys: Int, offset: Int
) -> Tensor<Scalar> {
  let result = Tensor<Scalar>(uninitializedShape: scores.shape)
  guard result.scalarCount > 0 else { return result }
  let rows = result.scalarCount / keys
  let source = UnsafePointer(scores.storage.base)
  let destination = result.storage.base
  let grain = Swift.max(1, Parallel.elementwiseGrain / Swift.max(keys, 1))
  withExtendedLifetime(scores) {
    Parallel.forEachRange(count: rows, grain: grain) { range in
      for row in range {
        let query = row % queries
        let visible = Swift.min(keys, Swift.max(0, query + offset + 1))
        let input = source + row * keys
        let output = destination + row * keys
        if visible > 0 {
          let shift = ReductionKernel.rowExtremum(input, count: visible, isGreaterPropagatingNaN)
          for index in 0..<visible { output[index] = Scalar.exp(input[index] - shift) }
          let total = ReductionKernel.pairwiseSum(UnsafePointer(output), count: visible) { $0 }
          let reciprocal = 1 / total
          for index in 0..<visible { output[index] *= reciprocal }
        }
        for index in visible..<keys { output[index] = 0 }
      }
    }
  }
  return result
}

/// Causal attention of the last `queries` positions over the first
/// `length` rows of key and value buffers: softmax(q·kᵀ)·v with query i
/// (of n) seeing keys j ≤ length − n + i. The keys and values may be longer
/// than `length` (a preallocated decoding cache); rows from `length` on are
/// never read.
///
/// Without derivatives to record it works in place on the buffers: one
/// `gemm` for the scores and one for the weighted values per leading
/// index, on the contiguous `[length, headSize]` prefix of each matrix, so
/// that a decoding step reads the cache once and copies nothing. With
/// derivatives it is the composite of ``matmul(_:_:transposingA:transposingB:)``
/// and ``causalSoftmax(_:keyOffset:)`` on the sliced prefix, whose rules apply.
/// - Parameters:
///   - queries: `[..., n, headSize]`, already scaled (by 1/√headSize).
///   - keys, values: `[..., capacity, headSize]`, the leading axes of `queries`.
///   - length: n ≤ length ≤ capacity.
/// - Returns: `[..., n, headSize]`.
/// - Complexity: O(batch·n·length·headSize).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func causalAttention<Scalar: TensorScalar>(
  queries: Tensor<Scalar>, keys: Tensor<Scalar>, values: Tensor<Scalar>, length: Int
) -> Tensor<Scalar> {
  let rank = queries.rank
  precondition(
    rank >= 2 && keys.shape == values.shape && keys.rank == rank
      && Array(keys.shape.prefix(rank - 2)) == Array(queries.shape.prefix(rank - 2))
      && keys.shape[rank - 1] == queries.shape[rank - 1]
      && queries.shape[rank - 2] <= length && length <= keys.shape[rank - 2],
    "causalAttention: queries \(queries.shape), keys \(keys.shape), values \(values.shape), length \(length): "
      + "need [..., n, d], [..., capacity, d] twice and n ≤ length ≤ capacity")
  if queries.autodiff != nil || keys.autodiff != nil || values.autodiff != nil {
    let visibleKeys = length == keys.shape[rank - 2] ? keys : keys.sliced(alongAxis: rank - 2, from: 0, to: length)
    let visibleValues =
      length == values.shape[rank - 2] ? values : values.sliced(alongAxis: rank - 2, from: 0, to: length)
    return matmul(causalSoftmax(matmul(queries, visibleKeys, transposingB: true)), visibleValues)
  }
  let (count, size, capacity) = (queries.shape[rank - 2], queries.shape[rank - 1], keys.shape[rank - 2])
  let result = Tensor<Scalar>(uninitializedShape: queries.shape)
  guard result.scalarCount > 0 else { return result }
  let batch = result.scalarCount / (count * size)
  let output = result.storage.base
  let (queryBase, keyBase, valueBase) = (
    UnsafePointer(queries.storage.base), UnsafePointer(keys.storage.base), UnsafePointer(values.storage.base)
  )
  if count == 1 {
    // One query per matrix (a decoding step): two `gemv`s per matrix, the
    // matrices across cores. A one-row `gemm` packs the whole key or value
    // prefix before multiplying, which took ~40% of cached sampling (perf, issue 8).
    withExtendedLifetime((queries, keys, values)) {
      Parallel.forEachRange(count: batch, grain: Swift.max(1, Parallel.elementwiseGrain / (2 * length * size))) { range in
        withUnsafeTemporaryAllocation(of: Scalar.self, capacity: length) { buffer in
          let scores = buffer.baseAddress!
          for index in range {
            Scalar.gemv(
              .notTransposed, m: length, n: size, alpha: 1, a: keyBase + index * capacity * size, leadingDimension: size,
              x: queryBase + index * size, strideX: 1, beta: 0, y: scores, strideY: 1)
            let shift = ReductionKernel.rowExtremum(UnsafePointer(scores), count: length, isGreaterPropagatingNaN)
            for key in 0..<length { scores[key] = Scalar.exp(scores[key] - shift) }
            let reciprocal = 1 / ReductionKernel.pairwiseSum(UnsafePointer(scores), count: length) { $0 }
            for key in 0..<length { scores[key] *= reciprocal }
            Scalar.gemv(
              .transposed, m: length, n: size, alpha: 1, a: valueBase + index * capacity * size, leadingDimension: size,
              x: UnsafePointer(scores), strideX: 1, beta: 0, y: output + index * size, strideY: 1)
          }
        }
      }
    }
    return result
  }
  withExtendedLifetime((queries, keys, values)) {
    withUnsafeTemporaryAllocation(of: Scalar.self, capacity: count * length) { buffer in
      let scores = buffer.baseAddress!
      for index in 0..<batch {
        let keyMatrix = keyBase + index * capacity * size
        Scalar.gemm(
          .notTransposed, .transposed, m: count, n: length, k: size,
          alpha: 1, a: queryBase + index * count * size, leadingDimensionA: size,
          b: keyMatrix, leadingDimensionB: size, beta: 0, c: scores, leadingDimensionC: length)
        for row in 0..<count {
          let visible = length - count + row + 1
          let line = scores + row * length
          let shift = ReductionKernel.rowExtremum(UnsafePointer(line), count: visible, isGreaterPropagatingNaN)
          for key in 0..<visible { line[key] = Scalar.exp(line[key] - shift) }
          let reciprocal = 1 / ReductionKernel.pairwiseSum(UnsafePointer(line), count: visible) { $0 }
          for key in 0..<visible { line[key] *= reciprocal }
          for key in visible..<length { line[key] = 0 }
        }
        Scalar.gemm(
          .notTransposed, .notTransposed, m: count, n: size, k: length,
          alpha: 1, a: UnsafePointer(scores), leadingDimensionA: length,
          b: valueBase + index * capacity * size, leadingDimensionB: size,
          beta: 0, c: output + index * count * size, leadingDimensionC: size)
      }
    }
  }
  return result
}
