@testable import FlowModels
import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// `RectangularFlowModel` and `RectangularTrainingSet` on the shared `Trainer`.
final class RectangularTrainingTests: XCTestCase {
  private var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "RectangularTrainingTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  private func tinyModel<Scalar: TensorScalar>(
    _: Scalar.Type, estimator: RectangularFlowEstimator, warmup: LikelihoodWarmup = LikelihoodWarmup(start: 0, end: 10)
  ) -> RectangularFlowModel<Scalar> {
    RectangularFlowModel(
      configuration: RectangularFlowConfiguration(
        ambientSize: 3, latentSize: 2, couplingLayers: 2, hiddenSizes: [8], priorCouplingLayers: 2,
        priorHiddenSizes: [6], seed: 4),
      objective: RectangularFlowObjective(estimator: estimator, reconstructionWeight: 5, warmup: warmup))
  }

  private func configuration(steps: Int) -> TrainingConfiguration {
    TrainingConfiguration(
      learningRate: 1e-2, warmupSteps: 0, gradientClipNorm: nil, batchSize: 8, evaluateEvery: 5,
      evaluationCount: 10, evaluationBatchSize: 7, checkpointEvery: 3, recordEvery: 2, stop: .steps(steps), seed: 9)
  }

  private func losses(from events: [TrainingEvent]) -> [Int: Double] {
    var result: [Int: Double] = [:]
    for case .stepped(let record) in events { result[record.step] = record.loss }
    return result
  }

  /// Seven steps, a checkpoint, five more from it: the losses, the
  /// parameters and the warm-up's position are those of twelve steps in one
  /// go, for each estimator (the stochastic one draws probes from the
  /// trainer's generator) and the likelihood weight still ramping across the cut.
  func testResumedRunRepeatsTheUninterruptedRunBitForBit() throws {
    for estimator in [RectangularFlowEstimator.exact, .stochastic(HutchinsonSettings(probes: 2)), .twoStep] {
      try check(Float.self, estimator)
      try check(Double.self, estimator)
    }

    func check<Scalar: TensorScalar>(_: Scalar.Type, _ estimator: RectangularFlowEstimator) throws {
      var generator = SeededGenerator(seed: 3)
      let training = RectangularTrainingSet.sampling(.sphere, count: 40, using: &generator)  // 5 batches per epoch
      let test = RectangularTrainingSet.sampling(.sphere, count: 12, using: &generator)
      var events: [TrainingEvent] = []
      var whole = try Trainer(
        model: tinyModel(Scalar.self, estimator: estimator), configuration: configuration(steps: 12),
        trainingSet: training, heldOutSet: test)
      let wholeSummary = try whole.run(checkpoint: nil) { events.append($0) }
      let uninterrupted = losses(from: events)
      XCTAssertEqual(uninterrupted.count, 12)
      XCTAssertEqual(whole.model.step, 12)

      let url = directory.appendingPathComponent("resume-\(Scalar.self)-\(estimator).safetensors")
      events = []
      var first = try Trainer(
        model: tinyModel(Scalar.self, estimator: estimator), configuration: configuration(steps: 7),
        trainingSet: training, heldOutSet: test)
      _ = try first.run(checkpoint: url) { events.append($0) }
      var second = try Trainer<RectangularFlowModel<Scalar>>(resumingFrom: url, trainingSet: training, heldOutSet: test) {
        $0.stop = .steps(12)
      }
      XCTAssertEqual(second.state.step, 7)
      XCTAssertEqual(second.model.step, 7, "the warm-up resumes at the checkpoint's step")
      XCTAssertEqual(second.model.objective, first.model.objective)
      XCTAssertEqual(second.model.configuration, first.model.configuration)
      let resumedSummary = try second.run(checkpoint: url) { events.append($0) }
      let pieced = losses(from: events)

      XCTAssertEqual(pieced.count, 12)
      for step in 1...12 {
        XCTAssertEqual(
          uninterrupted[step]!.bitPattern, pieced[step]!.bitPattern,
          "\(Scalar.self) \(estimator) step \(step): \(uninterrupted[step]!) uninterrupted, \(pieced[step]!) resumed")
      }
      XCTAssertEqual(resumedSummary.steps, 12)
      XCTAssertEqual(resumedSummary.testMetric, wholeSummary.testMetric)
      XCTAssertTrue(resumedSummary.testMetric?.isFinite ?? false)
      for ((name, a), (_, b)) in zip(whole.model.parameters, second.model.parameters) {
        XCTAssertEqual(a.scalars, b.scalars, "\(Scalar.self) \(estimator) parameter \(name)")
      }
      // The losses moved: the run trained.
      XCTAssertNotEqual(uninterrupted[1], uninterrupted[12])
    }
  }

  /// The model's loss is the flow's objective at the step it has counted,
  /// and counting advances by one per loss.
  func testLossIsTheObjectiveAtTheCountedStep() throws {
    try check(Float.self, tolerance: 1e-5)
    try check(Double.self, tolerance: 1e-12)

    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) throws {
      var generator = SeededGenerator(seed: 5)
      let data = RectangularTrainingSet.sampling(.circle, count: 20, using: &generator)
      let objective = RectangularFlowObjective(
        estimator: .exact, reconstructionWeight: 7, warmup: LikelihoodWarmup(start: 0, end: 4))
      let configuration = RectangularFlowConfiguration(
        ambientSize: 2, latentSize: 1, couplingLayers: 2, hiddenSizes: [5], seed: 2)
      let model = RectangularFlowModel<Scalar>(configuration: configuration, objective: objective, step: 2)
      let batch = [3, 0, 17, 9]
      var modelGenerator = SeededGenerator(seed: 1)
      let loss = model.loss(on: batch, of: data, using: &modelGenerator)
      XCTAssertEqual(model.step, 3)
      var flowGenerator = SeededGenerator(seed: 1)
      let x = data.batch(batch, as: Scalar.self, using: &flowGenerator)
      let expected = try model.flow.loss(on: x, objective: objective, step: 2, using: &flowGenerator)
      XCTAssertEqual(expected.likelihoodWeight, 0.5)
      assertClose(loss.scalar, expected.value.scalar, absolute: tolerance, relative: tolerance)
    }
  }

  /// The chunked evaluation is the evaluation of the whole set in one pass.
  func testEvaluationInBatchesEqualsOnePass() throws {
    try check(Float.self, tolerance: 1e-5)
    try check(Double.self, tolerance: 1e-12)

    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Double) throws {
      var generator = SeededGenerator(seed: 8)
      let data = RectangularTrainingSet.sampling(.sphere, count: 23, using: &generator)
      let model = tinyModel(Scalar.self, estimator: .exact)
      var unused = SeededGenerator(seed: 0)
      let whole = try model.flow.evaluate(data.batch(Array(0..<23), as: Scalar.self, using: &unused))
      let chunked = try model.evaluation(on: data, batchSize: 5, using: &unused)
      assertClose(chunked.negativeLogLikelihood, whole.negativeLogLikelihood, absolute: tolerance, relative: tolerance)
      assertClose(chunked.reconstructionError, whole.reconstructionError, absolute: tolerance, relative: tolerance)
      assertClose(
        model.evaluate(on: data, batchSize: 4, using: &unused), whole.negativeLogLikelihood, absolute: tolerance,
        relative: tolerance)
    }
  }

  /// Points drawn once: the set holds the distribution's samples of the
  /// seed in order, a prefix keeps the first ones, and a JSON round trip of
  /// the model keeps its architecture, objective and step.
  func testManifoldSetAndConfigurationRoundTrip() throws {
    var generator = SeededGenerator(seed: 6)
    let data = RectangularTrainingSet.sampling(.circle, count: 9, using: &generator)
    var reference = SeededGenerator(seed: 6)
    let points = VonMisesCircle().samplePoints(count: 9, using: &reference)
    XCTAssertEqual(data.count, 9)
    XCTAssertEqual(data.ambientSize, 2)
    XCTAssertEqual(data.prefix(4).count, 4)
    XCTAssertEqual(data.prefix(40).count, 9)
    var unused = SeededGenerator(seed: 0)
    XCTAssertEqual(data.prefix(4).batch([3, 1], as: Double.self, using: &unused).scalars, points[3] + points[1])

    let model = RectangularFlowModel<Double>(
      configuration: RectangularFlowConfiguration(ambientSize: 2, latentSize: 1, seed: 3),
      objective: RectangularFlowObjective(
        estimator: .stochastic(HutchinsonSettings(probes: 3, distribution: .rademacher, tolerance: 1e-4)),
        reconstructionWeight: 20, warmup: LikelihoodWarmup(start: 0, end: 100)),
      step: 41)
    let copy = try RectangularFlowModel<Double>(configurationJSON: model.configurationJSON)
    XCTAssertEqual(copy.configuration, model.configuration)
    XCTAssertEqual(copy.objective, model.objective)
    XCTAssertEqual(copy.step, 41)
    XCTAssertThrowsError(try RectangularFlowModel<Double>(configurationJSON: "{\"step\": 1}"))
  }
}
