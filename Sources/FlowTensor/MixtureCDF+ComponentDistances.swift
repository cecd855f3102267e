import RealModule

// Squared distances of points to a Gaussian mixture's component means, the
// core of the Bayes-rule posterior over components (TarFlowLM's codebook
// decoder, p(x = k | z) ∝ π_k N(z; μ_k, σ_k² I)). As
// square(z.expandingShape − μ).sum(alongAxes: [-1]) it made and recorded a
// `[..., components, d]` difference and its square, and went through them
// again backwards; here one pass each way, in `Double`.

/// ‖x − μ_k‖² for every point and every component mean, formed from the
/// differences (not ‖x‖² − 2x·μ_k + ‖μ_k‖², so a point near a mean keeps
/// its precision) and summed in `Double`.
///
/// Differentiable with respect to both operands: ∂/∂x = 2(x − μ_k),
/// ∂/∂μ_k = −2(x − μ_k), in one fused pullback; the tangent rule is the
/// same map composed of differentiable ops.
/// - Parameters:
///   - x: `[..., d]`, rank ≥ 1.
///   - means: `[components, d]`.
/// - Returns: `[..., components]`.
/// - Complexity: O(points·components·d), split across cores.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func squaredDistances<Scalar: TensorScalar>(_ x: Tensor<Scalar>, toMeans means: Tensor<Scalar>) -> Tensor<Scalar> {
  precondition(
    x.rank >= 1 && means.rank == 2 && means.shape[1] == x.shape[x.rank - 1],
    "squaredDistances: points \(x.shape) and means \(means.shape) are not [..., d] and [components, d]")
  let (xValue, meanValue) = (x.detached, means.detached)
  let value = squaredDistancesValue(xValue, meanValue)
  guard x.autodiff != nil || means.autodiff != nil else { return value }
  return value.derived(
    from: x, means, operation: "squaredDistances",
    pullback: { cotangent in
      let (xGradient, meanGradient) = squaredDistancesPullback(cotangent.detached, xValue, meanValue)
      return (xGradient, meanGradient)
    },
    tangent: { x, means, _, xTangent, meanTangent in
      let differences = x.attachingTangent(xTangent).expandingShape(at: x.rank - 1) - means.attachingTangent(meanTangent)
      let result = square(differences).sum(alongAxes: [-1])
      if let tangent = result.tangent { return tangent }
      let (input, tangent) = xTangent.map { (x, $0) } ?? (means, meanTangent!)
      let batch = tangent.rank - input.rank
      return Tensor.zeros(shape: Array(tangent.shape.prefix(batch)) + value.shape)
    })
}

/// log N(x; μ_k, σ_k² I) for every point and every component of an
/// isotropic Gaussian codebook, less the constant (d/2) log 2π that a
/// softmax over components cancels: −½‖x − μ_k‖²/σ_k² − d log σ_k, the
/// distances from ``squaredDistances(_:toMeans:)``. A codebook's Bayes-rule
/// decoder is its softmax over k.
/// - Parameters:
///   - x: `[..., d]`.
///   - means: `[components, d]`.
///   - logScales: `[components]`, log σ_k.
/// - Returns: `[..., components]`, differentiable in all three.
/// - Complexity: O(points·components·d).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func codebookLogDensities<Scalar: TensorScalar>(
  _ x: Tensor<Scalar>, means: Tensor<Scalar>, logScales: Tensor<Scalar>
) -> Tensor<Scalar> {
  precondition(
    logScales.shape == [means.shape[0]],
    "codebookLogDensities: log-scales \(logScales.shape) for means \(means.shape); expected [\(means.shape[0])]")
  let dimension = Scalar(means.shape[1])
  return -0.5 * squaredDistances(x, toMeans: means) * exp(-2 * logScales) - dimension * logScales
}

/// The distances, one point at a time.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
private func squaredDistancesValue<Scalar: TensorScalar>(_ x: Tensor<Scalar>, _ means: Tensor<Scalar>) -> Tensor<Scalar> {
  let (components, dimension) = (means.shape[0], means.shape[1])
  let points = x.shape.dropLast().reduce(1, *)
  let result = Tensor<Scalar>(uninitializedShape: Array(x.shape.dropLast()) + [components])
  guard result.scalarCount > 0 else { return result }
  let (xBase, meanBase, output) = (UnsafePointer(x.storage.base), UnsafePointer(means.storage.base), result.storage.base)
  withExtendedLifetime((x, means)) {
    Parallel.forEachRange(count: points, grain: Swift.max(1, 8192 / Swift.max(1, components * dimension))) { range in
      for point in range {
        let row = xBase + point * dimension
        for k in 0..<components {
          let mean = meanBase + k * dimension
          var total = 0.0
          for j in 0..<dimension {
            let difference = Double(row[j]) - Double(mean[j])
            total += difference * difference
          }
          output[point * components + k] = Scalar(total)
        }
      }
    }
  }
  return result
}

/// The cotangents of the points and the means from G `[..., components]`:
/// 2 Σ_k G_k (x − μ_k) per point, and −2 Σ_points G_k (x − μ_k) per mean,
/// summed per block of points and the blocks added in order
/// (deterministic for a thread count).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
private func squaredDistancesPullback<Scalar: TensorScalar>(
  _ cotangent: Tensor<Scalar>, _ x: Tensor<Scalar>, _ means: Tensor<Scalar>
) -> (Tensor<Scalar>, Tensor<Scalar>) {
  let (components, dimension) = (means.shape[0], means.shape[1])
  let points = x.shape.dropLast().reduce(1, *)
  let xGradient = Tensor<Scalar>(uninitializedShape: x.shape)
  let blocks = Swift.min(points, Parallel.threadCount * 4)
  let partialSize = components * dimension
  var partials = [Double](repeating: 0, count: Swift.max(1, blocks * partialSize))
  if blocks > 0 && partialSize > 0 {
    let (g, xBase, meanBase) = (
      UnsafePointer(cotangent.storage.base), UnsafePointer(x.storage.base), UnsafePointer(means.storage.base)
    )
    let xOut = xGradient.storage.base
    partials.withUnsafeMutableBufferPointer { partialBuffer in
      let partialBase = partialBuffer.baseAddress!
      withExtendedLifetime((cotangent, x, means)) {
        Parallel.forEachRange(count: blocks, grain: 1) { blockRange in
          withUnsafeTemporaryAllocation(of: Double.self, capacity: dimension) { pointSum in
            for block in blockRange {
              let meanSums = partialBase + block * partialSize
              for point in (points * block / blocks)..<(points * (block + 1) / blocks) {
                let row = xBase + point * dimension
                for j in 0..<dimension { pointSum[j] = 0 }
                for k in 0..<components {
                  let weight = 2 * Double(g[point * components + k])
                  let mean = meanBase + k * dimension
                  for j in 0..<dimension {
                    let pull = weight * (Double(row[j]) - Double(mean[j]))
                    pointSum[j] += pull
                    meanSums[k * dimension + j] -= pull
                  }
                }
                for j in 0..<dimension { xOut[point * dimension + j] = Scalar(pointSum[j]) }
              }
            }
          }
        }
      }
    }
  } else if xGradient.scalarCount > 0 {
    // No components (or no dimension): the distances do not depend on x.
    xGradient.storage.base.initialize(repeating: 0, count: xGradient.scalarCount)
  }
  var meanSums = [Double](repeating: 0, count: partialSize)
  for block in 0..<blocks {
    for index in 0..<partialSize { meanSums[index] += partials[block * partialSize + index] }
  }
  return (xGradient, Tensor(shape: [components, dimension], scalars: meanSums.map { Scalar($0) }))
}
