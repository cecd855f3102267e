import ArgumentParser
import Foundation
import NormalizingFlows

/// The options `flows train tarflowlm` and `flows train charlm` share.
struct TextTrainingOptions: ParsableArguments {
  @Option(help: "shakespeare (data/corpus, made by `make corpus`), markov (a synthetic chain) or a corpus directory.")
  var corpus: String?

  @Option(help: "Order of the markov corpus's chain (default 1).")
  var markovOrder: Int?

  @Option(help: "Sharpness of the markov chain's transition logits (default 3; larger is more predictable).")
  var markovSharpness: Double?

  @Option(help: "Seed of the markov chain and its text (default 0).")
  var markovSeed: UInt64?

  @Option(help: "The split the evaluations use: test or validation (default test; tune on validation).")
  var heldOut: String?

  @Option(help: "Context: characters per training window (default 64).")
  var context: Int?

  @Option(help: "Transformer width (default 64).")
  var width: Int?

  @Option(help: "Attention heads (default width/64, at least 1).")
  var heads: Int?

  @Option(help: "Windows per batch (default 32).")
  var batchSize: Int?

  @Option(help: "Peak learning rate (default 0.001).")
  var lr: Double?

  @Option(help: "Optimizer: adam or adamw (default adam).")
  var optimizer: String?

  @Option(help: "Weight decay λ (default 0).")
  var weightDecay: Double?

  @Option(help: "Linear warm-up steps (default 100).")
  var warmup: Int?

  @Option(help: "Global gradient-norm clip (default 10; 0 for none).")
  var clip: Double?

  @Option(help: "Seed of the initial parameters, batches and noise (default 0).")
  var seed: UInt64?

  @Option(help: "Stop after this many steps in total (default 1000 without --time-budget).")
  var steps: Int?

  @Option(help: "Stop after this many seconds of this run.")
  var timeBudget: Double?

  @Option(help: "Evaluate every this many steps (0: only at the end).")
  var evalEvery = 500

  @Option(help: "Held-out windows of the periodic evaluations.")
  var evalCount = 100

  @Option(help: "Held-out windows of the final evaluation (default all).")
  var finalEvalCount: Int?

  @Option(help: "Save the checkpoint every this many steps (0: only at the end).")
  var checkpointEvery = 1000

  @Option(help: "The checkpoint to write (and, with --resume, to continue from).")
  var checkpoint: String?

  @Option(help: "The training-curve SVG (default: beside the checkpoint, <name>-curve.svg).")
  var curve: String?

  @Flag(help: "Continue the run saved in --checkpoint.")
  var resume = false

  @Flag(help: "Print one JSON object with the final figures.")
  var json = false

  /// The options a checkpoint fixes, named when given.
  var fixedOptionsGiven: [String] {
    [
      ("--markov-order", markovOrder != nil), ("--markov-sharpness", markovSharpness != nil),
      ("--markov-seed", markovSeed != nil), ("--context", context != nil), ("--width", width != nil),
      ("--heads", heads != nil), ("--batch-size", batchSize != nil), ("--lr", lr != nil),
      ("--optimizer", optimizer != nil), ("--weight-decay", weightDecay != nil), ("--warmup", warmup != nil),
      ("--clip", clip != nil), ("--seed", seed != nil),
    ].filter(\.1).map(\.0)
  }

  /// The checks common to both commands.
  func validate(fixedModelOptions: [String]) throws {
    if steps != nil && timeBudget != nil { throw ValidationError("give --steps or --time-budget, not both") }
    if let steps, steps < 1 { throw ValidationError("--steps \(steps) must be at least 1") }
    if let timeBudget, !(timeBudget > 0 && timeBudget.isFinite) {
      throw ValidationError("--time-budget \(timeBudget) must be a positive number of seconds")
    }
    if let optimizer, TrainingConfiguration.OptimizerKind(rawValue: optimizer.lowercased()) == nil {
      throw ValidationError("--optimizer '\(optimizer)' is not adam or adamw")
    }
    if let heldOut, CharacterCorpus.Split(rawValue: heldOut.lowercased()) == nil || heldOut.lowercased() == "train" {
      throw ValidationError("--held-out '\(heldOut)' is not test or validation")
    }
    if let clip, clip < 0 { throw ValidationError("--clip \(clip) must be ≥ 0 (0 for no clipping)") }
    if let context, context < 1 { throw ValidationError("--context \(context) must be at least 1") }
    if let width, width < 1 { throw ValidationError("--width \(width) must be at least 1") }
    if let heads, heads < 1 || width.map({ $0 % heads != 0 }) ?? (64 % heads != 0) {
      throw ValidationError("--heads \(heads) must be at least 1 and divide the width \(width ?? 64)")
    }
    if let problem = corpusSource.problem { throw ValidationError(problem) }
    if resume {
      let given = fixedOptionsGiven + fixedModelOptions
      if !given.isEmpty {
        throw ValidationError("\(given.joined(separator: ", ")) cannot change when resuming: the checkpoint fixes them")
      }
    }
    if let problem = trainingConfiguration.problem { throw ValidationError(problem) }
  }

  var corpusSource: TextCorpusSource {
    TextCorpusSource(
      corpus ?? "shakespeare", markovOrder: markovOrder ?? 1, markovSharpness: markovSharpness ?? 3,
      markovSeed: markovSeed ?? 0)
  }

  /// The split of the periodic and final evaluations.
  var resolvedHeldOut: CharacterCorpus.Split {
    heldOut.flatMap { CharacterCorpus.Split(rawValue: $0.lowercased()) } ?? .test
  }

  var resolvedWidth: Int { width ?? 64 }
  var resolvedHeads: Int { heads ?? Swift.max(1, resolvedWidth / 64) }
  var resolvedContext: Int { context ?? 64 }

  /// The options as a training configuration (defaults where not given).
  var trainingConfiguration: TrainingConfiguration {
    TrainingConfiguration(
      optimizer: optimizer.flatMap { TrainingConfiguration.OptimizerKind(rawValue: $0.lowercased()) } ?? .adam,
      learningRate: lr ?? 1e-3, weightDecay: weightDecay ?? 0, warmupSteps: warmup ?? 100,
      gradientClipNorm: (clip ?? 10) == 0 ? nil : (clip ?? 10), batchSize: batchSize ?? 32,
      evaluateEvery: evalEvery, evaluationCount: evalCount, finalEvaluationCount: finalEvalCount,
      evaluationBatchSize: 64, checkpointEvery: checkpointEvery,
      stop: timeBudget.map { .timeBudget(seconds: $0) } ?? .steps(steps ?? 1000), seed: seed ?? 0)
  }
}
