import FlowTensor
import Foundation

/// Fits a ``TrainableModel``: seeded batches, Adam or AdamW with a linear
/// warm-up and global-norm clipping, periodic evaluation on a held-out set,
/// atomic checkpoints, exact resumption, and a stop at the first
/// non-finite loss or gradient.
///
/// ```swift
/// var trainer = try Trainer(model: CDFlow<Float>(configuration: .init()),
///                           configuration: TrainingConfiguration(stop: .steps(2000)),
///                           trainingSet: train, heldOutSet: test)
/// let summary = try trainer.run(checkpoint: URL(fileURLWithPath: "out/cdflow.safetensors"))
/// ```
///
/// A run resumed from one of its checkpoints (``init(resumingFrom:trainingSet:heldOutSet:adjusting:)``)
/// takes the same batches, random draws and updates as the uninterrupted
/// run: its losses agree bit for bit.
public struct Trainer<Model: TrainableModel> {
  /// The model, as trained so far.
  public private(set) var model: Model
  /// How the run goes. Changing anything but the stop, the evaluation and
  /// checkpoint intervals and the log interval makes a resumed run differ
  /// from an uninterrupted one.
  public var configuration: TrainingConfiguration
  /// The step, sampler, generator and curve.
  public private(set) var state: TrainingState
  /// The items trained on.
  public let trainingSet: Model.Dataset
  /// The items evaluated on; `nil` for no evaluation.
  public let heldOutSet: Model.Dataset?
  /// Entries added to every checkpoint's metadata (`flows` records the dataset).
  public var extraMetadata: [String: String] = [:]
  /// Where each checkpoint's training curve (SVG) is written, if anywhere.
  public var curveURL: URL?
  /// The held-out split's name: it names the evaluations' curve series and
  /// the checkpoint's `<name>_<metricKey>` entry, so that a run tuned on
  /// the validation split cannot pass for a test result.
  public var heldOutName = CurveRecord.evaluation

  var optimizer: TrainingOptimizer<Model.Scalar>
  private var lastCheckpointStep: Int?
  private let resumed: Bool

  /// A run from step 0.
  /// - Parameters:
  ///   - model: at its initial parameters.
  ///   - trainingSet: at least ``TrainingConfiguration/batchSize`` items.
  ///   - heldOutSet: at least one item, or `nil`.
  /// - Throws: ``TrainingError/invalidConfiguration(problem:)`` or
  ///   ``TrainingError/notEnoughData(problem:)``.
  public init(
    model: Model, configuration: TrainingConfiguration, trainingSet: Model.Dataset, heldOutSet: Model.Dataset?
  ) throws {
    try Self.check(configuration, trainingSet: trainingSet, heldOutSet: heldOutSet)
    self.model = model
    self.configuration = configuration
    self.trainingSet = trainingSet
    self.heldOutSet = heldOutSet
    state = TrainingState(
      sampler: BatchSampler(count: trainingSet.count, batchSize: configuration.batchSize, seed: configuration.seed),
      generator: SeededGenerator(seed: configuration.seed))
    state.isPrepared = model.isPrepared
    optimizer = TrainingOptimizer(configuration)
    resumed = false
  }

  /// A run continuing from a checkpoint written by ``run(checkpoint:observer:)``.
  /// - Parameters:
  ///   - url: the checkpoint.
  ///   - trainingSet: the items the checkpoint's run trained on.
  ///   - adjusting: changes to the stored configuration (the stop, intervals).
  /// - Throws: ``TrainingError`` when the checkpoint cannot be read, is of
  ///   another model, or does not fit the data.
  public init(
    resumingFrom url: URL, trainingSet: Model.Dataset, heldOutSet: Model.Dataset?,
    adjusting: (inout TrainingConfiguration) -> Void = { _ in }
  ) throws {
    let checkpoint = try TrainingCheckpoint(contentsOf: url)
    var configuration = checkpoint.configuration
    adjusting(&configuration)
    try Self.check(configuration, trainingSet: trainingSet, heldOutSet: heldOutSet)
    guard checkpoint.state.sampler.count == trainingSet.count else {
      throw TrainingError.unreadableCheckpoint(
        path: url.path,
        reason: "it was trained on \(checkpoint.state.sampler.count) items, the training set has \(trainingSet.count)")
    }
    model = try checkpoint.model(Model.self)
    optimizer = TrainingOptimizer(configuration)
    do {
      try optimizer.restoreState(
        try checkpoint.optimizerState(as: Model.Scalar.self), step: checkpoint.state.step, for: model)
    } catch let error as TrainingError {
      throw error
    } catch {
      throw TrainingError.unreadableCheckpoint(path: url.path, reason: "\(error)")
    }
    self.configuration = configuration
    self.trainingSet = trainingSet
    self.heldOutSet = heldOutSet
    state = checkpoint.state
    lastCheckpointStep = state.step
    resumed = true
  }

