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
/// One fused kernel in `Double` for both precisions (each element's
/// components in one place), with a fused pullback
/// (`MixtureCDF+Derivatives.swift`): for `Float` the vectorised C kernels
/// of `MixtureCDF+Kernels.swift` (AVX2, linear space with per-element
/// shifts), for `Double` and for the elements those hand back (a tail
/// mass below 1e-30, non-finite inputs) the scalar path, log-space
/// throughout. The tangent rule runs the same
/// function composed of differentiable ops (`logNormalCDF`, `logSumExp`,
/// `inverseNormalCDF(logProbability:)`, …) with the tangents attached,
/// so forward mode, batched tangents and reverse-over-forward all work.
/// - Parameters:
///   - z: any shape `S`.
///   - logits: `S + [components]` or broadcastable to it; the mixture
///     weights are their softmax along the last axis.
///   - means: broadcastable to `S + [components]`.
///   - logScales: log standard deviations, broadcastable to `S + [components]`.
/// - Returns: `output` u (shape `S`) and `logDerivative` log|du/dz| (shape `S`).
/// - Complexity: O(n·components): per component four vector exponentials
///   (`Float`) or two `erfc` and about eight other scalar calls (`Double`); split across cores.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func mixtureCDFTransform<Scalar: TensorScalar>(
  _ z: Tensor<Scalar>, logits: Tensor<Scalar>, means: Tensor<Scalar>, logScales: Tensor<Scalar>
) -> (output: Tensor<Scalar>, logDerivative: Tensor<Scalar>) {
  let parameters = MixtureParameters(z.shape, logits: logits, means: means, logScales: logScales, operation: "mixtureCDFTransform")
  let stacked = mixtureCDFValue(z.detached, parameters)  // [2, S...]: u, then log u′
  let inputs = [z, logits, means, logScales]
  var result = stacked
  if inputs.contains(where: { $0.autodiff != nil }) {
    let (input, shapes) = (z.detached, inputs.map(\.shape))
    result = stacked.derived(
      from: inputs, operation: "mixtureCDFTransform",
      pullback: { cotangent in
        mixtureCDFPullback(cotangent, input: input, parameters, output: stacked, shapes: shapes)
      },
      tangent: { inputs, _, tangents in
        let duals = zip(inputs, tangents).map { $0.attachingTangent($1) }
        let (u, logDerivative) = mixtureCDFTransformComposite(
          duals[0], logits: duals[1], means: duals[2], logScales: duals[3])
        // Tangent batch axes, from any operand that has a tangent.
        let index = tangents.firstIndex { $0 != nil }!
        let batch = tangents[index]!.rank - inputs[index].rank
        let zeros = Tensor<Scalar>.zeros(shape: Array(tangents[index]!.shape.prefix(batch)) + z.shape)
        let parts = [u.tangent ?? zeros, logDerivative.tangent ?? zeros].map { $0.expandingShape(at: batch) }
        return Tensor(concatenating: parts, alongAxis: batch)
      })
  }
  return (
    result.sliced(alongAxis: 0, from: 0, to: 1).reshaped(to: z.shape),
    result.sliced(alongAxis: 0, from: 1, to: 2).reshaped(to: z.shape)
  )
}

/// ``mixtureCDFTransform(_:logits:means:logScales:)`` composed of
/// differentiable ops: the fused op's tangent rule.
func mixtureCDFTransformComposite<Scalar: TensorScalar>(
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
/// Differentiable: one Newton step z = z* + (u − u(z*))·e^(−log u′(z*))
/// from the detached root z*, in differentiable ops, has the
/// implicit-function derivatives dz/du = 1/u′ and dz/dθ = −(∂u/∂θ)/u′; its
/// change of value is subtracted again, so the value is exactly z*.
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
  guard [u, logits, means, logScales].contains(where: { $0.autodiff != nil }) else { return (root, logDerivative) }
  // The Newton step's change is added and taken away again: the value stays
  // the solver's root (a step in `Float` would only add rounding), the
  // derivatives are the step's.
  let step = (u - reached) * exp(-logDerivative)
  return (root + (step - stopGradient(step)), logDerivative)
}

