import FlowModels
import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// Two parameters under different paths, for the optimizer's groups.
private struct LearningRateGroupTestLayer<Scalar: TensorScalar>: Layer {
  var first: Tensor<Scalar>
  var second: Tensor<Scalar>

  mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("block.first", &first)
    visitor.visit("block.second", &second)
  }
}

final class TrainingLearningRateGroupTests: XCTestCase {
  private var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "TrainingLearningRateGroupTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  func testGroupsMatchWholePathComponentsAndTheFirstGroupDecides() {
    let group = LearningRateGroup(path: "layers.1", multiplier: 0.5)
    XCTAssertTrue(group.contains(parameter: "layers.1"))
    XCTAssertTrue(group.contains(parameter: "layers.1.weight"))
    XCTAssertTrue(group.contains(parameter: "layers.1.inner.bias"))
    XCTAssertFalse(group.contains(parameter: "layers.10.weight"))
    XCTAssertFalse(group.contains(parameter: "layers.0.weight"))
    XCTAssertFalse(group.contains(parameter: "layers"))
    XCTAssertTrue(LearningRateGroup(path: "", multiplier: 2).contains(parameter: "anything.at.all"))

    let groups = [group, LearningRateGroup(path: "layers", multiplier: 3)]
    XCTAssertEqual(groups.multiplier(forParameter: "layers.1.weight"), 0.5)
    XCTAssertEqual(groups.multiplier(forParameter: "layers.2.weight"), 3)
    XCTAssertEqual(groups.multiplier(forParameter: "head.weight"), 1)
    XCTAssertEqual([LearningRateGroup]().multiplier(forParameter: "layers.1.weight"), 1)
  }

  /// Adam's and AdamW's first step, hand-derived: m̂ = g and v̂ = g², so
  /// p ← p·(1 − η'·λ) − η'·g/(|g| + ε) with η' = η·multiplier (λ only for AdamW).
  func testAdamAndAdamWScaleEachGroupsStep() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let start = LearningRateGroupTestLayer<Scalar>(first: Tensor([1, -2]), second: Tensor([0.5, 3]))
      let gradients: [String: Tensor<Scalar>] = [
        "block.first": Tensor([0.2, -4]), "block.second": Tensor([-1, 0.1]),
      ]
      let groups = [LearningRateGroup(path: "block.first", multiplier: 0.25)]
      func expected(_ parameter: [Double], _ gradient: [Double], rate: Double, decay: Double) -> Tensor<Scalar> {
        Tensor(zip(parameter, gradient).map { p, g in Scalar(p * (1 - rate * decay) - rate * g / (abs(g) + 1e-8)) })
      }

      var adamModel = start
      var adam = Adam<Scalar>(learningRate: 0.1)
      adam.learningRateGroups = groups
      adam.update(&adamModel, along: gradients)
      assertClose(adamModel.first, expected([1, -2], [0.2, -4], rate: 0.025, decay: 0), absolute: tolerance)
      assertClose(adamModel.second, expected([0.5, 3], [-1, 0.1], rate: 0.1, decay: 0), absolute: tolerance)

      var adamWModel = start
      var adamW = AdamW<Scalar>(learningRate: 0.1, weightDecay: 0.5)
      adamW.learningRateGroups = groups
      adamW.update(&adamWModel, along: gradients)
      assertClose(adamWModel.first, expected([1, -2], [0.2, -4], rate: 0.025, decay: 0.5), absolute: tolerance)
      assertClose(adamWModel.second, expected([0.5, 3], [-1, 0.1], rate: 0.1, decay: 0.5), absolute: tolerance)

      // No groups: every parameter at the learning rate.
      var plainModel = start
      var plain = Adam<Scalar>(learningRate: 0.1)
      plain.update(&plainModel, along: gradients)
      assertClose(plainModel.first, expected([1, -2], [0.2, -4], rate: 0.1, decay: 0), absolute: tolerance)
    }
    check(Double.self, tolerance: 1e-12)
    check(Float.self, tolerance: 1e-6)
  }

  func testConfigurationStoresTheGroupsAndOmitsThemWhenAbsent() throws {
    let groups = [LearningRateGroup(path: "transform.layers.1.layers.1.factors", multiplier: 0.5)]
    let configuration = TrainingConfiguration(stop: .steps(3), learningRateGroups: groups)
    let decoded = try JSONDecoder().decode(TrainingConfiguration.self, from: Data(configuration.jsonString.utf8))
    XCTAssertEqual(decoded, configuration)
    XCTAssertEqual(decoded.learningRateGroups, groups)
    XCTAssertFalse(TrainingConfiguration().jsonString.contains("learningRateGroups"))
    // A configuration written before the groups existed reads as having none.
    let old = TrainingConfiguration().jsonString
    XCTAssertNil(try JSONDecoder().decode(TrainingConfiguration.self, from: Data(old.utf8)).learningRateGroups)

    var bad = configuration
    bad.learningRateGroups = [try JSONDecoder().decode(
      LearningRateGroup.self, from: Data(#"{"path": "a", "multiplier": -1}"#.utf8))]
    XCTAssertEqual(bad.problem, "the learning-rate multiplier -1.0 of 'a' must be finite and ≥ 0")
  }

  /// A trainer whose circulant-diagonal mixers have multiplier 0 leaves
  /// them where they started while everything else trains, and a run
  /// resumed from its checkpoint keeps the groups.
  func testTrainerAppliesTheGroupsAndResumeKeepsThem() throws {
    var generator = SeededGenerator(seed: 4)
    func images(count: Int) -> ImageDataset {
      let pixels = (0..<(count * 64)).map { _ in UInt8(truncatingIfNeeded: generator.next() >> 56) }
      return ImageDataset(pixels: pixels, labels: [UInt8](repeating: 0, count: count), rows: 8, columns: 8)
    }
    let training = images(count: 16)
    let test = images(count: 8)
    let model = CDFlow<Float>(
      configuration: CDFlowConfiguration(height: 8, width: 8, levels: 1, stepsPerLevel: 2, hiddenChannels: 8, seed: 2))
    let groups = model.circulantDiagonalLearningRateGroups(scale: 0)
    XCTAssertEqual(groups.count, 2)
    let configuration = TrainingConfiguration(
      learningRate: 1e-2, warmupSteps: 0, batchSize: 8, evaluateEvery: 0, evaluationCount: 8, checkpointEvery: 0,
      stop: .steps(3), seed: 5, learningRateGroups: groups)
    var trainer = try Trainer(model: model, configuration: configuration, trainingSet: training, heldOutSet: test)
    let url = directory.appendingPathComponent("groups.safetensors")
    _ = try trainer.run(checkpoint: url) { _ in }

    let before = Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0.value.scalars) })
    var frozen = 0
    var moved = 0
    for (name, value) in trainer.model.parameters {
      if groups.multiplier(forParameter: name) == 0 {
        XCTAssertEqual(value.scalars, before[name], name)
        frozen += 1
      } else if value.scalars != before[name] {
        moved += 1
      }
    }
    XCTAssertEqual(frozen, 2 * 4)  // two mixers: two diagonals' log-magnitudes, a circulant's magnitudes and phases
    XCTAssertGreaterThan(moved, 0)

    let resumed = try Trainer<CDFlow<Float>>(resumingFrom: url, trainingSet: training, heldOutSet: test) {
      $0.stop = .steps(4)
    }
    XCTAssertEqual(resumed.configuration.learningRateGroups, groups)
  }
}
