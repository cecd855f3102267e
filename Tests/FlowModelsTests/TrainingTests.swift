@testable import FlowModels
import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// Scalars to fit a mean to; a NaN among them poisons the batch it falls in.
private struct TrainingTestPoints: TrainingDataset {
  var values: [Double]
  var count: Int { values.count }
  func prefix(_ count: Int) -> TrainingTestPoints { TrainingTestPoints(values: Array(values.prefix(count))) }
}

/// A one-parameter model: loss = mean of ½(x + ε − μ)² with seeded noise ε
/// ~ U[0, 0.1), so that the generator's state matters to the losses.
private struct TrainingTestMean<Scalar: TensorScalar>: TrainableModel {
  typealias Dataset = TrainingTestPoints
  static var modelName: String { "test-mean" }
  static var metricName: String { "nats" }
  static var metricKey: String { "nll" }

  var mean = Tensor<Scalar>([0])
  var isPrepared = false
  var configurationJSON: String { "{}" }

  init() {}
  init(configurationJSON: String) throws {}

  mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("mean", &mean)
  }

  mutating func prepare(on batch: [Int], of dataset: TrainingTestPoints, using generator: inout SeededGenerator) {
    isPrepared = true
  }

  func loss(on batch: [Int], of dataset: TrainingTestPoints, using generator: inout SeededGenerator) -> Tensor<Scalar> {
    let noisy = batch.map { Scalar(dataset.values[$0] + Double(generator.next() >> 11) * 0x1p-53 * 0.1) }
    let difference = Tensor(noisy) - mean
    return (difference * difference).mean() * Scalar(0.5)
  }

  func evaluate(on dataset: TrainingTestPoints, batchSize: Int, using generator: inout SeededGenerator) -> Double {
    let values = dataset.values.map { Double($0) - Double(mean.scalars[0]) }
    return values.reduce(0) { $0 + 0.5 * $1 * $1 } / Double(values.count)
  }
}

final class TrainingTests: XCTestCase {
  private var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("TrainingTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    AtomicWrite.injectedFailure = nil
    try? FileManager.default.removeItem(at: directory)
  }

  /// `count` random 8×8 images, seeded.
  private func images(count: Int, seed: UInt64) -> ImageDataset {
    var generator = SeededGenerator(seed: seed)
    let pixels = (0..<(count * 64)).map { _ in UInt8(truncatingIfNeeded: generator.next() >> 56) }
    return ImageDataset(pixels: pixels, labels: [UInt8](repeating: 0, count: count), rows: 8, columns: 8)
  }

  /// The tiny CDFlow of these tests: one level of one step, hidden 8.
  private func tinyModel<Scalar: TensorScalar>(_: Scalar.Type) -> CDFlow<Scalar> {
    CDFlow(configuration: CDFlowConfiguration(
      height: 8, width: 8, levels: 1, stepsPerLevel: 1, hiddenChannels: 8, seed: 3))
  }

  private func configuration(steps: Int) -> TrainingConfiguration {
    // A clip of 1 clips most steps, so clipping is part of what must repeat.
    TrainingConfiguration(
      optimizer: .adamW, learningRate: 3e-3, weightDecay: 1e-3, warmupSteps: 3, gradientClipNorm: 1,
      batchSize: 8, evaluateEvery: 3, evaluationCount: 8, evaluationBatchSize: 5, checkpointEvery: 0,
      recordEvery: 2, stop: .steps(steps), seed: 11)
  }

  private func losses(from events: [TrainingEvent]) -> [Int: Double] {
    var result: [Int: Double] = [:]
    for case .stepped(let record) in events { result[record.step] = record.loss }
    return result
  }

