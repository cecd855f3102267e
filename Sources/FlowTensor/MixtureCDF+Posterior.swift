import RealModule

// The Bayes-rule updates of the Mixture-Rosenblatt flow (TarFlowLM,
// arXiv 2507.00425, Alg. 1) as one op: channel i's mixture weights are the
// posterior over components given the channels before it,
// α_k⁽ⁱ⁾ ∝ π_k Π_{j<i} N(z_j; μ_{k,j}, σ_k²). Composed of elementwise ops,
// a triangular matrix product and transposes, it took about ten passes
// over `[tokens, channels, components]` each way, each recorded on the
// graph; here one pass forward and one back, in `Double`.

/// The unnormalised log posterior weights of every channel's mixture in a
/// Mixture-Rosenblatt flow: a_{t,i,k} = l_{t,k} + Σ_{j<i} log N(z_{t,j}; μ_{k,j}, σ_k²).
///
/// Differentiable with respect to all four operands; the pullback is one
/// fused pass (a reversed cumulative sum over channels), the tangent rule
/// the same map composed of differentiable ops.
/// - Parameters:
///   - z: `[tokens, channels]`.
///   - logits: `[tokens, components]`, the prior log weights l (unnormalised).
///   - means: `[components, channels]`.
///   - logScales: `[components]`, log σ_k.
/// - Returns: `[tokens, channels, components]`.
/// - Complexity: O(tokens·channels·components), split across cores.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func mixturePosteriorLogits<Scalar: TensorScalar>(
  _ z: Tensor<Scalar>, logits: Tensor<Scalar>, means: Tensor<Scalar>, logScales: Tensor<Scalar>
) -> Tensor<Scalar> {
  precondition(
    z.rank == 2 && means.rank == 2 && means.shape[1] == z.shape[1] && logits.shape == [z.shape[0], means.shape[0]]
      && logScales.shape == [means.shape[0]],
    "mixturePosteriorLogits: z \(z.shape), logits \(logits.shape), means \(means.shape), logScales \(logScales.shape) "
      + "are not [tokens, channels], [tokens, components], [components, channels], [components]")
  let layout = PosteriorLayout(tokens: z.shape[0], channels: z.shape[1], components: means.shape[0])
  let (zValue, logitValue, meanValue, scaleValue) = (z.detached, logits.detached, means.detached, logScales.detached)
  let value = posteriorLogitsValue(zValue, logitValue, meanValue, scaleValue, layout)
  let inputs = [z, logits, means, logScales]
  guard inputs.contains(where: { $0.autodiff != nil }) else { return value }
  return value.derived(
    from: inputs, operation: "mixturePosteriorLogits",
    pullback: { cotangent in
      posteriorLogitsPullback(cotangent.detached, zValue, meanValue, scaleValue, layout)
    },
    tangent: { inputs, _, tangents in
      let duals = zip(inputs, tangents).map { $0.attachingTangent($1) }
      let result = mixturePosteriorLogitsComposite(duals[0], logits: duals[1], means: duals[2], logScales: duals[3])
      if let tangent = result.tangent { return tangent }
      let index = tangents.firstIndex { $0 != nil }!
      let batch = tangents[index]!.rank - inputs[index].rank
      return Tensor.zeros(shape: Array(tangents[index]!.shape.prefix(batch)) + value.shape)
    })
}

/// ``mixturePosteriorLogits(_:logits:means:logScales:)`` composed of
/// differentiable ops: the fused op's tangent rule.
func mixturePosteriorLogitsComposite<Scalar: TensorScalar>(
  _ z: Tensor<Scalar>, logits: Tensor<Scalar>, means: Tensor<Scalar>, logScales: Tensor<Scalar>
) -> Tensor<Scalar> {
  let channels = z.shape[1]
  let standardized = (z.expandingShape(at: 2) - means.transposed()) * exp(-logScales)
  let logDensities = square(standardized) * Scalar(-0.5) - logScales - Scalar(halfLogTwoPi)
  // Σ_{j<i} as a product with the strictly upper triangular matrix of ones.
  let before = Tensor<Scalar>(
    shape: [channels, channels],
    scalars: (0..<channels).flatMap { row in (0..<channels).map { column in row < column ? 1 : 0 } })
  let accumulated = matmul(logDensities.transposed(permutation: [0, 2, 1]), before).transposed(permutation: [0, 2, 1])
  return logits.expandingShape(at: 1) + accumulated
}

/// Sizes of a posterior-logits op.
struct PosteriorLayout {
  let tokens: Int
  let channels: Int
  let components: Int
}

/// The value, one token at a time: the running posterior in `Double`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
private func posteriorLogitsValue<Scalar: TensorScalar>(
  _ z: Tensor<Scalar>, _ logits: Tensor<Scalar>, _ means: Tensor<Scalar>, _ logScales: Tensor<Scalar>,
  _ layout: PosteriorLayout
) -> Tensor<Scalar> {
  let (channels, components) = (layout.channels, layout.components)
  let result = Tensor<Scalar>(uninitializedShape: [layout.tokens, channels, components])
  guard result.scalarCount > 0 else { return result }
  let (zBase, logitBase, meanBase, scaleBase) = (
    UnsafePointer(z.storage.base), UnsafePointer(logits.storage.base), UnsafePointer(means.storage.base),
    UnsafePointer(logScales.storage.base)
  )
  let output = result.storage.base
  withExtendedLifetime((z, logits, means, logScales)) {
    Parallel.forEachRange(count: layout.tokens, grain: Swift.max(1, 4096 / (channels * components))) { range in
      withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * components) { buffer in
        let (inverseScales, offsets, running) = posteriorScratch(buffer.baseAddress!, scaleBase, components)
        for token in range {
          for k in 0..<components { running[k] = Double(logitBase[token * components + k]) }
          for channel in 0..<channels {
            let row = output + (token * channels + channel) * components
            let zValue = Double(zBase[token * channels + channel])
            for k in 0..<components {
              row[k] = Scalar(running[k])
              let t = (zValue - Double(meanBase[k * channels + channel])) * inverseScales[k]
              running[k] += offsets[k] - 0.5 * t * t
            }
          }
        }
      }
    }
  }
  return result
}

