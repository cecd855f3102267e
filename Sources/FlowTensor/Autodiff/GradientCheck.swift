/// Gradient checking: derivatives from autodiff against central differences,
/// in `Double`, as a public API for anyone who writes a differentiable op.

/// The outcome of a derivative check: whether it passed and the worst element.
public struct DerivativeCheckReport: CustomStringConvertible, Sendable {
  /// `"vjp"` (reverse mode) or `"jvp"` (forward mode).
  public let mode: String
  /// For a VJP check, the input holding the worst element; for a JVP check, nil.
  public let inputIndex: Int?
  /// The multi-index of the worst element (in that input for a VJP check,
  /// in the output for a JVP check).
  public let elementIndex: [Int]
  /// The derivative autodiff computed there.
  public let analytic: Double
  /// The central-difference estimate there.
  public let numeric: Double
  /// |analytic − numeric| / (absolute + relative·max(|analytic|, |numeric|)); at most 1 passes.
  public let worstRatio: Double
  /// A JVP check also compares one pass with two batched directions against
  /// two single passes; the largest difference seen (0 for a VJP check).
  public let batchDiscrepancy: Double

  /// Whether every element was within tolerance (and batched tangents agreed).
  public var passed: Bool { worstRatio <= 1 && batchDiscrepancy <= 1 }

  public var description: String {
    let place = inputIndex.map { "input \($0) element \(elementIndex)" } ?? "output element \(elementIndex)"
    var text = "\(mode) check \(passed ? "passed" : "FAILED"): worst at \(place): analytic \(analytic), "
      + "numeric \(numeric) (error/tolerance \(worstRatio))"
    if batchDiscrepancy > 0 { text += "; batched tangents off by \(batchDiscrepancy)× tolerance" }
    return text
  }
}

/// Checks the reverse-mode derivative of `body` at `inputs`.
///
/// The output is projected on a random cotangent w (seeded), so the check
/// covers every output element at the cost of one pullback: the pullback of
/// w against (⟨f(x + h·eⱼ), w⟩ − ⟨f(x − h·eⱼ), w⟩) / 2h for every input element j.
/// - Parameters:
///   - step: h.
///   - absoluteTolerance, relativeTolerance: an element passes when
///     |analytic − numeric| ≤ absolute + relative·max(|analytic|, |numeric|).
///   - seed: of the random cotangent.
/// - Complexity: 2 evaluations of `body` per input element.
public func checkVJP(
  of body: ([Tensor<Double>]) -> Tensor<Double>, at inputs: [Tensor<Double>], step: Double = 1e-6,
  absoluteTolerance: Double = 1e-7, relativeTolerance: Double = 1e-6, seed: UInt64 = 0
) -> DerivativeCheckReport {
  let plainInputs = inputs.map(stopGradient)
  let (value, pullback) = vjp(of: body, at: plainInputs)
  var generator = SeededGenerator(seed: seed)
  let cotangent = Tensor<Double>.randomNormal(shape: value.shape, using: &generator)
  let analytic = pullback(cotangent)
  let weights = cotangent.scalars
  func projected(_ point: [Tensor<Double>]) -> Double {
    let output = withoutRecording { body(point) }.scalars
    return zip(output, weights).reduce(0) { $0 + $1.0 * $1.1 }
  }
  var worst = Worst()
  for (inputIndex, input) in plainInputs.enumerated() {
    let gradient = analytic[inputIndex].scalars
    for element in 0..<input.scalarCount {
      var plus = plainInputs
      var minus = plainInputs
      plus[inputIndex] = perturbed(input, element: element, by: step)
      minus[inputIndex] = perturbed(input, element: element, by: -step)
      let numeric = (projected(plus) - projected(minus)) / (2 * step)
      worst.consider(
        analytic: gradient[element], numeric: numeric, input: inputIndex,
        index: unravelIndex(element, shape: input.shape), absolute: absoluteTolerance, relative: relativeTolerance)
    }
  }
  return worst.report(mode: "vjp", batchDiscrepancy: 0)
}

