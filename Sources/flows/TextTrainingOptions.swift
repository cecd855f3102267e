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

  @OptionGroup var training: TrainingOptions<TextTrainingProfile>

  @Option(help: "The checkpoint to write (and, with --resume, to continue from).")
  var checkpoint: String?

  @OptionGroup var output: TrainingOutputOptions

  /// The options a checkpoint fixes, named when given.
  var fixedOptionsGiven: [String] {
    given(markovOptions + architectureOptions) + training.fixedOptionsGiven
  }

  /// The architecture options, and the Markov chain's without `--corpus`,
  /// named when given (a grown model takes them from its checkpoint).
  var modelOptionsGiven: [String] {
    given((corpus == nil ? markovOptions : []) + architectureOptions)
  }

  private var markovOptions: [(String, Bool)] {
    [
      ("--markov-order", markovOrder != nil), ("--markov-sharpness", markovSharpness != nil),
      ("--markov-seed", markovSeed != nil),
    ]
  }

  private var architectureOptions: [(String, Bool)] {
    [("--context", context != nil), ("--width", width != nil), ("--heads", heads != nil)]
  }

  private func given(_ options: [(String, Bool)]) -> [String] { options.filter(\.1).map(\.0) }

  /// The checks common to both commands.
  func validate(fixedModelOptions: [String]) throws {
    try training.validateStop()
    try training.validateOptimizer()
    if let heldOut, CharacterCorpus.Split(rawValue: heldOut.lowercased()) == nil || heldOut.lowercased() == "train" {
      throw ValidationError("--held-out '\(heldOut)' is not test or validation")
    }
    if let context, context < 1 { throw ValidationError("--context \(context) must be at least 1") }
    if let width, width < 1 { throw ValidationError("--width \(width) must be at least 1") }
    if let heads, heads < 1 || width.map({ $0 % heads != 0 }) ?? (64 % heads != 0) {
      throw ValidationError("--heads \(heads) must be at least 1 and divide the width \(width ?? 64)")
    }
    if let problem = corpusSource.problem { throw ValidationError(problem) }
    if output.resume {
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
  var trainingConfiguration: TrainingConfiguration { training.trainingConfiguration }

  /// The model's seed (default 0).
  var seed: UInt64 { training.seed ?? 0 }
}

/// The help texts and defaults of the shared training options of `flows train tarflowlm` and `charlm`.
enum TextTrainingProfile: TrainingOptionsProfile {
  static let batchSizeHelp = "Windows per batch (default 32)."
  static let defaultBatchSize = 32
  static let clipHelp = "Global gradient-norm clip (default 10; 0 for none)."
  static let defaultClip = 10.0
  static let seedHelp = "Seed of the initial parameters, batches and noise (default 0)."
  static let evaluationCountHelp = "Held-out windows of the periodic evaluations."
  static let defaultEvaluationCount = 100
  static let finalEvaluationCountHelp = "Held-out windows of the final evaluation (default all)."
  static let evaluationBatchSize = 64
}
