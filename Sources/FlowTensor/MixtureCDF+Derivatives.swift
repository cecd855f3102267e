import RealModule

// The fused kernels of the mixture-CDF transform: its value and its
// pullback. Per element, with w = softmax(logits), s_k = e^(log s_k),
// t_k = (z − m_k)/s_k, a_k = w_k φ(t_k)/s_k, p = Σ a_k, r_k = a_k/p,
// F = Σ w_k Φ(t_k), u = Φ⁻¹(F), D = log p − log φ(u):
//
//   ∂u/∂z = e^D,  ∂u/∂m_k = −r_k e^D,  ∂u/∂log s_k = −t_k s_k r_k e^D,
//   ∂u/∂l_k = w_k (Φ(t_k) − F)/φ(u)  (from the smaller tail, as below),
//   ∂D/∂θ = ∂log p/∂θ + u ∂u/∂θ, with
//   ∂log p/∂z = −Σ r_k t_k/s_k, ∂log p/∂m_k = r_k t_k/s_k,
//   ∂log p/∂log s_k = r_k (t_k² − 1), ∂log p/∂l_k = r_k − w_k.

/// Per-element quantities of one mixture, in `Double`, shared by the kernels.
private struct MixtureElement {
  var logWeight: UnsafeMutablePointer<Double>
  var standardized: UnsafeMutablePointer<Double>
  var logLower: UnsafeMutablePointer<Double>  // w_k Φ(t_k), logged
  var logUpper: UnsafeMutablePointer<Double>  // w_k Φ(−t_k), logged
  var logDensity: UnsafeMutablePointer<Double>  // a_k, logged
  var count: Int

  init(buffer: UnsafeMutablePointer<Double>, count: Int) {
    logWeight = buffer
    standardized = buffer + count
    logLower = buffer + 2 * count
    logUpper = buffer + 3 * count
    logDensity = buffer + 4 * count
    self.count = count
  }

  /// Fills the per-component logs and returns (log F, log(1 − F), log p).
  @inline(__always)
  func evaluate<Scalar: TensorScalar>(
    _ z: Double, logits: UnsafePointer<Scalar>, means: UnsafePointer<Scalar>, logScales: UnsafePointer<Scalar>
  ) -> (lower: Double, upper: Double, density: Double) {
    normalizedLogWeights(logits, count: count, into: logWeight)
    for k in 0..<count {
      let logScale = Double(logScales[k])
      let t = (z - Double(means[k])) * Double.exp(-logScale)
      standardized[k] = t
      logLower[k] = logWeight[k] + logNormalCDF(t)
      logUpper[k] = logWeight[k] + logNormalCDF(-t)
      logDensity[k] = logWeight[k] - logScale - 0.5 * t * t - halfLogTwoPi
    }
    return (
      logSumExp(UnsafePointer(logLower), count: count), logSumExp(UnsafePointer(logUpper), count: count),
      logSumExp(UnsafePointer(logDensity), count: count)
    )
  }
}

/// u and log u′ of every element, stacked `[2, S...]`.
///
/// `Float` goes through the vectorised kernel (`MixtureCDF+Kernels.swift`),
/// which hands back the rare elements it cannot do to full precision;
/// those, and `Double` (the reference, to a few ulps), take the scalar
/// log-space path below.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func mixtureCDFValue<Scalar: TensorScalar>(_ z: Tensor<Scalar>, _ parameters: MixtureParameters<Scalar>) -> Tensor<Scalar> {
  let count = z.scalarCount
  let result = Tensor<Scalar>(uninitializedShape: [2] + z.shape)
  guard count > 0 else { return result }
  let components = parameters.components
  let (zBase, logitBase, meanBase, scaleBase) = (
    UnsafePointer(z.storage.base), UnsafePointer(parameters.logits.storage.base),
    UnsafePointer(parameters.means.storage.base), UnsafePointer(parameters.logScales.storage.base)
  )
  let output = result.storage.base
  let vectorised = MixtureCDFKernels.appliesTo(Scalar.self)
  withExtendedLifetime((z, parameters)) {
    Parallel.forEachRange(count: count, grain: Swift.max(1, 2048 / components)) { range in
      withUnsafeTemporaryAllocation(of: Double.self, capacity: 5 * components) { buffer in
        let element = MixtureElement(buffer: buffer.baseAddress!, count: components)
        let evaluate = { (index: Int) in
          let offset = index * components
          let (lower, upper, density) = element.evaluate(
            Double(zBase[index]), logits: logitBase + offset, means: meanBase + offset, logScales: scaleBase + offset)
          // Φ⁻¹ of the smaller tail, so that neither tail rounds to 0 or 1.
          let u = lower <= upper ? inverseNormalCDF(logProbability: lower) : -inverseNormalCDF(logProbability: upper)
          output[index] = Scalar(u)
          output[count + index] = Scalar(density + 0.5 * u * u + halfLogTwoPi)
        }
        guard vectorised else { return range.forEach(evaluate) }
        MixtureCDFKernels.value(
          range, components: components, z: zBase, logits: logitBase, means: meanBase, logScales: scaleBase,
          output: output, logDerivative: output + count, fallback: evaluate)
      }
    }
  }
  return result
}

