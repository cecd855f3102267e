import Foundation

/// Why a training run, a checkpoint save or a resumption failed.
///
/// Every failure that depends on data, files or numbers met during training
/// is one of these; the description is a sentence a user can act on.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
  /// The loss or the gradient stopped being finite at `step` (the 1-based
  /// number of the update that would have followed). Nothing was updated or
  /// saved at that step; `lastCheckpointStep` is the step of the checkpoint
  /// left on disk, `nil` when none was written.
  case diverged(step: Int, loss: Double, gradientNorm: Double, lastCheckpointStep: Int?)
  /// The checkpoint could not be written; the previous file at `path`, if
  /// any, is intact.
  case cannotSaveCheckpoint(path: String, reason: String)
  /// The checkpoint could not be read or is not a training checkpoint.
  case unreadableCheckpoint(path: String, reason: String)
  /// The checkpoint belongs to another model than the one asked for.
  case modelMismatch(path: String, expected: String, found: String)
  /// The configuration cannot run: `problem` says why.
  case invalidConfiguration(problem: String)
  /// The data set holds too few items for one batch, or none to evaluate on.
  case notEnoughData(problem: String)

  public var description: String {
    switch self {
    case let .diverged(step, loss, gradientNorm, lastCheckpointStep):
      let kept = lastCheckpointStep.map { "the checkpoint of step \($0) is kept unchanged" }
        ?? "no checkpoint had been written"
      return "training diverged at step \(step): loss \(loss), gradient norm \(gradientNorm) "
        + "(not finite); stopped before updating, \(kept). Try a lower learning rate, more warm-up steps or "
        + "a gradient clip."
    case let .cannotSaveCheckpoint(path, reason):
      return "cannot save the checkpoint '\(path)': \(reason); the previous file, if any, is intact"
    case let .unreadableCheckpoint(path, reason):
      return "cannot read the checkpoint '\(path)': \(reason)"
    case let .modelMismatch(path, expected, found):
      return "'\(path)' is a checkpoint of model '\(found)', not '\(expected)'"
    case let .invalidConfiguration(problem):
      return "invalid training configuration: \(problem)"
    case let .notEnoughData(problem):
      return "not enough data: \(problem)"
    }
  }
}