  func testResumedRunRepeatsTheUninterruptedRunBitForBit() throws {
    try check(Float.self)
    try check(Double.self)

    func check<Scalar: TensorScalar>(_: Scalar.Type) throws {
      let training = images(count: 40, seed: 1)  // 5 batches per epoch: the runs cross epochs
      let test = images(count: 12, seed: 2)
      var events: [TrainingEvent] = []
      var whole = try Trainer(
        model: tinyModel(Scalar.self), configuration: configuration(steps: 12), trainingSet: training, heldOutSet: test)
      let wholeSummary = try whole.run(checkpoint: nil) { events.append($0) }
      let uninterrupted = losses(from: events)
      XCTAssertEqual(uninterrupted.count, 12)

      let url = directory.appendingPathComponent("resume-\(Scalar.self).safetensors")
      events = []
      var first = try Trainer(
        model: tinyModel(Scalar.self), configuration: configuration(steps: 7), trainingSet: training, heldOutSet: test)
      _ = try first.run(checkpoint: url) { events.append($0) }
      var second = try Trainer<CDFlow<Scalar>>(resumingFrom: url, trainingSet: training, heldOutSet: test) {
        $0.stop = .steps(12)
      }
      XCTAssertEqual(second.state.step, 7)
      XCTAssertTrue(second.model.isPrepared)
      let resumedSummary = try second.run(checkpoint: url) { events.append($0) }
      let pieced = losses(from: events)

      XCTAssertEqual(pieced.count, 12)
      for step in 1...12 {
        XCTAssertEqual(
          uninterrupted[step]!.bitPattern, pieced[step]!.bitPattern,
          "\(Scalar.self) step \(step): \(uninterrupted[step]!) uninterrupted, \(pieced[step]!) resumed")
      }
      XCTAssertEqual(resumedSummary.steps, 12)
      XCTAssertEqual(resumedSummary.trainMetric, wholeSummary.trainMetric)
      XCTAssertEqual(resumedSummary.testMetric, wholeSummary.testMetric)
      for ((name, a), (_, b)) in zip(whole.model.parameters, second.model.parameters) {
        XCTAssertEqual(a.scalars, b.scalars, "\(Scalar.self) parameter \(name)")
      }
      // The losses moved: the run trained (a frozen model would repeat trivially).
      XCTAssertNotEqual(uninterrupted[1], uninterrupted[12])
    }
  }

  func testDivergenceStopsNamingTheStepAndKeepsTheLastCheckpoint() throws {
    try check(Float.self)
    try check(Double.self)

    func check<Scalar: TensorScalar>(_: Scalar.Type) throws {
      // 64 points, batches of 4: the point at position 4·5 of epoch 0's
      // order is in the sixth batch, so step 6 meets the NaN.
      var values = (0..<64).map { Double($0 % 7) }
      let order = BatchSampler.permutation(count: 64, seed: 5, epoch: 0)
      values[order[20]] = .nan
      let points = TrainingTestPoints(values: values)
      let configuration = TrainingConfiguration(
        learningRate: 0.1, warmupSteps: 0, gradientClipNorm: nil, batchSize: 4, evaluateEvery: 0,
        checkpointEvery: 2, stop: .steps(20), seed: 5)
      var trainer = try Trainer(
        model: TrainingTestMean<Scalar>(), configuration: configuration, trainingSet: points, heldOutSet: nil)
      let url = directory.appendingPathComponent("diverge-\(Scalar.self).safetensors")
      var saved: [Int: Data] = [:]
      var steps: [Int] = []
      XCTAssertThrowsError(try trainer.run(checkpoint: url) { event in
        switch event {
        case .checkpointed(let step, let path): saved[step] = try? Data(contentsOf: URL(fileURLWithPath: path))
        case .stepped(let record): steps.append(record.step)
        default: break
        }
      }) { error in
        guard case TrainingError.diverged(let step, let loss, _, let lastCheckpoint)? = error as? TrainingError else {
          return XCTFail("expected divergence, got \(error)")
        }
        XCTAssertEqual(step, 6)
        XCTAssertTrue(loss.isNaN)
        XCTAssertEqual(lastCheckpoint, 4)
        XCTAssertTrue("\(error)".contains("diverged at step 6"), "\(error)")
        XCTAssertTrue("\(error)".contains("checkpoint of step 4 is kept"), "\(error)")
      }
      XCTAssertEqual(steps, [1, 2, 3, 4, 5])
      XCTAssertEqual(Array(saved.keys).sorted(), [2, 4])
      XCTAssertEqual(try Data(contentsOf: url), saved[4], "the checkpoint changed after the divergence")
      XCTAssertEqual(try TrainingCheckpoint(contentsOf: url).state.step, 4)
    }
  }