  private static func check(
    _ configuration: TrainingConfiguration, trainingSet: Model.Dataset, heldOutSet: Model.Dataset?
  ) throws {
    if let problem = configuration.problem { throw TrainingError.invalidConfiguration(problem: problem) }
    guard trainingSet.count >= configuration.batchSize else {
      throw TrainingError.notEnoughData(
        problem: "the training set holds \(trainingSet.count) items, fewer than one batch of \(configuration.batchSize)")
    }
    if let heldOutSet, heldOutSet.count == 0 {
      throw TrainingError.notEnoughData(problem: "the held-out set is empty")
    }
  }

  /// Trains until the configured stop, evaluating and saving on the way,
  /// then evaluates on ``TrainingConfiguration/finalEvaluationCount``
  /// held-out items and saves a last checkpoint.
  /// - Parameters:
  ///   - checkpoint: where checkpoints go (replaced atomically each time);
  ///     `nil` to save none.
  ///   - observer: called with every event (progress display, logs, tests).
  /// - Returns: the final figures.
  /// - Throws: ``TrainingError/diverged(step:loss:gradientNorm:lastCheckpointStep:)``
  ///   at the first non-finite loss or gradient norm, before that step's
  ///   update and without saving; ``TrainingError/cannotSaveCheckpoint(path:reason:)``.
  public mutating func run(
    checkpoint: URL?, observer: (TrainingEvent) -> Void = { _ in }
  ) throws -> TrainingSummary {
    let clock = ContinuousClock()
    let start = clock.now
    func runSeconds() -> Double { (clock.now - start).seconds }
    let elapsedBefore = state.elapsedSeconds
    var runSteps = 0
    // A resumed run's checkpoints report its own evaluations, not the last run's final one.
    state.finalEvaluation = nil
    let periodicSet = heldOutSet.map { set in configuration.evaluationCount.map { set.prefix($0) } ?? set }
    observer(.started(step: state.step, parameterCount: model.parameterCount, resumed: resumed))

    while !isFinished(runSeconds: runSeconds()) {
      let batch = state.sampler.next()
      if !model.isPrepared {
        model.prepare(on: batch, of: trainingSet, using: &state.generator)
        model.isPrepared = true
        state.isPrepared = true
      }
      var generator = state.generator
      let trainingSet = self.trainingSet
      let result = valueWithGradient(at: model) { $0.loss(on: batch, of: trainingSet, using: &generator) }
      state.generator = generator
      let loss = Double(result.value.scalar)
      var gradients = result.gradients
      let maximumNorm = configuration.gradientClipNorm.map { Model.Scalar($0) } ?? .infinity
      let gradientNorm = Double(clipByGlobalNorm(&gradients, maximumNorm: maximumNorm))
      guard loss.isFinite && gradientNorm.isFinite else {
        throw TrainingError.diverged(
          step: state.step + 1, loss: loss, gradientNorm: gradientNorm, lastCheckpointStep: lastCheckpointStep)
      }
      let learningRate = currentLearningRate
      optimizer.update(&model, along: gradients, learningRate: learningRate)
      state.step += 1
      runSteps += 1
      state.record(loss: loss, recordEvery: configuration.recordEvery)
      let seconds = runSeconds()
      state.elapsedSeconds = elapsedBefore + seconds
      observer(.stepped(TrainingStepRecord(
        step: state.step, loss: loss, gradientNorm: gradientNorm, learningRate: learningRate,
        recentMeanLoss: state.recentMeanLoss ?? loss, runSeconds: seconds, runSteps: runSteps)))

      if configuration.evaluateEvery > 0, state.step % configuration.evaluateEvery == 0, let periodicSet {
        let value = model.evaluate(on: periodicSet, following: configuration)
        state.lastEvaluation = value
        state.lastEvaluationStep = state.step
        state.curve.append(step: state.step, value: value, to: heldOutName)
        observer(.evaluated(step: state.step, value: value, count: periodicSet.count, isFinal: false))
      }
      if configuration.checkpointEvery > 0, state.step % configuration.checkpointEvery == 0, let checkpoint {
        state.elapsedSeconds = elapsedBefore + runSeconds()
        try save(to: checkpoint)
        observer(.checkpointed(step: state.step, path: checkpoint.path))
      }
    }

    state.flushTrainingPoint()
    var testCount: Int?
    if let heldOutSet {
      let finalSet = configuration.finalEvaluationCount.map { heldOutSet.prefix($0) } ?? heldOutSet
      let value = model.evaluate(on: finalSet, following: configuration)
      state.finalEvaluation = value
      testCount = finalSet.count
      if state.lastEvaluationStep != state.step || finalSet.count != periodicSet?.count {
        state.curve.append(step: state.step, value: value, to: heldOutName)
      }
      observer(.evaluated(step: state.step, value: value, count: finalSet.count, isFinal: true))
    }
    let finalSeconds = runSeconds()
    state.elapsedSeconds = elapsedBefore + finalSeconds
    if let checkpoint {
      try save(to: checkpoint)
      observer(.checkpointed(step: state.step, path: checkpoint.path))
    }
    return TrainingSummary(
      model: Model.modelName, metricName: Model.metricName, metricKey: Model.metricKey, steps: state.step,
      runSteps: runSteps, seconds: state.elapsedSeconds, runSeconds: finalSeconds,
      trainMetric: state.recentMeanLoss ?? .nan, testMetric: state.finalEvaluation, testCount: testCount,
      checkpoint: checkpoint?.path, parameterCount: model.parameterCount, heldOutName: heldOutName)
  }

