import RealModule

// The Gaussian-mixture CDF flow of one dimension, u = Φ⁻¹(F(z)) with
// F(z) = Σ_k w_k Φ((z − m_k)/s_k) (TarFlowLM, arXiv 2507.00425, Prop. 1;
// Mixture-Rosenblatt, Alg. 1, applies it dimension by dimension), and its
// inverse by a safeguarded Newton iteration.
//
// Everything is in log space: F and 1 − F are each a log-sum-exp of
// log w_k + log Φ(±t_k), and u comes from the smaller of the two, so that
// neither tail rounds to 0 or 1 (at z 8 standard deviations out,
// 1 − F ≈ 6e-16 would be lost as 1 − F but is exact as exp(log(1 − F))).

/// u = Φ⁻¹(F(z)) through a Gaussian mixture's CDF, elementwise, with its
/// log-derivative log|du/dz| = log p(z) − log N(u; 0, 1).
///
/// Built from differentiable ops (`logNormalCDF`, `logSumExp`,
/// `inverseNormalCDF`, …), so it differentiates in both modes with respect
/// to every operand.
/// - Parameters:
///   - z: any shape `S`.
///   - logits: `S + [components]` or broadcastable to it; the mixture
///     weights are their softmax along the last axis.
///   - means: broadcastable to `S + [components]`.
///   - logScales: log standard deviations, broadcastable to `S + [components]`.
/// - Returns: `output` u (shape `S`) and `logDerivative` log|du/dz| (shape `S`).
/// - Complexity: O(n·components), about fifteen passes.
public func mixtureCDFTransform<Scalar: TensorScalar>(
  _ z: Tensor<Scalar>, logits: Tensor<Scalar>, means: Tensor<Scalar>, logScales: Tensor<Scalar>
) -> (output: Tensor<Scalar>, logDerivative: Tensor<Scalar>) {
  let standardized = (z.expandingShape(at: z.rank) - means) * exp(-logScales)
  let components = standardized.rank - 1
  let logWeights = logSoftmax(logits.broadcast(to: broadcastShape(logits.shape, standardized.shape)), alongAxis: -1)
  let logLower = (logWeights + logNormalCDF(standardized)).logSumExp(alongAxes: [components])
  let logUpper = (logWeights + logNormalCDF(-standardized)).logSumExp(alongAxes: [components])
  let logDensity =
    (logWeights - logScales - square(standardized) * Scalar(0.5)).logSumExp(alongAxes: [components])
    - Scalar(halfLogTwoPi)
  // Φ⁻¹ of the smaller tail mass (≤ ½) is ≤ 0 and finite in both branches,
  // so neither branch of `select` carries an infinite derivative; taken
  // from its logarithm, it stays finite where the mass underflows.
  let tail = inverseNormalCDF(logProbability: min(logLower, logUpper))
  let output = select(where: logLower.elementsLessOrEqual(to: logUpper), tail, else: -tail)
  return (output, logDensity + square(output) * Scalar(0.5) + Scalar(halfLogTwoPi))
}

/// The inverse of ``mixtureCDFTransform(_:logits:means:logScales:)``: the z
/// with Φ⁻¹(F(z)) = u, elementwise.
///
/// The root is bracketed exactly by min_k and max_k of m_k + s_k·u (each
/// component's CDF equals Φ(u) there) and found by Newton's method on
/// log F(z) = log Φ(u) (or log(1 − F) = log Φ(−u) for u > 0), falling back
/// to bisection whenever a step leaves the bracket: monotone, so it
/// converges from any start, and accurate in both tails. It runs in
/// `Double` for both precisions, to a relative step of 1e-14.
///
/// Differentiable: one Newton step z = z* − (u(z*) − u)·e^(−log u′(z*)) from
/// the detached root z*, in differentiable ops, has the value z* (up to the
/// root's residual) and the implicit-function derivatives dz/du = 1/u′ and
/// dz/dθ = −(∂u/∂θ)/u′.
/// - Parameters:
///   - u: any shape `S`.
///   - logits, means, logScales: as in the forward transform, broadcastable to `S + [components]`.
/// - Returns: `output` z (shape `S`) and `logDerivative`, the forward's
///   log|du/dz| at z (the inverse's log-derivative is its negative).
/// - Complexity: O(n·components·iterations), iterations ≈ 5–10 (at most 200).
public func inverseMixtureCDFTransform<Scalar: TensorScalar>(
  _ u: Tensor<Scalar>, logits: Tensor<Scalar>, means: Tensor<Scalar>, logScales: Tensor<Scalar>
) -> (output: Tensor<Scalar>, logDerivative: Tensor<Scalar>) {
  let root = mixtureCDFRoot(
    u.detached, logits: logits.detached, means: means.detached, logScales: logScales.detached)
  let (reached, logDerivative) = mixtureCDFTransform(root, logits: logits, means: means, logScales: logScales)
  let output = root - (reached - u) * exp(-logDerivative)
  return (output, logDerivative)
}

/// The shape `shape` broadcasts to against `target` (for the logits' softmax axis).
private func broadcastShape(_ shape: [Int], _ target: [Int]) -> [Int] {
  Shape.broadcast(shape, target, operation: "mixtureCDFTransform: logits \(shape) against \(target)")
}