/// The shape `shape` broadcasts to against `target` (for the logits' softmax axis).
private func broadcastShape(_ shape: [Int], _ target: [Int]) -> [Int] {
  Shape.broadcast(shape, target, operation: "mixtureCDFTransform: logits \(shape) against \(target)")
}

/// The operands of a mixture transform broadcast to `S + [components]`
/// and made contiguous, without derivatives, for the fused kernels.
struct MixtureParameters<Scalar: TensorScalar> {
  let components: Int
  let logits: Tensor<Scalar>
  let means: Tensor<Scalar>
  let logScales: Tensor<Scalar>

  init(_ shape: [Int], logits: Tensor<Scalar>, means: Tensor<Scalar>, logScales: Tensor<Scalar>, operation: String) {
    let components = [logits.shape.last, means.shape.last, logScales.shape.last].compactMap { $0 }.max() ?? 1
    let full = shape + [components]
    func expanded(_ parameter: Tensor<Scalar>, _ name: String) -> Tensor<Scalar> {
      let target = Shape.broadcast(
        parameter.shape, full, operation: "\(operation): \(name) \(parameter.shape) against \(shape) + [\(components)]")
      precondition(
        target == full, "\(operation): \(name) \(parameter.shape) does not broadcast to \(full)")
      return parameter.shape == full ? parameter.detached : parameter.detached.broadcast(to: full)
    }
    self.components = components
    self.logits = expanded(logits, "logits")
    self.means = expanded(means, "means")
    self.logScales = expanded(logScales, "logScales")
  }
}

/// The roots of ``inverseMixtureCDFTransform(_:logits:means:logScales:)``
/// without derivatives.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func mixtureCDFRoot<Scalar: TensorScalar>(
  _ u: Tensor<Scalar>, logits: Tensor<Scalar>, means: Tensor<Scalar>, logScales: Tensor<Scalar>
) -> Tensor<Scalar> {
  let parameters = MixtureParameters(
    u.shape, logits: logits, means: means, logScales: logScales, operation: "inverseMixtureCDFTransform")
  let components = parameters.components
  let result = Tensor<Scalar>(uninitializedShape: u.shape)
  guard result.scalarCount > 0 else { return result }
  let (uBase, logitBase, meanBase, scaleBase) = (
    UnsafePointer(u.storage.base), UnsafePointer(parameters.logits.storage.base),
    UnsafePointer(parameters.means.storage.base), UnsafePointer(parameters.logScales.storage.base)
  )
  let destination = result.storage.base
  withExtendedLifetime((u, parameters)) {
    Parallel.forEachRange(count: result.scalarCount, grain: Swift.max(1, 2048 / components)) { range in
      withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * components) { buffer in
        let logWeight = buffer.baseAddress!
        let mean = logWeight + components
        let scale = mean + components
        for element in range {
          let offset = element * components
          normalizedLogWeights(logitBase + offset, count: components, into: logWeight)
          for k in 0..<components {
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

/// log softmax of `count` logits, in `Double`.
@inline(__always)
func normalizedLogWeights<Scalar: TensorScalar>(
  _ logits: UnsafePointer<Scalar>, count: Int, into logWeights: UnsafeMutablePointer<Double>
) {
  var largest = -Double.infinity
  for k in 0..<count { largest = Swift.max(largest, Double(logits[k])) }
  var total = 0.0
  for k in 0..<count { total += Double.exp(Double(logits[k]) - largest) }
  let normalizer = largest + Double.log(total)
  for k in 0..<count { logWeights[k] = Double(logits[k]) - normalizer }
}

/// log Σ exp(x[k]) for `count` ≥ 1 values.
@inline(__always)
func logSumExp(_ x: UnsafePointer<Double>, count: Int) -> Double {
  var largest = -Double.infinity
  for k in 0..<count { largest = Swift.max(largest, x[k]) }
  guard largest > -Double.infinity else { return largest }
  var total = 0.0
  for k in 0..<count { total += Double.exp(x[k] - largest) }
  return largest + Double.log(total)
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
