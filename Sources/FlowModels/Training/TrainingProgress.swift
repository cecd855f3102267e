import Foundation

/// A snapshot of a run for display: where it is, how fast it goes, and
/// what is left. Its lines are pure functions of its fields.
public struct TrainingProgress: Equatable, Sendable {
  /// Steps taken, over all runs.
  public var step: Int
  /// The step the run stops at, for a step-count stop.
  public var targetSteps: Int?
  /// This run's time budget in seconds, for a time stop.
  public var timeBudget: Double?
  /// Seconds since this run started.
  public var runSeconds: Double
  /// Steps taken in this run.
  public var runSteps: Int
  /// The recent mean training loss; `nil` before the first step.
  public var loss: Double?
  /// The last evaluation; `nil` before the first.
  public var evaluation: Double?
  /// The unit of `loss` and `evaluation`, e.g. "bits/dim".
  public var metricName: String
  /// The split `evaluation` is on, e.g. "test" or "validation".
  public var heldOutName: String

  public init(
    step: Int, targetSteps: Int? = nil, timeBudget: Double? = nil, runSeconds: Double, runSteps: Int,
    loss: Double? = nil, evaluation: Double? = nil, metricName: String, heldOutName: String = CurveRecord.evaluation
  ) {
    self.step = step
    self.targetSteps = targetSteps
    self.timeBudget = timeBudget
    self.runSeconds = runSeconds
    self.runSteps = runSteps
    self.loss = loss
    self.evaluation = evaluation
    self.metricName = metricName
    self.heldOutName = heldOutName
  }

  /// Steps per second in this run; `nil` until a step has taken measurable time.
  public var stepsPerSecond: Double? {
    runSteps > 0 && runSeconds > 0 ? Double(runSteps) / runSeconds : nil
  }

  /// How far the run is, in [0, 1]; `nil` without a stop to measure against.
  public var fraction: Double? {
    if let targetSteps, targetSteps > 0 { return min(1, max(0, Double(step) / Double(targetSteps))) }
    if let timeBudget, timeBudget > 0 { return min(1, max(0, runSeconds / timeBudget)) }
    return nil
  }

  /// Seconds until the stop: the rest of the budget, or the remaining steps
  /// at the current rate; `nil` when unknown.
  public var remainingSeconds: Double? {
    if let targetSteps {
      guard let rate = stepsPerSecond else { return nil }
      return Double(max(0, targetSteps - step)) / rate
    }
    if let timeBudget { return max(0, timeBudget - runSeconds) }
    return nil
  }

  /// The line redrawn in place on a terminal:
  /// `step 120/1000 ▕██▌       ▏ 12% loss 4.1234 bits/dim  test 4.2010  3.21 steps/s  ETA 4m32s`.
  public func terminalLine(barWidth: Int = 20) -> String {
    var parts = [stepText]
    if let fraction {
      parts.append("▕" + Self.bar(fraction: fraction, width: barWidth) + "▏ " + percentText(fraction))
    }
    parts.append(contentsOf: figures)
    return parts.joined(separator: " ")
  }

  /// The line logged every few seconds when standard error is not a terminal:
  /// `step 120/1000 (12%)  loss 4.1234 bits/dim  test 4.2010  3.21 steps/s  ETA 4m32s`.
  public var logLine: String {
    var head = stepText
    if let fraction { head += " (" + percentText(fraction) + ")" }
    return ([head] + figures).joined(separator: "  ")
  }

  private var stepText: String {
    targetSteps.map { "step \(step)/\($0)" } ?? "step \(step)"
  }

  private func percentText(_ fraction: Double) -> String {
    String(Int((fraction * 100).rounded(.down))) + "%"
  }

  private var figures: [String] {
    var parts: [String] = []
    if let loss { parts.append("loss " + Self.number(loss) + " " + metricName) }
    if let evaluation { parts.append(heldOutName + " " + Self.number(evaluation)) }
    if let rate = stepsPerSecond { parts.append(Self.rate(rate) + " steps/s") }
    if let remaining = remainingSeconds { parts.append("ETA " + Self.duration(remaining)) }
    return parts
  }

  /// A loss with four decimals; non-finite values as `nan`, `inf`, `-inf`.
  static func number(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    return String(format: "%.4f", value)
  }

  /// Three significant figures: 0.123, 3.21, 42.1, 512.
  static func rate(_ value: Double) -> String {
    if value >= 100 { return String(format: "%.0f", value) }
    if value >= 10 { return String(format: "%.1f", value) }
    if value >= 1 { return String(format: "%.2f", value) }
    return String(format: "%.3f", value)
  }

  /// A duration as `37s`, `4m05s` or `1h02m`, rounded up to the shown unit.
  public static func duration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let whole = Int(max(0, seconds).rounded(.up))
    if whole < 60 { return "\(whole)s" }
    if whole < 3600 { return "\(whole / 60)m" + String(format: "%02d", whole % 60) + "s" }
    let minutes = (whole + 59) / 60
    return "\(minutes / 60)h" + String(format: "%02d", minutes % 60) + "m"
  }

  /// `width` cells filled in proportion to `fraction`, in eighths of a cell.
  public static func bar(fraction: Double, width: Int) -> String {
    let eighths = Int((min(1, max(0, fraction)) * Double(width * 8)).rounded(.down))
    let full = eighths / 8
    let partials = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
    var bar = String(repeating: "█", count: full)
    if full < width {
      bar += partials[eighths % 8]
      bar += String(repeating: " ", count: width - full - (eighths % 8 == 0 ? 0 : 1))
    }
    return bar
  }
}