/// Checks the forward-mode derivative of `body` at `inputs` along random
/// directions v (seeded): the tangent against (f(x + h·v) − f(x − h·v)) / 2h,
/// element by element; and a pass with two batched directions against two
/// single passes.
/// - Complexity: 2 evaluations of `body` plus 3 forward-mode passes.
public func checkJVP(
  of body: ([Tensor<Double>]) -> Tensor<Double>, at inputs: [Tensor<Double>], step: Double = 1e-6,
  absoluteTolerance: Double = 1e-7, relativeTolerance: Double = 1e-6, seed: UInt64 = 0
) -> DerivativeCheckReport {
  let plainInputs = inputs.map(stopGradient)
  var generator = SeededGenerator(seed: seed)
  let directions = plainInputs.map { Tensor<Double>.randomNormal(shape: $0.shape, using: &generator) }
  let second = plainInputs.map { Tensor<Double>.randomNormal(shape: $0.shape, using: &generator) }
  let (_, tangent) = jvp(of: body, at: plainInputs, along: directions)
  let plus = withoutRecording { body(zip(plainInputs, directions).map { $0 + step * $1 }) }
  let minus = withoutRecording { body(zip(plainInputs, directions).map { $0 - step * $1 }) }
  let numeric = (plus - minus) / (2 * step)
  var worst = Worst()
  let analyticValues = tangent.scalars
  let numericValues = numeric.scalars
  precondition(
    tangent.shape == numeric.shape,
    "checkJVP: the tangent has shape \(tangent.shape), the output \(numeric.shape)")
  for element in analyticValues.indices {
    worst.consider(
      analytic: analyticValues[element], numeric: numericValues[element], input: nil,
      index: unravelIndex(element, shape: numeric.shape), absolute: absoluteTolerance, relative: relativeTolerance)
  }
  // Two directions in one pass, as a [2, input shape...] batch.
  let batched = zip(directions, second).map { first, other in
    Tensor(concatenating: [first.expandingShape(at: 0), other.expandingShape(at: 0)], alongAxis: 0)
  }
  let (_, batchedTangent) = jvp(of: body, at: plainInputs, along: batched)
  let (_, secondTangent) = jvp(of: body, at: plainInputs, along: second)
  let expected = Tensor(concatenating: [tangent.expandingShape(at: 0), secondTangent.expandingShape(at: 0)], alongAxis: 0)
  var discrepancy = Double.infinity
  if batchedTangent.shape == expected.shape {
    discrepancy = zip(batchedTangent.scalars, expected.scalars).map { a, b in
      abs(a - b) / (absoluteTolerance + relativeTolerance * Swift.max(abs(a), abs(b)))
    }.max() ?? 0
  }
  return worst.report(mode: "jvp", batchDiscrepancy: discrepancy)
}

/// The worst element seen so far in a check.
private struct Worst {
  var ratio = -1.0
  var analytic = 0.0
  var numeric = 0.0
  var input: Int? = nil
  var index: [Int] = []

  mutating func consider(analytic: Double, numeric: Double, input: Int?, index: @autoclosure () -> [Int], absolute: Double, relative: Double) {
    let scale = absolute + relative * Swift.max(abs(analytic), abs(numeric))
    var ratio = abs(analytic - numeric) / scale
    if !ratio.isFinite || analytic.isNaN != numeric.isNaN { ratio = .infinity }
    if analytic.isNaN && numeric.isNaN { ratio = 0 }
    if ratio > self.ratio {
      (self.ratio, self.analytic, self.numeric, self.input, self.index) = (ratio, analytic, numeric, input, index())
    }
  }

  func report(mode: String, batchDiscrepancy: Double) -> DerivativeCheckReport {
    DerivativeCheckReport(
      mode: mode, inputIndex: input, elementIndex: index, analytic: analytic, numeric: numeric,
      worstRatio: Swift.max(ratio, 0), batchDiscrepancy: batchDiscrepancy)
  }
}

private func perturbed(_ tensor: Tensor<Double>, element: Int, by step: Double) -> Tensor<Double> {
  var copy = tensor
  copy.withUnsafeMutableBufferPointer { $0[element] += step }
  return copy
}

private func unravelIndex(_ offset: Int, shape: [Int]) -> [Int] {
  var remainder = offset
  var index = [Int](repeating: 0, count: shape.count)
  for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
    index[axis] = remainder % shape[axis]
    remainder /= shape[axis]
  }
  return index
}
