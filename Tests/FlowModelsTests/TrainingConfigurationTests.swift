import FlowModels
import Foundation
import XCTest

final class TrainingConfigurationTests: XCTestCase {
  func testConfigurationJSONReadsBackAndNamesItsStop() throws {
    for stop in [TrainingConfiguration.Stop.steps(1200), .timeBudget(seconds: 90.5)] {
      let configuration = TrainingConfiguration(
        optimizer: .adamW, learningRate: 2e-4, gradientClipNorm: nil, finalEvaluationCount: 500, stop: stop,
        seed: UInt64.max)
      let text = configuration.jsonString
      XCTAssertEqual(try JSONDecoder().decode(TrainingConfiguration.self, from: Data(text.utf8)), configuration)
      XCTAssertTrue(text.contains("\"optimizer\":\"adamw\""), text)
      XCTAssertTrue(text.contains("\"seed\":18446744073709551615"), text)
    }
    XCTAssertTrue(TrainingConfiguration(stop: .steps(3)).jsonString.contains("\"stop\":{\"steps\":3}"))
    XCTAssertTrue(
      TrainingConfiguration(stop: .timeBudget(seconds: 2.5)).jsonString.contains("\"stop\":{\"timeBudgetSeconds\":2.5}"))
  }

  func testProblemsAreNamed() {
    XCTAssertNil(TrainingConfiguration().problem)
    XCTAssertEqual(TrainingConfiguration(stop: .steps(0)).problem, "steps 0 must be ≥ 1")
    XCTAssertEqual(
      TrainingConfiguration(stop: .timeBudget(seconds: .infinity)).problem,
      "time budget inf s must be positive and finite")
    XCTAssertEqual(TrainingConfiguration(gradientClipNorm: 0).problem, "gradient clip norm 0.0 must be > 0")
    XCTAssertEqual(TrainingConfiguration(evaluationCount: 0).problem, "evaluation count 0 must be ≥ 1")
  }

  /// The schedule: linear warm-up to the peak, then either the peak or a
  /// cosine decay written out here, η_min + (η − η_min)(1 + cos(π(t − W)/(N − W)))/2,
  /// held at η_min after step N.
  func testLearningRateScheduleWarmsUpThenDecays() {
    let constant = TrainingConfiguration(learningRate: 1e-3, warmupSteps: 10)
    XCTAssertEqual(constant.learningRate(atStep: 0), 1e-4, accuracy: 1e-15)
    XCTAssertEqual(constant.learningRate(atStep: 9), 1e-3, accuracy: 1e-15)
    XCTAssertEqual(constant.learningRate(atStep: 5000), 1e-3)
    XCTAssertEqual(TrainingConfiguration(learningRate: 2e-3, warmupSteps: 1).learningRate(atStep: 0), 2e-3)

    let decaying = TrainingConfiguration(learningRate: 1e-3, warmupSteps: 10, decaySteps: 110, finalLearningRate: 1e-5)
    XCTAssertEqual(decaying.learningRate(atStep: 0), 1e-4, accuracy: 1e-15)
    for step in [10, 35, 60, 85, 110] {
      let expected = 1e-5 + (1e-3 - 1e-5) * (1 + cos(Double.pi * Double(step - 10) / 100)) / 2
      XCTAssertEqual(decaying.learningRate(atStep: step), expected, accuracy: 1e-15, "step \(step)")
    }
    XCTAssertEqual(decaying.learningRate(atStep: 60), (1e-3 + 1e-5) / 2, accuracy: 1e-15)
    XCTAssertEqual(decaying.learningRate(atStep: 500), 1e-5, accuracy: 1e-18)
    let toZero = TrainingConfiguration(learningRate: 1e-3, warmupSteps: 0, decaySteps: 4)
    XCTAssertEqual(toZero.learningRate(atStep: 0), 1e-3)
    XCTAssertEqual(toZero.learningRate(atStep: 4), 0, accuracy: 1e-18)
  }

  /// Without a decay the JSON has no decay keys (checkpoints written before
  /// the option read back unchanged); with one, it reads back.
  func testDecayKeysAppearOnlyWhenSet() throws {
    let plain = TrainingConfiguration().jsonString
    XCTAssertFalse(plain.contains("decaySteps") || plain.contains("finalLearningRate"), plain)
    let decaying = TrainingConfiguration(decaySteps: 500, finalLearningRate: 1e-6)
    XCTAssertEqual(
      try JSONDecoder().decode(TrainingConfiguration.self, from: Data(decaying.jsonString.utf8)), decaying)
    XCTAssertEqual(
      TrainingConfiguration(warmupSteps: 100, decaySteps: 100).problem,
      "decay steps 100 must be more than the warm-up steps 100")
    XCTAssertEqual(
      TrainingConfiguration(learningRate: 1e-3, decaySteps: 500, finalLearningRate: 2e-3).problem,
      "final learning rate 0.002 must be in 0…0.001 (the peak)")
    XCTAssertEqual(TrainingConfiguration(finalLearningRate: 0).problem, "a final learning rate needs decay steps")
  }
}
