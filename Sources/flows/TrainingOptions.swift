import ArgumentParser
import Foundation
import NormalizingFlows

/// What differs between the commands that share ``TrainingOptions``: the
/// help texts that name a command's own items and its own defaults.
protocol TrainingOptionsProfile {
  /// The help of `--batch-size`, naming the items and the default.
  static var batchSizeHelp: String { get }
  static var defaultBatchSize: Int { get }
  /// The help of `--clip`, naming the default.
  static var clipHelp: String { get }
  static var defaultClip: Double { get }
  /// The help of `--seed`.
  static var seedHelp: String { get }
  /// The help of `--eval-count`, naming the items.
  static var evaluationCountHelp: String { get }
  static var defaultEvaluationCount: Int { get }
  /// The help of `--final-eval-count`.
  static var finalEvaluationCountHelp: String { get }
  /// Items per forward pass of the evaluations (not an option).
  static var evaluationBatchSize: Int { get }
}

/// The optimisation and schedule options of `flows train cdflow`,
/// `flows train tarflowlm` and `flows train charlm`: `--batch-size` through
/// `--checkpoint-every`, with the help texts and defaults of `Profile`.
struct TrainingOptions<Profile: TrainingOptionsProfile>: ParsableArguments {
  @Option(help: ArgumentHelp(Profile.batchSizeHelp))
  var batchSize: Int?

  @Option(help: "Peak learning rate (default 0.001).")
  var lr: Double?

  @Option(help: "Optimizer: adam or adamw (default adam).")
  var optimizer: String?

  @Option(help: "Weight decay λ (default 0).")
  var weightDecay: Double?

  @Option(help: "Linear warm-up steps (default 100).")
  var warmup: Int?

  @Option(help: "Cosine decay of the rate after the warm-up, reaching --final-lr at this step (default: none, constant).")
  var decaySteps: Int?

  @Option(help: "The rate the cosine decay ends at (default 0).")
  var finalLr: Double?

  @Option(help: ArgumentHelp(Profile.clipHelp))
  var clip: Double?

  @Option(help: ArgumentHelp(Profile.seedHelp))
  var seed: UInt64?

  @Option(help: "Stop after this many steps in total (default 1000 without --time-budget).")
  var steps: Int?

  @Option(help: "Stop after this many seconds of this run.")
  var timeBudget: Double?

  @Option(help: "Evaluate every this many steps (0: only at the end).")
  var evalEvery = 500

  @Option(help: ArgumentHelp(Profile.evaluationCountHelp))
  var evalCount = Profile.defaultEvaluationCount

  @Option(help: ArgumentHelp(Profile.finalEvaluationCountHelp))
  var finalEvalCount: Int?

  @Option(help: "Save the checkpoint every this many steps (0: only at the end).")
  var checkpointEvery = 1000

  /// The options a checkpoint fixes, named when given.
  var fixedOptionsGiven: [String] {
    [
      ("--batch-size", batchSize != nil), ("--lr", lr != nil), ("--optimizer", optimizer != nil),
      ("--weight-decay", weightDecay != nil), ("--warmup", warmup != nil), ("--decay-steps", decaySteps != nil),
      ("--final-lr", finalLr != nil), ("--clip", clip != nil),
      ("--seed", seed != nil),
    ].filter(\.1).map(\.0)
  }

  /// Checks `--steps` and `--time-budget`.
  func validateStop() throws {
    try TrainingOptionChecks.validateStop(steps: steps, timeBudget: timeBudget)
  }

  /// Checks `--optimizer` and `--clip`.
  func validateOptimizer() throws {
    if let optimizer, TrainingConfiguration.OptimizerKind(rawValue: optimizer.lowercased()) == nil {
      throw ValidationError("--optimizer '\(optimizer)' is not adam or adamw")
    }
    if let clip, clip < 0 { throw ValidationError("--clip \(clip) must be ≥ 0 (0 for no clipping)") }
  }

  /// The options as a training configuration (`Profile`'s defaults where not given).
  var trainingConfiguration: TrainingConfiguration {
    TrainingConfiguration(
      optimizer: optimizer.flatMap { TrainingConfiguration.OptimizerKind(rawValue: $0.lowercased()) } ?? .adam,
      learningRate: lr ?? 1e-3, weightDecay: weightDecay ?? 0, warmupSteps: warmup ?? 100,
      gradientClipNorm: (clip ?? Profile.defaultClip) == 0 ? nil : (clip ?? Profile.defaultClip),
      batchSize: batchSize ?? Profile.defaultBatchSize,
      evaluateEvery: evalEvery, evaluationCount: evalCount, finalEvaluationCount: finalEvalCount,
      evaluationBatchSize: Profile.evaluationBatchSize, checkpointEvery: checkpointEvery,
      stop: timeBudget.map { .timeBudget(seconds: $0) } ?? .steps(steps ?? 1000), seed: seed ?? 0,
      decaySteps: decaySteps, finalLearningRate: finalLr)
  }
}

/// The last options of every `flows train` command, after `--checkpoint`:
/// the curve, `--resume` and `--json`.
struct TrainingOutputOptions: ParsableArguments {
  @Option(help: "The training-curve SVG (default: beside the checkpoint, <name>-curve.svg).")
  var curve: String?

  @Flag(help: "Continue the run saved in --checkpoint.")
  var resume = false

  @Flag(help: "Print one JSON object with the final figures.")
  var json = false

  /// `--curve`, or by default `out/cdflow.safetensors` → `out/cdflow-curve.svg`.
  func curveURL(beside checkpoint: URL) -> URL {
    if let curve { return URL(fileURLWithPath: curve) }
    let name = checkpoint.deletingPathExtension().lastPathComponent
    return checkpoint.deletingLastPathComponent().appendingPathComponent("\(name)-curve.svg")
  }
}

/// Checks every `flows train` command makes.
enum TrainingOptionChecks {
  /// `--steps` and `--time-budget`: not both, at least one step, a positive finite budget.
  static func validateStop(steps: Int?, timeBudget: Double?) throws {
    if steps != nil && timeBudget != nil { throw ValidationError("give --steps or --time-budget, not both") }
    if let steps, steps < 1 { throw ValidationError("--steps \(steps) must be at least 1") }
    if let timeBudget, !(timeBudget > 0 && timeBudget.isFinite) {
      throw ValidationError("--time-budget \(timeBudget) must be a positive number of seconds")
    }
  }
}
