import FlowTensor

/// What ``checkBijector(_:input:options:)`` checks and how tightly.
public struct BijectorConformanceOptions: Sendable {
  /// inverse(forward(x)) ≈ x within this, times (1 + |x|).
  public var roundTripTolerance = 1e-10
  /// forward log-det ≈ log|det J| of the autodiff Jacobian, absolute per sample;
  /// also bounds inverse log-det + forward log-det.
  public var logDeterminantTolerance = 1e-8
  /// Central-difference step for parameter gradients.
  public var parameterStep = 1e-6
  /// Parameter gradients pass when |analytic − numeric| ≤ absolute + relative·|numeric|.
  public var gradientAbsoluteTolerance = 1e-6
  public var gradientRelativeTolerance = 1e-5
  /// At most this many elements of each parameter are checked by central
  /// differences (evenly spaced), to bound the cost.
  public var gradientElementsPerParameter = 24
  /// When set, the Jacobian must be lower triangular after reordering both
  /// its input and its output coordinates (flattened event indices) by this
  /// permutation: the structure that makes a coupling layer's log-det cheap.
  public var triangularOrder: [Int]? = nil
  /// Standard deviation of noise added to every parameter before checking,
  /// so that zero-initialised layers (identity maps) are checked away from
  /// the identity. 0 keeps the parameters.
  public var parameterNoise = 0.1

  public init() {}
}

/// The outcome of a conformance check: every failed property, described.
public struct BijectorConformanceReport: CustomStringConvertible, Sendable {
  /// One sentence per failed check; empty when all passed.
  public var failures: [String] = []
  /// The largest |forward log-det − log|det J|| seen.
  public var worstLogDeterminantError = 0.0

  public var passed: Bool { failures.isEmpty }

  public var description: String {
    passed ? "all conformance checks passed" : failures.joined(separator: "\n")
  }
}

