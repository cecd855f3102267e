import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Shows a run's ``TrainingEvent``s on standard error: on a terminal a
/// one-line bar redrawn in place (``TrainingProgress/terminalLine(barWidth:)``),
/// otherwise a plain ``TrainingProgress/logLine`` every few seconds.
/// Evaluations and checkpoints get lines of their own in both modes.
public final class ProgressDisplay {
  private let metricName: String
  private let stop: TrainingConfiguration.Stop
  private let logInterval: Double
  private let isTerminal: Bool
  private let write: (String) -> Void
  private var progress: TrainingProgress
  private var lastDrawn = -Double.infinity
  private var barVisible = false

  /// - Parameters:
  ///   - configuration: the run's stop and log interval.
  ///   - metricName: the unit of the loss, e.g. "bits/dim".
  ///   - heldOutName: the evaluated split, e.g. "test" or "validation".
  ///   - isTerminal: draw a bar in place; by default, whether standard error is a terminal.
  ///   - write: where the text goes; by default standard error.
  public init(
    configuration: TrainingConfiguration, metricName: String, heldOutName: String = CurveRecord.evaluation,
    isTerminal: Bool? = nil,
    write: ((String) -> Void)? = nil
  ) {
    self.metricName = metricName
    self.stop = configuration.stop
    self.logInterval = configuration.logInterval
    self.isTerminal = isTerminal ?? (isatty(STDERR_FILENO) != 0)
    self.write = write ?? { FileHandle.standardError.write(Data($0.utf8)) }
    progress = TrainingProgress(
      step: 0, runSeconds: 0, runSteps: 0, metricName: metricName, heldOutName: heldOutName)
    switch stop {
    case .steps(let steps): progress.targetSteps = steps
    case .timeBudget(let seconds): progress.timeBudget = seconds
    }
  }

  /// Updates the display with one event.
  public func handle(_ event: TrainingEvent) {
    switch event {
    case let .started(step, parameterCount, resumed):
      progress.step = step
      announce(
        (resumed ? "resuming at step \(step)" : "training from step 0")
          + ", \(parameterCount) parameters, " + stopDescription)
    case .stepped(let record):
      progress.step = record.step
      progress.runSeconds = record.runSeconds
      progress.runSteps = record.runSteps
      progress.loss = record.recentMeanLoss
      let interval = isTerminal ? 0.1 : logInterval
      if record.runSeconds - lastDrawn >= interval || record.runSteps == 1 {
        lastDrawn = record.runSeconds
        if isTerminal {
          write("\r" + progress.terminalLine() + "\u{1B}[K")
          barVisible = true
        } else {
          write(progress.logLine + "\n")
        }
      }
    case let .evaluated(step, value, count, isFinal):
      if !isFinal { progress.evaluation = value }
      announce(
        "step \(step): \(isFinal ? "final " : "")\(progress.heldOutName) \(TrainingProgress.number(value)) "
          + "\(metricName) on \(count) items")
    case let .checkpointed(step, path):
      announce("step \(step): checkpoint \(path)")
    }
  }

  /// Ends the bar's line, so that what follows starts on a fresh one.
  public func finish() {
    if barVisible {
      write("\r" + progress.terminalLine() + "\u{1B}[K\n")
      barVisible = false
    }
  }

  private var stopDescription: String {
    switch stop {
    case .steps(let steps): return "until step \(steps)"
    case .timeBudget(let seconds): return "for \(TrainingProgress.duration(seconds))"
    }
  }

  /// A line of its own; on a terminal it replaces the bar, which is redrawn below it.
  private func announce(_ text: String) {
    if isTerminal && barVisible {
      write("\r\u{1B}[K" + text + "\n" + progress.terminalLine() + "\u{1B}[K")
    } else {
      write(text + "\n")
    }
  }
}