/// The roots of ``inverseMixtureCDFTransform(_:logits:means:logScales:)``
/// without derivatives.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func mixtureCDFRoot<Scalar: TensorScalar>(
  _ u: Tensor<Scalar>, logits: Tensor<Scalar>, means: Tensor<Scalar>, logScales: Tensor<Scalar>
) -> Tensor<Scalar> {
  let components = [logits.shape.last, means.shape.last, logScales.shape.last].compactMap { $0 }.max() ?? 1
  let full = u.shape + [components]
  let operation = "inverseMixtureCDFTransform: u \(u.shape)"
  let logits = logits.broadcast(to: Shape.broadcast(logits.shape, full, operation: "\(operation), logits \(logits.shape)"))
  let means = means.broadcast(to: Shape.broadcast(means.shape, full, operation: "\(operation), means \(means.shape)"))
  let logScales = logScales.broadcast(
    to: Shape.broadcast(logScales.shape, full, operation: "\(operation), logScales \(logScales.shape)"))
  precondition(
    logits.shape == full && means.shape == full && logScales.shape == full,
    "\(operation): the parameters must broadcast to \(full)")
  let result = Tensor<Scalar>(uninitializedShape: u.shape)
  guard result.scalarCount > 0 else { return result }
  let (uBase, logitBase, meanBase, scaleBase) = (
    UnsafePointer(u.storage.base), UnsafePointer(logits.storage.base), UnsafePointer(means.storage.base),
    UnsafePointer(logScales.storage.base)
  )
  let destination = result.storage.base
  withExtendedLifetime((u, logits, means, logScales)) {
    Parallel.forEachRange(count: result.scalarCount, grain: Swift.max(1, 2048 / components)) { range in
      withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * components) { buffer in
        let logWeight = buffer.baseAddress!
        let mean = logWeight + components
        let scale = mean + components
        for element in range {
          let offset = element * components
          var largest = -Double.infinity
          for k in 0..<components { largest = Swift.max(largest, Double(logitBase[offset + k])) }
          var total = 0.0
          for k in 0..<components { total += Double.exp(Double(logitBase[offset + k]) - largest) }
          let normalizer = largest + Double.log(total)
          for k in 0..<components {
            logWeight[k] = Double(logitBase[offset + k]) - normalizer
            mean[k] = Double(meanBase[offset + k])
            scale[k] = Double.exp(Double(scaleBase[offset + k]))
          }
          destination[element] = Scalar(
            mixtureCDFRoot(Double(uBase[element]), logWeights: logWeight, means: mean, scales: scale, count: components))
        }
      }
    }
  }
  return result
}

/// The z with Φ⁻¹(F(z)) = u for one mixture (normalised log-weights), by
/// safeguarded Newton on the log of the smaller tail mass.
@inline(__always)
func mixtureCDFRoot(
  _ u: Double, logWeights: UnsafePointer<Double>, means: UnsafePointer<Double>, scales: UnsafePointer<Double>,
  count: Int
) -> Double {
  guard u.isFinite else { return u.isNaN ? u : (u > 0 ? .infinity : -.infinity) }
  var low = Double.infinity
  var high = -Double.infinity
  var start = 0.0
  for k in 0..<count {
    let point = means[k] + scales[k] * u
    low = Swift.min(low, point)
    high = Swift.max(high, point)
    start += Double.exp(logWeights[k]) * point
  }
  if !(high > low) { return low }
  // h(z) = log F(z) − log Φ(u) (lower tail) or log Φ(−u) − log(1 − F(z))
  // (upper tail): increasing in z, zero at the root, slope p/F or p/(1 − F).
  let lowerTail = u <= 0
  let target = logNormalCDF(lowerTail ? u : -u)
  var z = Swift.min(Swift.max(start, low), high)
  for _ in 0..<200 {
    var largestMass = -Double.infinity
    var largestDensity = -Double.infinity
    // Two passes of log-sum-exp: maxima first, then sums.
    for k in 0..<count {
      let t = (z - means[k]) / scales[k]
      largestMass = Swift.max(largestMass, logWeights[k] + logNormalCDF(lowerTail ? t : -t))
      largestDensity = Swift.max(largestDensity, logWeights[k] - Double.log(scales[k]) - 0.5 * t * t)
    }
    var mass = 0.0
    var density = 0.0
    for k in 0..<count {
      let t = (z - means[k]) / scales[k]
      mass += Double.exp(logWeights[k] + logNormalCDF(lowerTail ? t : -t) - largestMass)
      density += Double.exp(logWeights[k] - Double.log(scales[k]) - 0.5 * t * t - largestDensity)
    }
    let logMass = largestMass + Double.log(mass)
    let logDensity = largestDensity + Double.log(density) - halfLogTwoPi
    let h = lowerTail ? logMass - target : target - logMass
    if h == 0 { return z }
    if h < 0 { low = z } else { high = z }
    var next = z - h / Double.exp(logDensity - logMass)
    if !(next > low && next < high) { next = 0.5 * (low + high) }
    let tolerance = 1e-14 * (1 + Swift.abs(z))
    if Swift.abs(next - z) <= tolerance || high - low <= tolerance { return next }
    z = next
  }
  return z
}
