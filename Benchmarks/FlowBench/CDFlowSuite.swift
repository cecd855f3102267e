import ArgumentParser
import FlowLayers
import FlowModels
import FlowTensor
import Foundation

/// `flowbench cdflow`: the CDFlow image model on Fashion-MNIST, Float, for
/// each mixer, against its PyTorch peer (`Benchmarks/peers/cdflow_train.py`,
/// the same architecture and parameter names; `Tests/FlowModelsTests/
/// CDFlowPeerTests.swift` checks that both give the same log-likelihood and
/// gradient for the same parameters).
///
/// Cases, one workload per mixer so that the table's ratio is Swift's
/// against PyTorch's:
/// - `training-step-<mixer>` (ms): dequantise, forward, NLL, backward, Adam
///   step, on the first `--batch` training images. Peers: `torch`, and
///   `torch-tuned` (glibc's malloc told to keep freed blocks).
/// - with `--quality-steps N`: `train-bpd-<mixer>` (the mean training-batch
///   bits/dim of the last `--train-window` steps) and `test-bpd-<mixer>`
///   (the first `--test-count` test images) after N Adam steps at `--lr`
///   on batches in `BatchSampler`'s order (`--data-seed`). Swift writes its
///   initial parameters (after ActNorm's data-dependent initialisation)
///   with the mixers' fixed signs and permutations, and the peer starts
///   from them: both runs start from the same model and see the same
///   batches; only the dequantisation noise streams differ.
struct CDFlowSuite: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cdflow",
    abstract: "CDFlow training step (L = 2, K = 8, width 64, batch 64 by default) on Fashion-MNIST, and test bits/dim after N steps.")

  @OptionGroup var options: SuiteOptions

  @Option(help: "Levels L.") var levels = 2
  @Option(help: "Steps per level K.") var stepsPerLevel = 8
  @Option(help: "Hidden channels of the coupling conditioners.") var hidden = 64
  @Option(help: "Images per batch.") var batch = 64
  @Option(parsing: .upToNextOption, help: "Mixers: cd, cd:<m>, lu, dense, reverse.") var mixers = ["cd", "lu", "dense", "reverse"]
  @Flag(help: "Skip the training-step timing (with --quality-steps: only the quality case).") var noTiming = false
  @Option(help: "Also train N steps per mixer and report train and test bits/dim (0: no quality case).")
  var qualitySteps = 0
  @Option(help: "Quality case: Adam's learning rate.") var lr = 1e-3
  @Option(help: "Quality case: test images evaluated (the first ones, in order).") var testCount = 10_000
  @Option(help: "Quality case: the BatchSampler seed of the training order.") var dataSeed: UInt64 = 0
  @Option(help: "Quality case: training steps averaged for the train bits/dim.") var trainWindow = 20
  @Option(help: "The models' configuration seed (their initial parameters).") var seed: UInt64 = 0
  @Option(help: "c of the learned split priors' log σ = c·tanh(r/c) (0: unbounded, Glow's).") var splitBound = 2.0
  @Option(
    help: ArgumentHelp(
      "Quality case: keep Swift's trained models in this directory, as trained-<mixer>.safetensors (and .peer.safetensors).",
      discussion: "Training checkpoints that `flows eval --checkpoint PATH --worst K --breakdown INDEX` reads "
        + "(their optimizer state and step count are not the run's).")) var keepTrained: String?

  func validate() throws {
    if let unknown = mixers.first(where: { CDFlowMixer($0) == nil }) {
      throw ValidationError("unknown mixer '\(unknown)'; choose among cd, cd:<m>, lu, dense, reverse")
    }
    guard qualitySteps >= 0, testCount >= 1, trainWindow >= 1, lr > 0, splitBound >= 0, splitBound.isFinite else {
      throw ValidationError(
        "--quality-steps must be ≥ 0, --test-count and --train-window ≥ 1, --lr > 0, --split-bound finite and ≥ 0")
    }
  }

  private func configuration(_ mixer: String) -> CDFlowConfiguration {
    CDFlowConfiguration(
      levels: levels, stepsPerLevel: stepsPerLevel, hiddenChannels: hidden, mixer: CDFlowMixer(mixer)!,
      splitPriorLogStandardDeviationBound: splitBound > 0 ? splitBound : nil, seed: seed)
  }

  private var sizes: [(key: String, value: Int)] {
    [("batch", batch), ("levels", levels), ("steps", stepsPerLevel), ("width", hidden)]
  }

  /// The peer's options for this architecture.
  private var peerArchitecture: [String] {
    ["--levels", "\(levels)", "--steps-per-level", "\(stepsPerLevel)", "--hidden", "\(hidden)", "--batch", "\(batch)",
     "--seed", "\(seed)", "--split-bound", "\(splitBound)", "--mixers"] + mixers
  }

  func run() throws {
    options.configure()
    var report = Report(suite: "cdflow")
    if !noTiming {
      try measureTrainingSteps(into: &report)
      if options.peers {
        Peers.run(
          script: "cdflow_train.py",
          arguments: ["--mode", "timing", "--repetitions", "\(options.repetitions)", "--warmups", "\(options.warmups)"]
            + peerArchitecture,
          python: options.python, into: &report)
      }
    }
    if qualitySteps > 0 {
      let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowbench-cdflow-\(UUID().uuidString)")
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(at: directory) }
      var checkpoints: [String] = []
      for mixer in mixers {
        let url = directory.appendingPathComponent("initial-\(checkpoints.count).safetensors")
        try train(mixer, initialCheckpoint: url, into: &report)
        checkpoints.append("\(mixer)=\(url.path)")
      }
      if options.peers {
        Peers.run(
          script: "cdflow_train.py",
          arguments: ["--mode", "quality", "--iterations", "\(qualitySteps)", "--lr", "\(lr)", "--test-count",
                      "\(testCount)", "--data-seed", "\(dataSeed)", "--train-window", "\(trainWindow)"]
            + peerArchitecture + ["--init-checkpoint"] + checkpoints,
          python: options.python, into: &report)
        report.notes += qualityDifferences(report.rows)
      }
    }
    // The peer states its torch version once per run; keep each note once.
    var seen = Set<String>()
    report.notes = report.notes.filter { seen.insert($0).inserted }
    report.print(json: options.json)
  }

  private func measureTrainingSteps(into report: inout Report) throws {
    let data = try ImageDataset.fashionMNIST(split: .train)
    let pixels = data.batch(Array(0..<batch), as: Float.self).images
    for mixer in mixers {
      var model = CDFlow<Float>(configuration: configuration(mixer))
      var generator = SeededGenerator(seed: 1)
      model.initialize(from: pixels, using: &generator)
      var optimizer = Adam<Float>(learningRate: 1e-3)
      let timing = measure(warmups: options.warmups, repetitions: options.repetitions) {
        let (loss, gradients) = valueWithGradient(at: model) { $0.negativeLogLikelihood(pixels: pixels, using: &generator) }
        optimizer.update(&model, along: gradients)
        blackHole(loss)
      }
      report.rows.append(
        ResultRow(
          caseName: "training-step-\(mixer)", implementation: "swift", sizes: sizes, dtype: "float32", unit: "ms",
          timing: timing))
    }
  }

  /// Trains `mixer`'s model `qualitySteps` steps with a plain Adam loop and
  /// appends its train and test bits/dim; writes the initial parameters
  /// and fixed tensors to `initialCheckpoint` for the peer.
  private func train(_ mixer: String, initialCheckpoint: URL, into report: inout Report) throws {
    let trainSet = try ImageDataset.fashionMNIST(split: .train)
    let testSet = try ImageDataset.fashionMNIST(split: .test)
    let configuration = configuration(mixer)
    var model = CDFlow<Float>(configuration: configuration)
    var sampler = BatchSampler(count: trainSet.count, batchSize: batch, seed: dataSeed)
    var noise = SeededGenerator(seed: 1)
    // ActNorm sees the first training batch, as the peer's own initialisation does.
    let first = Array(BatchSampler.permutation(count: trainSet.count, seed: dataSeed, epoch: 0).prefix(batch))
    model.initialize(from: trainSet.batch(first, as: Float.self).images, using: &noise)
    try Safetensors.write(
      model.namedParameters.merging(model.fixedTensors()) { parameter, _ in parameter },
      metadata: ["configuration": configuration.jsonString, "dtype": "float32"], to: initialCheckpoint)

    var optimizer = Adam<Float>(learningRate: lr)
    var losses: [Double] = []
    let start = Date()
    for step in 1...qualitySteps {
      let pixels = trainSet.nextBatch(from: &sampler, as: Float.self).images
      let (loss, gradients) = valueWithGradient(at: model) { $0.negativeLogLikelihood(pixels: pixels, using: &noise) }
      optimizer.update(&model, along: gradients)
      losses.append(Double(loss.scalar))
      guard losses.last!.isFinite else {
        report.notes.append("swift \(mixer): non-finite loss at step \(step)")
        break
      }
    }
    let seconds = Date().timeIntervalSince(start)
    let window = losses.suffix(trainWindow)
    let trainBitsPerDimension = model.dequantization.bitsPerDimension(
      negativeLogLikelihood: window.reduce(0, +) / Double(window.count), dimensions: model.dimensions)

    let count = min(testCount, testSet.count)
    var evaluationNoise = SeededGenerator(seed: 2)
    var total = 0.0
    for start in stride(from: 0, to: count, by: 500) {
      let pixels = testSet.batch(Array(start..<min(start + 500, count)), as: Float.self).images
      let logProbability = withoutRecording { model.logProbability(model.dequantize(pixels: pixels, using: &evaluationNoise)) }
      total -= logProbability.scalars.reduce(0) { $0 + Double($1) }
    }
    let testBitsPerDimension = model.dequantization.bitsPerDimension(
      negativeLogLikelihood: total / Double(count), dimensions: model.dimensions)

    let quality = sizes + [("iterations", qualitySteps)]
    report.rows.append(bitsRow("train-bpd-\(mixer)", trainBitsPerDimension, sizes: quality))
    report.rows.append(bitsRow("test-bpd-\(mixer)", testBitsPerDimension, sizes: quality + [("images", count)]))
    report.notes.append(String(format: "swift %@: %d steps in %.1f s", mixer, qualitySteps, seconds))
    if let keepTrained { try keep(model, mixer: mixer, trainSet: trainSet, in: keepTrained, into: &report) }
  }

  /// Writes the trained `model` as a training checkpoint (the optimizer
  /// state and step of a fresh ``Trainer``: only the parameters are the
  /// run's), so that `flows eval` can rank and break down its test images.
  private func keep(
    _ model: CDFlow<Float>, mixer: String, trainSet: ImageDataset, in directory: String, into report: inout Report
  ) throws {
    let url = URL(fileURLWithPath: directory).appendingPathComponent(
      "trained-\(mixer.replacingOccurrences(of: ":", with: "-")).safetensors")
    try FileManager.default.createDirectory(
      at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    var trainer = try Trainer(
      model: model,
      configuration: TrainingConfiguration(learningRate: lr, warmupSteps: 0, gradientClipNorm: nil, batchSize: batch),
      trainingSet: trainSet, heldOutSet: nil)
    trainer.extraMetadata["dataset"] = "fashion-mnist"
    trainer.extraMetadata["flowbench"] = "cdflow --quality-steps \(qualitySteps) --seed \(seed): parameters after training"
    try trainer.save(to: url)
    // The peer's form too (parameters with the fixed signs and
    // permutations, as the initial checkpoint), for cdflow_model.py.
    let peerURL = url.deletingPathExtension().appendingPathExtension("peer.safetensors")
    try Safetensors.write(
      model.namedParameters.merging(model.fixedTensors()) { parameter, _ in parameter },
      metadata: ["configuration": model.configuration.jsonString, "dtype": "float32"], to: peerURL)
    report.notes.append("swift \(mixer): trained model kept in \(url.path) and \(peerURL.lastPathComponent)")
  }

  private func bitsRow(_ caseName: String, _ value: Double, sizes: [(key: String, value: Int)]) -> ResultRow {
    var row = ResultRow(
      caseName: caseName, implementation: "swift", sizes: sizes.sorted { $0.key < $1.key }, dtype: "float32",
      unit: "bits/dim", timing: Timing(seconds: [1]))
    (row.median, row.minimum, row.maximum) = (value, value, value)
    return row
  }

  /// "test bits/dim after N steps: swift − torch = …" per mixer, the figure the issue's bar reads.
  private func qualityDifferences(_ rows: [ResultRow]) -> [String] {
    mixers.compactMap { mixer in
      let test = rows.filter { $0.caseName == "test-bpd-\(mixer)" }
      guard let swift = test.first(where: { $0.implementation == "swift" }),
        let torch = test.first(where: { $0.implementation == "torch" })
      else { return nil }
      return String(
        format: "%@ test bits/dim after %d steps: swift %.4f, torch %.4f, swift − torch = %+.4f", mixer, qualitySteps,
        swift.median, torch.median, swift.median - torch.median)
    }
  }
}

