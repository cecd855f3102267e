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
    pullback: { cotangent in value * (cotangent - (cotangent * value).sum(alongAxes: [-1], keepingDimensions: true)) },
    tangent: { _, output, tangent in
      output * (tangent - (tangent * output).sum(alongAxes: [tangent.rank - 1], keepingDimensions: true))
    })
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
