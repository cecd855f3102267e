import ArgumentParser
import Foundation
import NormalizingFlows

/// Creates the directories of a run's output files (checkpoint, curve).
/// - Parameters:
///   - files: the files whose directories must exist.
///   - commandName: names the command in the failure message.
/// - Throws: on failure, prints it and throws exit status 1.
func createDirectories(of files: [URL], commandName: String) throws {
  for directory in files.map({ $0.deletingLastPathComponent() }) {
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
      throw reportFailure(
        command: commandName, message: "cannot create the directory \(directory.path): \(error.localizedDescription)")
    }
  }
}

extension Trainer {
  /// Runs to the stop with a ``ProgressDisplay`` on standard error, finished
  /// (its line ended) whether the run succeeds or throws.
  /// - Parameter checkpoint: where the checkpoint is saved.
  /// - Returns: the run's summary.
  mutating func runShowingProgress(checkpoint: URL) throws -> TrainingSummary {
    let display = ProgressDisplay(
      configuration: configuration, metricName: Model.metricName, heldOutName: heldOutName)
    do {
      let summary = try run(checkpoint: checkpoint, observer: display.handle)
      display.finish()
      return summary
    } catch {
      display.finish()
      throw error
    }
  }
}

extension Duration {
  /// The duration in seconds (the reports' `seconds` field).
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
