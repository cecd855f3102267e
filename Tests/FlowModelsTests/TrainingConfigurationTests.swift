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
}
