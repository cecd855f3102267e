import RealModule

/// Layer normalisation over the last axis, fused (Ba, Kiros & Hinton 2016):
/// y = (x − μ)·(σ² + ε)^(−½)·scale + offset, with μ and the biased σ² over
/// the features of each row.
///
/// One pass per row for the statistics and one for the output, instead of
/// the eight passes and five temporaries of the composite; the pullback is
/// one fused pass as well (see `Tensor+LayerNorm+Derivatives.swift`).
/// - Parameters:
///   - x: `[..., features]`, rank ≥ 1.
///   - scale, offset: `[features]`.
///   - epsilon: > 0, added to the variance.
/// - Returns: `x`'s shape.
/// - Complexity: O(n), rows split across cores.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func layerNormalization<Scalar: TensorScalar>(
  _ x: Tensor<Scalar>, scale: Tensor<Scalar>, offset: Tensor<Scalar>, epsilon: Scalar
) -> Tensor<Scalar> {
  let features = x.shape.last ?? 0
  precondition(
    x.rank >= 1 && scale.shape == [features] && offset.shape == [features],
    "layerNormalization: input \(x.shape), scale \(scale.shape), offset \(offset.shape): need [..., n], [n] and [n]")
  let (value, statistics) = layerNormalizationValue(x, scale: scale, offset: offset, epsilon: epsilon)
  guard x.autodiff != nil || scale.autodiff != nil || offset.autodiff != nil else { return value }
  let (input, scaleValue) = (x.detached, scale.detached)
  return value.derived(
    from: [x, scale, offset], operation: "layerNormalization",
    pullback: { cotangent in
      layerNormalizationPullback(cotangent, input: input, scale: scaleValue, statistics: statistics)
    },
    tangent: { inputs, _, tangents in
      layerNormalizationTangent(inputs[0], scale: inputs[1], epsilon: epsilon, tangents: tangents)
    })
}

/// The per-row mean and reciprocal standard deviation, `[rows, 2]` interleaved.
struct LayerNormalizationStatistics<Scalar: TensorScalar> {
  let values: [Scalar]
}

/// The value of ``layerNormalization(_:scale:offset:epsilon:)`` and its row statistics.
@inline(__always)
func layerNormalizationValue<Scalar: TensorScalar>(
  _ x: Tensor<Scalar>, scale: Tensor<Scalar>, offset: Tensor<Scalar>, epsilon: Scalar
) -> (Tensor<Scalar>, LayerNormalizationStatistics<Scalar>) {
  let features = x.shape.last ?? 0
  let result = Tensor<Scalar>(uninitializedShape: x.shape)
  let rows = features == 0 ? 0 : x.scalarCount / features
  var statistics = [Scalar](repeating: 0, count: 2 * rows)
  guard result.scalarCount > 0 else { return (result, LayerNormalizationStatistics(values: statistics)) }
  let (source, scaleBase, offsetBase) = (
    UnsafePointer(x.storage.base), UnsafePointer(scale.storage.base), UnsafePointer(offset.storage.base)
  )
  let destination = result.storage.base
  let count = Scalar(features)
  statistics.withUnsafeMutableBufferPointer { statisticsBuffer in
    let moments = statisticsBuffer.baseAddress!
    withExtendedLifetime((x, scale, offset)) {
      Parallel.forEachRange(count: rows, grain: Swift.max(1, Parallel.elementwiseGrain / features)) { range in
        for row in range {
          let input = source + row * features
          let output = destination + row * features
          let mean = ReductionKernel.pairwiseSum(input, count: features) { $0 } / count
          let variance = ReductionKernel.pairwiseSum(input, count: features) { ($0 - mean) * ($0 - mean) } / count
          let reciprocal = 1 / Scalar.sqrt(variance + epsilon)
          moments[2 * row] = mean
          moments[2 * row + 1] = reciprocal
          for j in 0..<features { output[j] = (input[j] - mean) * reciprocal * scaleBase[j] + offsetBase[j] }
        }
      }
    }
  }
  return (result, LayerNormalizationStatistics(values: statistics))
}