  func testAFailedSaveLeavesThePreviousCheckpointIntact() throws {
    let points = TrainingTestPoints(values: (0..<16).map(Double.init))
    var configuration = TrainingConfiguration(
      batchSize: 4, evaluateEvery: 0, checkpointEvery: 0, stop: .steps(2), seed: 1)
    var trainer = try Trainer(
      model: TrainingTestMean<Double>(), configuration: configuration, trainingSet: points, heldOutSet: nil)
    let url = directory.appendingPathComponent("atomic.safetensors")
    _ = try trainer.run(checkpoint: url)
    let before = try Data(contentsOf: url)

    configuration.stop = .steps(4)
    trainer.configuration = configuration
    for failure in [AtomicWrite.Failure.afterPartialWrite, .beforeRename] {
      AtomicWrite.injectedFailure = failure
      XCTAssertThrowsError(try trainer.run(checkpoint: url)) { error in
        guard case TrainingError.cannotSaveCheckpoint(let path, let reason)? = error as? TrainingError else {
          return XCTFail("\(failure): expected a save failure, got \(error)")
        }
        XCTAssertEqual(path, url.standardizedFileURL.path)
        XCTAssertTrue(reason.contains("injected failure"), reason)
      }
      XCTAssertEqual(try Data(contentsOf: url), before, "\(failure) changed the previous checkpoint")
      XCTAssertEqual(
        try FileManager.default.contentsOfDirectory(atPath: directory.path), ["atomic.safetensors"],
        "\(failure) left a temporary file")
    }
    AtomicWrite.injectedFailure = nil

    let missing = directory.appendingPathComponent("no-such-directory/atomic.safetensors")
    XCTAssertThrowsError(try trainer.save(to: missing)) { error in
      guard case TrainingError.cannotSaveCheckpoint(let path, let reason)? = error as? TrainingError else {
        return XCTFail("expected a save failure, got \(error)")
      }
      XCTAssertEqual(path, missing.path)
      XCTAssertTrue(reason.contains("No such file or directory"), reason)
    }
    // The successful save after the failures replaces the file.
    try trainer.save(to: url)
    XCTAssertNotEqual(try Data(contentsOf: url), before)
  }

  func testCheckpointEvaluationRepeatsTheRunsTestFigure() throws {
    let training = images(count: 24, seed: 4)
    let test = images(count: 11, seed: 5)
    var trainer = try Trainer(
      model: tinyModel(Float.self), configuration: configuration(steps: 4), trainingSet: training, heldOutSet: test)
    let url = directory.appendingPathComponent("evaluate.safetensors")
    trainer.curveURL = directory.appendingPathComponent("curve.svg")
    let summary = try trainer.run(checkpoint: url)
    XCTAssertEqual(summary.testCount, 11)

    let checkpoint = try TrainingCheckpoint(contentsOf: url)
    let model = try checkpoint.model(CDFlow<Float>.self)
    XCTAssertEqual(model.evaluate(on: test, following: checkpoint.configuration), summary.testMetric)
    XCTAssertEqual(checkpoint.state.finalEvaluation, summary.testMetric)
    XCTAssertEqual(checkpoint.metadata["model"], "cdflow")
    XCTAssertEqual(try CDFlowConfiguration(jsonString: checkpoint.modelConfigurationJSON), model.configuration)
    // The same checkpoint loads as a plain layer too.
    var plain = tinyModel(Float.self)
    try plain.loadParameters(from: url)
    XCTAssertEqual(plain.parameters.map(\.value.scalars), model.parameters.map(\.value.scalars))
    // The curve holds the train points (every 2 steps) and the evaluations (steps 3 and 4).
    let series = checkpoint.state.curve.series
    XCTAssertEqual(series.map(\.name), ["train", "test"])
    XCTAssertEqual(series[0].steps, [2, 4])
    XCTAssertEqual(series[1].steps, [3, 4])
    let svg = try String(contentsOf: trainer.curveURL!, encoding: .utf8)
    XCTAssertTrue(svg.contains("train bits/dim") && svg.contains("test bits/dim"))
    XCTAssertThrowsError(try checkpoint.model(TrainingTestMean<Float>.self)) { error in
      XCTAssertEqual(
        error as? TrainingError, .modelMismatch(path: url.path, expected: "test-mean", found: "cdflow"))
    }
  }