/// Splits `buffer` (3·components doubles) into 1/σ_k, −log σ_k − ½ log 2π
/// (both filled) and a running sum.
@inline(__always)
private func posteriorScratch<Scalar: TensorScalar>(
  _ buffer: UnsafeMutablePointer<Double>, _ logScales: UnsafePointer<Scalar>, _ components: Int
) -> (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) {
  let (inverseScales, offsets) = (buffer, buffer + components)
  for k in 0..<components {
    let logScale = Double(logScales[k])
    inverseScales[k] = Double.exp(-logScale)
    offsets[k] = -logScale - halfLogTwoPi
  }
  return (inverseScales, offsets, buffer + 2 * components)
}

/// Cotangents of z, the logits, means and log-scales from the cotangent
/// G `[tokens, channels, components]`. The log-density of channel j
/// enters every later channel, so its cotangent is Σ_{i>j} G_{t,i,k}, a
/// cumulative sum from the last channel down; the logits' is Σ_i G_{t,i,k}.
/// Means and log-scales sum over tokens: per block of tokens into
/// partial sums, added in block order (deterministic for a thread count).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
private func posteriorLogitsPullback<Scalar: TensorScalar>(
  _ cotangent: Tensor<Scalar>, _ z: Tensor<Scalar>, _ means: Tensor<Scalar>, _ logScales: Tensor<Scalar>,
  _ layout: PosteriorLayout
) -> [Tensor<Scalar>?] {
  let (tokens, channels, components) = (layout.tokens, layout.channels, layout.components)
  let zGradient = Tensor<Scalar>(uninitializedShape: [tokens, channels])
  let logitGradient = Tensor<Scalar>(uninitializedShape: [tokens, components])
  // Per block: Σ over its tokens of ∂/∂μ_{k,j} (components·channels) then ∂/∂log σ_k (components).
  let blocks = Swift.min(tokens, Parallel.threadCount * 4)
  let partialSize = components * channels + components
  var partials = [Double](repeating: 0, count: Swift.max(1, blocks * partialSize))
  if blocks > 0 {
    let (g, zBase, meanBase, scaleBase) = (
      UnsafePointer(cotangent.storage.base), UnsafePointer(z.storage.base), UnsafePointer(means.storage.base),
      UnsafePointer(logScales.storage.base)
    )
    let (zOut, logitOut) = (zGradient.storage.base, logitGradient.storage.base)
    partials.withUnsafeMutableBufferPointer { partialBuffer in
      let partialBase = partialBuffer.baseAddress!
      withExtendedLifetime((cotangent, z, means, logScales)) {
        Parallel.forEachRange(count: blocks, grain: 1) { blockRange in
          withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * components) { buffer in
            let (inverseScales, _, later) = posteriorScratch(buffer.baseAddress!, scaleBase, components)
            for block in blockRange {
              let meanSums = partialBase + block * partialSize
              let scaleSums = meanSums + components * channels
              for token in (tokens * block / blocks)..<(tokens * (block + 1) / blocks) {
                for k in 0..<components { later[k] = 0 }
                for channel in (0..<channels).reversed() {
                  let row = g + (token * channels + channel) * components
                  let zValue = Double(zBase[token * channels + channel])
                  var zSum = 0.0
                  for k in 0..<components {
                    // ∂a_{t,i,k}/∂ log N(z_j) = 1 for i > j: the cotangent is Σ_{i>j} G.
                    let weight = later[k]
                    let inverseScale = inverseScales[k]
                    let t = (zValue - Double(meanBase[k * channels + channel])) * inverseScale
                    // log N = −t²/2 − log σ − ½log 2π: ∂/∂z = −t/σ, ∂/∂μ = t/σ, ∂/∂log σ = t² − 1.
                    zSum -= weight * t * inverseScale
                    meanSums[k * channels + channel] += weight * t * inverseScale
                    scaleSums[k] += weight * (t * t - 1)
                    later[k] += Double(row[k])
                  }
                  zOut[token * channels + channel] = Scalar(zSum)
                }
                for k in 0..<components { logitOut[token * components + k] = Scalar(later[k]) }
              }
            }
          }
        }
      }
    }
  }
  var meanSums = [Double](repeating: 0, count: components * channels)
  var scaleSums = [Double](repeating: 0, count: components)
  for block in 0..<blocks {
    for index in 0..<(components * channels) { meanSums[index] += partials[block * partialSize + index] }
    for k in 0..<components { scaleSums[k] += partials[block * partialSize + components * channels + k] }
  }
  return [
    zGradient, logitGradient,
    Tensor(shape: [components, channels], scalars: meanSums.map { Scalar($0) }),
    Tensor(shape: [components], scalars: scaleSums.map { Scalar($0) }),
  ]
}