/// Cotangents of the four operands from the stacked cotangent `[2, S...]`
/// (of u and of log u′), each summed back to its operand's shape; `Float`
/// through the vectorised kernel, as ``mixtureCDFValue(_:_:)``.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func mixtureCDFPullback<Scalar: TensorScalar>(
  _ cotangent: Tensor<Scalar>, input z: Tensor<Scalar>, _ parameters: MixtureParameters<Scalar>,
  output: Tensor<Scalar>, shapes: [[Int]]
) -> [Tensor<Scalar>?] {
  let count = z.scalarCount
  let components = parameters.components
  let full = z.shape + [components]
  let zGradient = Tensor<Scalar>(uninitializedShape: z.shape)
  let logitGradient = Tensor<Scalar>(uninitializedShape: full)
  let meanGradient = Tensor<Scalar>(uninitializedShape: full)
  let scaleGradient = Tensor<Scalar>(uninitializedShape: full)
  if count > 0 {
    let (zBase, logitBase, meanBase, scaleBase) = (
      UnsafePointer(z.storage.base), UnsafePointer(parameters.logits.storage.base),
      UnsafePointer(parameters.means.storage.base), UnsafePointer(parameters.logScales.storage.base)
    )
    let (gradient, value) = (UnsafePointer(cotangent.storage.base), UnsafePointer(output.storage.base))
    let (zOut, logitOut, meanOut, scaleOut) = (
      zGradient.storage.base, logitGradient.storage.base, meanGradient.storage.base, scaleGradient.storage.base
    )
    let vectorised = MixtureCDFKernels.appliesTo(Scalar.self)
    withExtendedLifetime((z, parameters, cotangent, output)) {
      Parallel.forEachRange(count: count, grain: Swift.max(1, 1024 / components)) { range in
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 5 * components) { buffer in
          let element = MixtureElement(buffer: buffer.baseAddress!, count: components)
          let differentiate = { (index: Int) in
            let offset = index * components
            let (lower, upper, density) = element.evaluate(
              Double(zBase[index]), logits: logitBase + offset, means: meanBase + offset, logScales: scaleBase + offset)
            let u = Double(value[index])
            let logSlope = density + 0.5 * u * u + halfLogTwoPi  // log u′ = log p − log φ(u)
            let slope = Double.exp(logSlope)
            let (gU, gD) = (Double(gradient[index]), Double(gradient[count + index]))
            let c = gU + gD * u  // the cotangent reaching ∂u/∂θ
            // F/φ(u) or (1 − F)/φ(u), whichever tail u came from: bounded.
            let useLower = lower <= upper
            let tailRatio = Double.exp((useLower ? lower : upper) + 0.5 * u * u + halfLogTwoPi)
            var zSum = 0.0
            for k in 0..<components {
              let t = element.standardized[k]
              let scale = Double.exp(Double(scaleBase[offset + k]))
              let weight = Double.exp(element.logWeight[k])
              let responsibility = Double.exp(element.logDensity[k] - density)
              let weightShift =
                useLower
                ? Double.expMinusOne(element.logLower[k] - element.logWeight[k] - lower) * weight
                : -Double.expMinusOne(element.logUpper[k] - element.logWeight[k] - upper) * weight
              // Φ(t_k) − F = F·(Φ(t_k)/F − 1), or (1 − F) − Φ(−t_k) from the upper tail.
              logitOut[offset + k] = Scalar(
                c * weightShift * tailRatio + gD * (responsibility - weight))
              meanOut[offset + k] = Scalar(-c * responsibility * slope + gD * responsibility * t / scale)
              scaleOut[offset + k] = Scalar(
                -c * t * scale * responsibility * slope + gD * responsibility * (t * t - 1))
              zSum += responsibility * t / scale
            }
            zOut[index] = Scalar(c * slope - gD * zSum)
          }
          guard vectorised else { return range.forEach(differentiate) }
          MixtureCDFKernels.pullback(
            range, components: components, z: zBase, logits: logitBase, means: meanBase, logScales: scaleBase,
            output: value, outputCotangent: gradient, logDerivativeCotangent: gradient + count,
            zGradient: zOut, logitGradient: logitOut, meanGradient: meanOut, logScaleGradient: scaleOut,
            fallback: differentiate)
        }
      }
    }
  }
  return [
    zGradient,
    logitGradient.unbroadcast(to: shapes[1]),
    meanGradient.unbroadcast(to: shapes[2]),
    scaleGradient.unbroadcast(to: shapes[3]),
  ]
}
