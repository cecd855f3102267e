import FlowTensor
import Foundation
import XCTest
import _TestSupport

final class LearningRateScheduleTests: XCTestCase {
  func rates<Schedule: LearningRateSchedule>(_ schedule: Schedule, _ steps: [Int]) -> [Double] {
    steps.map { schedule.learningRate(atStep: $0) }
  }

  func assertRates(_ actual: [Double], _ expected: [Double], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, file: file, line: line)
    for (a, e) in zip(actual, expected) { assertClose(a, e, absolute: 1e-15, file: file, line: line) }
  }

  func testConstantAndLinearWarmup() {
    assertRates(rates(ConstantLearningRate(0.3), [0, 1, 1000]), [0.3, 0.3, 0.3])
    // peak·(t + 1)/4, then the peak.
    assertRates(
      rates(LinearWarmup(peak: 0.1, warmupSteps: 4), [0, 1, 2, 3, 4, 100]),
      [0.1 / 4, 0.1 * 2 / 4, 0.1 * 3 / 4, 0.1, 0.1, 0.1])
    assertRates(rates(LinearWarmup(peak: 0.1, warmupSteps: 1), [0, 5]), [0.1, 0.1])
  }

  func testCosineDecayAtChosenSteps() {
    let schedule = CosineDecay(initial: 1, minimum: 0.1, decaySteps: 10)
    // 0.1 + 0.9·(1 + cos(π·t/10))/2: cos 0 = 1, cos(π/5) = (1 + √5)/4, cos(π/2) = 0, cos π = −1.
    assertRates(
      rates(schedule, [0, 2, 5, 10, 11, 50]),
      [1, 0.1 + 0.45 * (1 + (1 + 5.0.squareRoot()) / 4), 0.55, 0.1, 0.1, 0.1])
  }

  /// The closed form equals PyTorch's recursive CosineAnnealingLR update
  /// (`get_lr`), applied step by step from the initial rate.
  func testCosineDecayMatchesTorchRecursion() {
    let (initial, minimum, total) = (0.2, 0.01, 25)
    let schedule = CosineDecay(initial: initial, minimum: minimum, decaySteps: total)
    var rate = initial
    for t in 1...total {
      let (now, before) = (Double.pi * Double(t) / Double(total), Double.pi * Double(t - 1) / Double(total))
      rate = (1 + cos(now)) / (1 + cos(before)) * (rate - minimum) + minimum
      assertClose(schedule.learningRate(atStep: t), rate, absolute: 1e-14, "step \(t)")
    }
  }

  func testWarmupThenCosineDecay() {
    let schedule = WarmupCosineDecay(peak: 1, minimum: 0, warmupSteps: 4, totalSteps: 12)
    // Warm-up 1/4 … 1, then (1 + cos(π·(t − 4)/8))/2: t = 8 is halfway.
    assertRates(
      rates(schedule, [0, 1, 2, 3, 4, 6, 8, 12, 13]),
      [0.25, 0.5, 0.75, 1, 1, (1 + 2.0.squareRoot() / 2) / 2, 0.5, 0, 0])
    let noWarmup = WarmupCosineDecay(peak: 0.5, minimum: 0.1, warmupSteps: 0, totalSteps: 8)
    let cosine = CosineDecay(initial: 0.5, minimum: 0.1, decaySteps: 8)
    assertRates(rates(noWarmup, Array(0...9)), rates(cosine, Array(0...9)))
  }

  /// `update(_:along:schedule:)` uses the schedule's rate at the step about to be taken.
  func testOptimizerFollowsTheSchedule() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var model = TwoParameterModel<Scalar>(weight: Tensor([1]), bias: Tensor([0]))
      var optimizer = SGD<Scalar>(learningRate: 1)
      let schedule = LinearWarmup(peak: 0.4, warmupSteps: 4)
      var expected = 1.0
      for step in 0..<6 {
        optimizer.update(&model, along: ["weight": Tensor([1])], schedule: schedule)
        expected -= 0.4 * min(1, Double(step + 1) / 4)
        XCTAssertEqual(optimizer.learningRate, schedule.learningRate(atStep: step))
        assertClose(model.weight, Tensor([Scalar(expected)]), absolute: 1e-6, "step \(step)")
      }
    }
    check(Float.self)
    check(Double.self)
  }
}