  func testWarmUpRampsTheLearningRateAndStepsReportTheNormBeforeClipping() throws {
    // Points far from the initial mean 0: the gradient −(x − μ) has norm ≈ 100.
    let points = TrainingTestPoints(values: [Double](repeating: 100, count: 8))
    var records: [TrainingStepRecord] = []
    for optimizer in TrainingConfiguration.OptimizerKind.allCases {
      records = []
      var trainer = try Trainer(
        model: TrainingTestMean<Double>(),
        configuration: TrainingConfiguration(
          optimizer: optimizer, learningRate: 0.3, warmupSteps: 3, gradientClipNorm: 2, batchSize: 2,
          evaluateEvery: 0, checkpointEvery: 0, stop: .steps(5), seed: 2),
        trainingSet: points, heldOutSet: nil)
      let summary = try trainer.run(checkpoint: nil) { event in
        if case .stepped(let record) = event { records.append(record) }
      }
      // η(t) = 0.3·min(1, (t + 1)/3), LinearWarmup's ramp.
      for (record, expected) in zip(records, [0.1, 0.2, 0.3, 0.3, 0.3]) {
        XCTAssertEqual(record.learningRate, expected, accuracy: 1e-15, "\(optimizer) step \(record.step)")
      }
      XCTAssertEqual(records.map(\.step), [1, 2, 3, 4, 5])
      XCTAssertTrue(records.allSatisfy { $0.gradientNorm > 90 }, "\(records.map(\.gradientNorm))")
      XCTAssertEqual(summary.steps, 5)
      XCTAssertNil(summary.testMetric)
      XCTAssertEqual(summary.trainMetric, records.map(\.loss).reduce(0, +) / 5, accuracy: 1e-12)
    }
  }

  func testConfigurationAndDataProblemsAreTypedErrors() throws {
    let points = TrainingTestPoints(values: [1, 2, 3])
    XCTAssertThrowsError(
      try Trainer(
        model: TrainingTestMean<Double>(), configuration: TrainingConfiguration(batchSize: 4),
        trainingSet: points, heldOutSet: nil)
    ) { error in
      XCTAssertEqual(
        error as? TrainingError,
        .notEnoughData(problem: "the training set holds 3 items, fewer than one batch of 4"))
    }
    XCTAssertThrowsError(
      try Trainer(
        model: TrainingTestMean<Double>(), configuration: TrainingConfiguration(learningRate: -1, batchSize: 1),
        trainingSet: points, heldOutSet: nil)
    ) { error in
      XCTAssertEqual(error as? TrainingError, .invalidConfiguration(problem: "learning rate -1.0 must be finite and ≥ 0"))
    }
    let missing = directory.appendingPathComponent("absent.safetensors")
    XCTAssertThrowsError(
      try Trainer<TrainingTestMean<Double>>(resumingFrom: missing, trainingSet: points, heldOutSet: nil)
    ) { error in
      XCTAssertEqual(error as? TrainingError, .unreadableCheckpoint(path: missing.path, reason: "no such file"))
    }
  }
}