/// Checks a bijector in `Double` against the properties every bijector of
/// the package must have:
///
/// 1. inverse(forward(x)) = x;
/// 2. the forward log-determinant equals log|det J| per sample, J the full
///    Jacobian of the forward map obtained by forward-mode autodiff (all
///    event directions pushed through one batched pass) and its slogdet by LAPACK;
/// 3. the inverse log-determinant at the output is minus the forward one;
/// 4. a batch gives the same outputs and log-determinants as its samples one by one;
/// 5. every parameter's gradient (of a seeded random projection of the
///    outputs and log-determinants) is finite and matches central differences;
/// 6. optionally, the Jacobian is triangular after a permutation.
///
/// - Parameters:
///   - bijector: the bijector; ``Bijector/initialize(from:)`` runs on `input`
///     first, then its parameters get `options.parameterNoise`.
///   - input: `[batch, event...]`, in the bijector's domain.
/// - Complexity: one Jacobian (event-size tangents), 2·k forward passes for k
///   checked parameter elements, batch + 4 passes more.
public func checkBijector<B: Bijector>(
  _ bijector: B, input: Tensor<Double>, options: BijectorConformanceOptions = BijectorConformanceOptions(),
  seed: UInt64 = 0
) -> BijectorConformanceReport where B.Scalar == Double {
  var report = BijectorConformanceReport()
  var generator = SeededGenerator(seed: seed)
  var layer = bijector
  _ = layer.initialize(from: input)
  if options.parameterNoise > 0 {
    layer.updateParameters { _, parameter in
      parameter = parameter + Tensor.randomNormal(
        shape: parameter.shape, standardDeviation: options.parameterNoise, using: &generator)
    }
  }
  let batch = input.shape[0]
  let eventSize = input.scalarCount / Swift.max(batch, 1)
  let (output, logDeterminant) = layer.forward(input)
  guard logDeterminant.shape == [batch] else {
    report.failures.append("forward log-determinant has shape \(logDeterminant.shape), expected [\(batch)]")
    return report
  }

  // 1. Round trip.
  let (back, inverseLogDeterminant) = layer.inverse(output)
  if back.shape != input.shape {
    report.failures.append("inverse(forward(x)) has shape \(back.shape), x has \(input.shape)")
  } else {
    let error = zip(back.scalars, input.scalars).map { abs($0 - $1) / (1 + abs($1)) }.max() ?? 0
    if !(error <= options.roundTripTolerance) {
      report.failures.append("round trip: |inverse(forward(x)) − x| reaches \(error) (tolerance \(options.roundTripTolerance))")
    }
  }

  // 3. Inverse log-det = − forward log-det.
  let sumError = zip(inverseLogDeterminant.scalars, logDeterminant.scalars).map { abs($0 + $1) }.max() ?? 0
  if !(sumError <= options.logDeterminantTolerance) {
    report.failures.append("inverse log-det + forward log-det reaches \(sumError) (tolerance \(options.logDeterminantTolerance))")
  }

  // 2. Log-det against the autodiff Jacobian.
  if output.scalarCount / Swift.max(batch, 1) != eventSize {
    report.failures.append("output event size \(output.scalarCount / Swift.max(batch, 1)) differs from input event size \(eventSize)")
  } else if batch > 0 {
    let directions = Tensor<Double>.identity(size: eventSize)
      .reshaped(to: [eventSize, 1] + Array(input.shape.dropFirst()))
      .broadcast(to: [eventSize] + input.shape)
    let (_, tangent) = jvp(of: { layer.forward($0).output }, at: input, along: directions)
    let columns = tangent.reshaped(to: [eventSize, batch, eventSize])  // [input direction, sample, output]
    for sample in 0..<batch {
      let transposedJacobian = columns.sliced(alongAxis: 1, from: sample, to: sample + 1).reshaped(to: [eventSize, eventSize])
      let (_, logAbsolute) = slogdet(transposedJacobian)
      let error = abs(logAbsolute.scalar - logDeterminant[sample])
      report.worstLogDeterminantError = Swift.max(report.worstLogDeterminantError, error.isNaN ? .infinity : error)
      if !(error <= options.logDeterminantTolerance) {
        report.failures.append(
          "sample \(sample): forward log-det \(logDeterminant[sample]) but log|det J| = \(logAbsolute.scalar) "
            + "(difference \(error), tolerance \(options.logDeterminantTolerance))")
      }
      // 6. Triangular structure.
      if let order = options.triangularOrder {
        let jacobian = transposedJacobian.transposed()
        var worst = 0.0
        for row in 0..<eventSize {
          for column in (row + 1)..<Swift.max(row + 1, eventSize) {
            worst = Swift.max(worst, abs(jacobian[order[row], order[column]]))
          }
        }
        if worst > 1e-12 {
          report.failures.append("sample \(sample): Jacobian is not lower triangular in the given order (entry \(worst) above the diagonal)")
        }
      }
    }
  }

  // 4. Batch = samples one by one.
  for sample in 0..<batch {
    let single = input.sliced(alongAxis: 0, from: sample, to: sample + 1)
    let (singleOutput, singleLogDeterminant) = layer.forward(single)
    let batchOutput = output.sliced(alongAxis: 0, from: sample, to: sample + 1)
    let outputError = zip(singleOutput.scalars, batchOutput.scalars).map { abs($0 - $1) / (1 + abs($1)) }.max() ?? 0
    let logError = abs(singleLogDeterminant[0] - logDeterminant[sample])
    if !(outputError <= 1e-12 && logError <= 1e-10) {
      report.failures.append(
        "sample \(sample): alone it gives outputs off by \(outputError) and log-det off by \(logError) from the batch")
      break
    }
  }

  // 5. Parameter gradients.
  let outputWeights = Tensor<Double>.randomNormal(shape: output.shape, using: &generator)
  let logWeights = Tensor<Double>.randomNormal(shape: [batch], using: &generator)
  func objective(_ model: B) -> Tensor<Double> {
    let (y, logDet) = model.forward(input)
    return (y * outputWeights).sum() + (logDet * logWeights).sum()
  }
  let (_, gradients) = valueWithGradient(at: layer, in: objective)
  for (name, parameter) in layer.parameters {
    guard let gradient = gradients[name] else { continue }
    if gradient.scalars.contains(where: { !$0.isFinite }) {
      report.failures.append("gradient of \(name) is not finite")
      continue
    }
    let count = parameter.scalarCount
    let checked = Swift.min(count, options.gradientElementsPerParameter)
    for step in 0..<checked {
      let element = checked == count ? step : step * count / checked
      func shifted(_ amount: Double) -> Double {
        var copy = layer
        copy.updateParameters { candidate, value in
          if candidate == name { value.withUnsafeMutableBufferPointer { $0[element] += amount } }
        }
        return withoutRecording { objective(copy).scalar }
      }
      let numeric = (shifted(options.parameterStep) - shifted(-options.parameterStep)) / (2 * options.parameterStep)
      let analytic = gradient.scalars[element]
      if !(abs(analytic - numeric) <= options.gradientAbsoluteTolerance + options.gradientRelativeTolerance * abs(numeric)) {
        report.failures.append("gradient of \(name)[\(element)]: autodiff \(analytic), central differences \(numeric)")
        break
      }
    }
  }
  return report
}

/// Checks inverse(forward(x)) = x in `Float` within `tolerance` times (1 + |x|).
public func checkBijectorRoundTrip<B: Bijector>(
  _ bijector: B, input: Tensor<Float>, tolerance: Float = 1e-4
) -> BijectorConformanceReport where B.Scalar == Float {
  var report = BijectorConformanceReport()
  var layer = bijector
  _ = layer.initialize(from: input)
  let back = layer.inverse(layer.forward(input).output).output
  guard back.shape == input.shape else {
    report.failures.append("Float round trip has shape \(back.shape), x has \(input.shape)")
    return report
  }
  let error = zip(back.scalars, input.scalars).map { abs($0 - $1) / (1 + abs($1)) }.max() ?? 0
  if !(error <= tolerance) {
    report.failures.append("Float round trip: |inverse(forward(x)) − x| reaches \(error) (tolerance \(tolerance))")
  }
  return report
}