  /// The learning rate of the next update: the linear warm-up, then the
  /// peak, or with ``TrainingConfiguration/decaySteps`` a cosine decay to
  /// the final rate.
  public var currentLearningRate: Double { configuration.learningRate(atStep: state.step) }

  private func isFinished(runSeconds: Double) -> Bool {
    switch configuration.stop {
    case .steps(let steps): return state.step >= steps
    case .timeBudget(let seconds): return runSeconds >= seconds
    }
  }

  /// Writes a checkpoint of the run as it stands (atomically), and the
  /// training curve to ``curveURL``.
  /// - Throws: ``TrainingError/cannotSaveCheckpoint(path:reason:)``; the
  ///   previous file is intact then.
  public mutating func save(to url: URL) throws {
    let data = TrainingCheckpoint.encode(
      model: model, optimizerState: optimizer.state, configuration: configuration, state: state,
      extraMetadata: extraMetadata, heldOutName: heldOutName)
    try AtomicWrite.write(data, to: url)
    lastCheckpointStep = state.step
    if let curveURL {
      let curve = state.curve.trainingCurve(title: "\(Model.modelName) training", metricName: Model.metricName)
      try AtomicWrite.write(Data(curve.svg().utf8), to: curveURL)
    }
  }
}

extension TrainableModel {
  /// The evaluation a ``Trainer`` runs: the first `count` items of
  /// `dataset` (all when `nil`), in batches of
  /// ``TrainingConfiguration/evaluationBatchSize``, with random draws from
  /// ``TrainingConfiguration/evaluationSeed``. Evaluating a checkpoint this
  /// way repeats the figure its run reported.
  /// - Returns: the mean per-item loss, in ``metricName``.
  public func evaluate(on dataset: Dataset, count: Int? = nil, following configuration: TrainingConfiguration) -> Double {
    var generator = SeededGenerator(seed: configuration.evaluationSeed)
    let items = count.map { dataset.prefix($0) } ?? dataset
    return evaluate(on: items, batchSize: configuration.evaluationBatchSize, using: &generator)
  }
}
