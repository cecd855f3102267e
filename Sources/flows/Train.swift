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

  @Option(help: "Images per batch (default 64).")
  var batchSize: Int?

  @Option(help: "Peak learning rate (default 0.001).")
  var lr: Double?

  @Option(help: "Optimizer: adam or adamw (default adam).")
  var optimizer: String?

  @Option(help: "Weight decay λ (default 0).")
  var weightDecay: Double?

  @Option(help: "Linear warm-up steps (default 100).")
  var warmup: Int?

  @Option(help: "Global gradient-norm clip (default 100; 0 for none).")
  var clip: Double?

  @Option(help: "Seed of the initial parameters, batch order and noise (default 0).")
  var seed: UInt64?

  @Option(help: "Stop after this many steps in total (default 1000 without --time-budget).")
  var steps: Int?

  @Option(help: "Stop after this many seconds of this run.")
  var timeBudget: Double?

  @Option(help: "Evaluate every this many steps (0: only at the end).")
  var evalEvery = 500

  @Option(help: "Test images of the periodic evaluations.")
  var evalCount = 1000

  @Option(help: "Test images of the final evaluation (default all).")
  var finalEvalCount: Int?

  @Option(help: "Save the checkpoint every this many steps (0: only at the end).")
  var checkpointEvery = 1000

  @Option(help: "Train on the first this many training images only (default all).")
  var trainCount: Int?

  @Option(help: "The checkpoint to write (and, with --resume, to continue from).")
  var checkpoint = "out/cdflow.safetensors"

  @Option(help: "The training-curve SVG (default: beside the checkpoint, <name>-curve.svg).")
  var curve: String?

  @Flag(help: "Continue the run saved in --checkpoint.")
  var resume = false

  @Flag(help: "Print one JSON object with the final figures.")
  var json = false

  func validate() throws {
    if steps != nil && timeBudget != nil { throw ValidationError("give --steps or --time-budget, not both") }
    if let steps, steps < 1 { throw ValidationError("--steps \(steps) must be at least 1") }
    if let timeBudget, !(timeBudget > 0 && timeBudget.isFinite) {
      throw ValidationError("--time-budget \(timeBudget) must be a positive number of seconds")
    }
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
    if let optimizer, TrainingConfiguration.OptimizerKind(rawValue: optimizer.lowercased()) == nil {
      throw ValidationError("--optimizer '\(optimizer)' is not adam or adamw")
    }
    if let clip, clip < 0 { throw ValidationError("--clip \(clip) must be ≥ 0 (0 for no clipping)") }
    if resume {
      let fixed: [(String, Bool)] = [
        ("--levels", levels != nil), ("--steps-per-level", stepsPerLevel != nil), ("--hidden", hidden != nil),
        ("--mixer", mixer != nil), ("--cd-init", cdInit != nil), ("--cd-normalization", cdNormalization != nil),
        ("--cd-lr-scale", cdLrScale != nil), ("--batch-size", batchSize != nil), ("--lr", lr != nil),
        ("--optimizer", optimizer != nil), ("--weight-decay", weightDecay != nil), ("--warmup", warmup != nil),
        ("--clip", clip != nil), ("--seed", seed != nil), ("--train-count", trainCount != nil),
      ]
      let given = fixed.filter(\.1).map(\.0)
      if !given.isEmpty {
        throw ValidationError(
          "\(given.joined(separator: ", ")) cannot change when resuming: the checkpoint fixes them")
      }
    }
    if let problem = trainingConfiguration.problem { throw ValidationError(problem) }
  }

  /// The options as a training configuration (defaults where not given).
  var trainingConfiguration: TrainingConfiguration {
    TrainingConfiguration(
      optimizer: optimizer.flatMap { TrainingConfiguration.OptimizerKind(rawValue: $0.lowercased()) } ?? .adam,
      learningRate: lr ?? 1e-3, weightDecay: weightDecay ?? 0, warmupSteps: warmup ?? 100,
      gradientClipNorm: (clip ?? 100) == 0 ? nil : (clip ?? 100), batchSize: batchSize ?? 64,
      evaluateEvery: evalEvery, evaluationCount: evalCount, finalEvaluationCount: finalEvalCount,
      checkpointEvery: checkpointEvery,
      stop: timeBudget.map { .timeBudget(seconds: $0) } ?? .steps(steps ?? 1000), seed: seed ?? 0)
  }

  func run() throws {
    let checkpointURL = URL(fileURLWithPath: checkpoint)
    let curveURL = curve.map { URL(fileURLWithPath: $0) } ?? Self.defaultCurve(beside: checkpointURL)
    try CDFlowTrainingRun(
      commandName: "flows train cdflow", dataset: dataset.map(DatasetSource.init),
      model: CDFlowConfiguration(
        levels: levels ?? 2, stepsPerLevel: stepsPerLevel ?? 8, hiddenChannels: hidden ?? 64,
        mixer: mixer.flatMap(CDFlowMixer.init) ?? .circulantDiagonal(factors: 2),
        circulantDiagonalInitialization: cdInit.flatMap(CirculantDiagonalInitialization.init) ?? .random,
        circulantDiagonalNormalization: cdNormalization.flatMap(CirculantDiagonalNormalization.init) ?? .none,
        seed: seed ?? 0),
      training: trainingConfiguration, trainCount: trainCount, checkpoint: checkpointURL, curve: curveURL,
      resume: resume, json: json, circulantDiagonalLearningRateScale: cdLrScale
    ).run()
  }

  /// `out/cdflow.safetensors` → `out/cdflow-curve.svg`.
  static func defaultCurve(beside checkpoint: URL) -> URL {
    let name = checkpoint.deletingPathExtension().lastPathComponent
    return checkpoint.deletingLastPathComponent().appendingPathComponent("\(name)-curve.svg")
  }
}
