import RealModule

/// Cotangents of layer normalisation, with x̂ = (x − μ)·r the normalised
/// input and g the output cotangent:
/// offset̄ = Σ_rows g, scalē = Σ_rows g ⊙ x̂, and, with h = g ⊙ scale,
/// x̄ = r·(h − mean(h) − x̂·mean(h ⊙ x̂)) along each row.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func layerNormalizationPullback<Scalar: TensorScalar>(
  _ cotangent: Tensor<Scalar>, input: Tensor<Scalar>, scale: Tensor<Scalar>,
  statistics: LayerNormalizationStatistics<Scalar>
) -> [Tensor<Scalar>?] {
  let features = input.shape.last ?? 0
  let inputGradient = Tensor<Scalar>(uninitializedShape: input.shape)
  let rows = features == 0 ? 0 : input.scalarCount / features
  guard rows > 0 else {
    return [inputGradient, Tensor(repeating: 0, shape: [features]), Tensor(repeating: 0, shape: [features])]
  }
  // scalē and offset̄ are column sums, accumulated in the same pass per
  // block of rows (`ColumnSums`): no [rows, features] temporary for g ⊙ x̂
  // and no one-row products over it (the generic reduction over the
  // leading axes took ~3% of a TarFlow training step, perf, issue 8).
  let blocks = ColumnSums.Blocks(rows: rows)
  let (gradientBase, source, scaleBase) = (
    UnsafePointer(cotangent.storage.base), UnsafePointer(input.storage.base), UnsafePointer(scale.storage.base)
  )
  let inputOut = inputGradient.storage.base
  let count = Scalar(features)
  return withUnsafeTemporaryAllocation(of: Scalar.self, capacity: 2 * blocks.count * features) { buffer in
    let (scalePartials, offsetPartials) = (buffer.baseAddress!, buffer.baseAddress! + blocks.count * features)
    statistics.values.withUnsafeBufferPointer { moments in
      withExtendedLifetime((cotangent, input, scale)) {
        Parallel.forEachRange(count: blocks.count, grain: blocks.grain(columns: features)) { range in
          for block in range {
            let (scaleTotal, offsetTotal) = (scalePartials + block * features, offsetPartials + block * features)
            scaleTotal.initialize(repeating: 0, count: features)
            offsetTotal.initialize(repeating: 0, count: features)
            for row in blocks.range(block) {
              let (mean, reciprocal) = (moments[2 * row], moments[2 * row + 1])
              let g = gradientBase + row * features
              let x = source + row * features
              // Four running sums each, so that the additions do not wait
              // on one another (a single chain cost ~4 cycles per feature).
              var sumH: (Scalar, Scalar, Scalar, Scalar) = (0, 0, 0, 0)
              var sumHX: (Scalar, Scalar, Scalar, Scalar) = (0, 0, 0, 0)
              var j = 0
              while j + 4 <= features {
                let n0 = (x[j] - mean) * reciprocal, n1 = (x[j + 1] - mean) * reciprocal
                let n2 = (x[j + 2] - mean) * reciprocal, n3 = (x[j + 3] - mean) * reciprocal
                let h0 = g[j] * scaleBase[j], h1 = g[j + 1] * scaleBase[j + 1]
                let h2 = g[j + 2] * scaleBase[j + 2], h3 = g[j + 3] * scaleBase[j + 3]
                sumH = (sumH.0 + h0, sumH.1 + h1, sumH.2 + h2, sumH.3 + h3)
                sumHX = (sumHX.0 + h0 * n0, sumHX.1 + h1 * n1, sumHX.2 + h2 * n2, sumHX.3 + h3 * n3)
                scaleTotal[j] += g[j] * n0
                scaleTotal[j + 1] += g[j + 1] * n1
                scaleTotal[j + 2] += g[j + 2] * n2
                scaleTotal[j + 3] += g[j + 3] * n3
                offsetTotal[j] += g[j]
                offsetTotal[j + 1] += g[j + 1]
                offsetTotal[j + 2] += g[j + 2]
                offsetTotal[j + 3] += g[j + 3]
                j += 4
              }
              while j < features {
                let normalized = (x[j] - mean) * reciprocal
                let h = g[j] * scaleBase[j]
                sumH.0 += h
                sumHX.0 += h * normalized
                scaleTotal[j] += g[j] * normalized
                offsetTotal[j] += g[j]
                j += 1
              }
              let meanH = ((sumH.0 + sumH.1) + (sumH.2 + sumH.3)) / count
              let meanHX = ((sumHX.0 + sumHX.1) + (sumHX.2 + sumHX.3)) / count
              let out = inputOut + row * features
              for j in 0..<features {
                let normalized = (x[j] - mean) * reciprocal
                out[j] = reciprocal * (g[j] * scaleBase[j] - meanH - normalized * meanHX)
              }
            }
          }
        }
      }
    }
    return [
      inputGradient,
      ColumnSums.combine(UnsafePointer(scalePartials), blocks: blocks.count, columns: features),
      ColumnSums.combine(UnsafePointer(offsetPartials), blocks: blocks.count, columns: features),
    ]
  }
}

/// Tangent of layer normalisation in public ops (so it differentiates
/// again): ẏ = r·(ẋ − mean(ẋ) − x̂·mean(ẋ ⊙ x̂))⊙scale + x̂⊙ṡcale + ȯffset,
/// means along the last axis; tangents may carry leading batch axes.
func layerNormalizationTangent<Scalar: TensorScalar>(
  _ x: Tensor<Scalar>, scale: Tensor<Scalar>, epsilon: Scalar, tangents: [Tensor<Scalar>?]
) -> Tensor<Scalar> {
  let axis = x.rank - 1
  let centered = x - x.mean(alongAxes: [axis], keepingDimensions: true)
  let reciprocal = rsqrt(square(centered).mean(alongAxes: [axis], keepingDimensions: true) + epsilon)
  let normalized = centered * reciprocal
  var terms: [Tensor<Scalar>] = []
  if let dx = tangents[0] {
    let last = dx.rank - 1
    let projected =
      dx - dx.mean(alongAxes: [last], keepingDimensions: true)
      - normalized * (dx * normalized).mean(alongAxes: [last], keepingDimensions: true)
    terms.append(projected * reciprocal * scale)
  }
  if let dScale = tangents[1] {
    // [batch..., features] against x̂ [..., features]: put the batch axes first.
    let batch = Array(dScale.shape.dropLast())
    let aligned = dScale.reshaped(to: batch + Array(repeating: 1, count: x.rank - 1) + [x.shape[axis]])
    terms.append(normalized * aligned)
  }
  if let dOffset = tangents[2] {
    let batch = Array(dOffset.shape.dropLast())
    terms.append(dOffset.reshaped(to: batch + Array(repeating: 1, count: x.rank - 1) + [x.shape[axis]]))
  }
  var total = terms[0]
  for term in terms.dropFirst() { total = total + term }
  let batchRank = total.rank - x.rank
  let target = Array(total.shape[..<batchRank]) + x.shape
  return total.shape == target ? total : total.broadcast(to: target)
}
