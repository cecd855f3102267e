import ArgumentParser
import Foundation
import NormalizingFlows

/// `flows train MODEL`: one subcommand per trainable model.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a model, with progress, periodic evaluation and resumable checkpoints.",
    subcommands: [TrainCDFlow.self, TrainRectangular.self, TrainTarFlowLM.self, TrainCharLM.self])
}

/// `flows train cdflow`: CDFlow (or its Glow and RealNVP baselines) on
/// Fashion-MNIST, MNIST or any IDX pair.
struct TrainCDFlow: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cdflow",
    abstract: "Train CDFlow on 8-bit images (test bits/dim on the held-out split).",
    discussion: """
      Progress goes to standard error; the final figures (or, with --json, one JSON object) to standard output. \
      The checkpoint is saved every --checkpoint-every steps and at the end, atomically; --resume continues \
      a run from it exactly (the architecture, optimizer and seed are the checkpoint's).
      """)

  @Option(help: "fashion-mnist, mnist (files in data/mnist) or a directory holding the IDX files.")
  var dataset: String?

  @Option(help: "Levels L (default 2; 28×28 images allow at most 2).")
  var levels: Int?

  @Option(help: "Steps K per level (default 8).")
  var stepsPerLevel: Int?

  @Option(help: "Hidden channels of the coupling networks (default 64).")
  var hidden: Int?

  @Option(help: "Channel mixer: cd, cd:<m>, lu, dense or reverse (default cd).")
  var mixer: String?

  @Option(help: "Circulant-diagonal mixers' initialisation: random (orthogonal, the default) or identity.")
  var cdInit: String?

  @Option(help: "Circulant-diagonal mixers' normalisation: none (the default) or spectral (W divided by its spectral-norm bound).")
  var cdNormalization: String?

  @Option(help: "Channel-aware learning-rate scale s: each circulant-diagonal mixer of n channels trains at s/√n times --lr (default: off, 1×).")
  var cdLrScale: Double?

  @Option(help: "c of the learned split priors' log σ = c·tanh(r/c) (default 2; 0: unbounded, Glow's).")
  var splitBound: Double?

  @OptionGroup var training: TrainingOptions<CDFlowTrainingProfile>

  @Option(help: "Train on the first this many training images only (default all).")
  var trainCount: Int?

  @Option(help: "The checkpoint to write (and, with --resume, to continue from).")
  var checkpoint = "out/cdflow.safetensors"

  @OptionGroup var output: TrainingOutputOptions

  func validate() throws {
    try training.validateStop()
    if let mixer, CDFlowMixer(mixer) == nil {
      throw ValidationError("--mixer '\(mixer)' is not one of cd, cd:<m>, lu, dense, reverse")
    }
    if let cdInit, CirculantDiagonalInitialization(rawValue: cdInit) == nil {
      throw ValidationError("--cd-init '\(cdInit)' is not random or identity")
    }
    if let cdNormalization, CirculantDiagonalNormalization(rawValue: cdNormalization) == nil {
      throw ValidationError("--cd-normalization '\(cdNormalization)' is not none or spectral")
    }
    if let cdLrScale, !(cdLrScale.isFinite && cdLrScale > 0) {
      throw ValidationError("--cd-lr-scale \(cdLrScale) must be positive and finite")
    }
    let circulantDiagonalOptions = [
      ("--cd-init", cdInit != nil), ("--cd-normalization", cdNormalization != nil), ("--cd-lr-scale", cdLrScale != nil),
    ].filter(\.1).map(\.0)
    if let mixer, let kind = CDFlowMixer(mixer), !circulantDiagonalOptions.isEmpty {
      if case .circulantDiagonal = kind {} else {
        throw ValidationError(
          "\(circulantDiagonalOptions.joined(separator: ", ")) only work with --mixer cd, not --mixer \(mixer)")
      }
    }
    if let splitBound, !(splitBound >= 0 && splitBound.isFinite) {
      throw ValidationError("--split-bound \(splitBound) must be finite and ≥ 0 (0 for unbounded)")
    }
    try training.validateOptimizer()
    if output.resume {
      let model: [(String, Bool)] = [
        ("--levels", levels != nil), ("--steps-per-level", stepsPerLevel != nil), ("--hidden", hidden != nil),
        ("--mixer", mixer != nil), ("--cd-init", cdInit != nil), ("--cd-normalization", cdNormalization != nil),
        ("--cd-lr-scale", cdLrScale != nil), ("--split-bound", splitBound != nil),
      ]
      let given = model.filter(\.1).map(\.0) + training.fixedOptionsGiven + (trainCount != nil ? ["--train-count"] : [])
      if !given.isEmpty {
        throw ValidationError(
          "\(given.joined(separator: ", ")) cannot change when resuming: the checkpoint fixes them")
      }
    }
    if let problem = training.trainingConfiguration.problem { throw ValidationError(problem) }
  }

  /// The split priors' bound c: 2 unless given, `nil` (unbounded) for 0.
  private var resolvedSplitBound: Double? {
    guard let splitBound else { return 2 }
    return splitBound > 0 ? splitBound : nil
  }

  func run() throws {
    let checkpointURL = URL(fileURLWithPath: checkpoint)
    let curveURL = output.curveURL(beside: checkpointURL)
    try CDFlowTrainingRun(
      commandName: "flows train cdflow", dataset: dataset.map(DatasetSource.init),
      model: CDFlowConfiguration(
        levels: levels ?? 2, stepsPerLevel: stepsPerLevel ?? 8, hiddenChannels: hidden ?? 64,
        mixer: mixer.flatMap(CDFlowMixer.init) ?? .circulantDiagonal(factors: 2),
        splitPriorLogStandardDeviationBound: resolvedSplitBound,
        circulantDiagonalInitialization: cdInit.flatMap(CirculantDiagonalInitialization.init) ?? .random,
        circulantDiagonalNormalization: cdNormalization.flatMap(CirculantDiagonalNormalization.init) ?? .none,
        seed: training.seed ?? 0),
      training: training.trainingConfiguration, trainCount: trainCount, checkpoint: checkpointURL, curve: curveURL,
      resume: output.resume, json: output.json, circulantDiagonalLearningRateScale: cdLrScale
    ).run()
  }
}

/// `flows train cdflow`'s help texts and defaults of the shared training options.
enum CDFlowTrainingProfile: TrainingOptionsProfile {
  static let batchSizeHelp = "Images per batch (default 64)."
  static let defaultBatchSize = 64
  static let clipHelp = "Global gradient-norm clip (default 100; 0 for none)."
  static let defaultClip = 100.0
  static let seedHelp = "Seed of the initial parameters, batch order and noise (default 0)."
  static let evaluationCountHelp = "Test images of the periodic evaluations."
  static let defaultEvaluationCount = 1000
  static let finalEvaluationCountHelp = "Test images of the final evaluation (default all)."
  /// TrainingConfiguration's default.
  static let evaluationBatchSize = 500
}
