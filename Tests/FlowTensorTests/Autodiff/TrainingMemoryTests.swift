import Foundation
import FlowTensor
import XCTest
import _TestSupport

/// Issue 3, item 9: training does not leak. The graph of each step must be
/// freed with it, and buffers recycled, so that resident memory stays flat.
final class TrainingMemoryTests: XCTestCase {
  /// The resident set size of this process, in bytes, from /proc/self/statm.
  static func residentBytes() -> Int {
    let text = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
  }

  /// 2,000 steps of a small perceptron (forward, backward, SGD step): the
  /// resident size after step 2,000 is within 10% of the size after the
  /// 200-step warm-up.
  func testResidentMemoryStaysFlatOverTwoThousandSteps() {
    var model = Perceptron<Float>(sizes: [16, 64, 64], seed: 5)
    var generator = SeededGenerator(seed: 6)
    let x = Tensor<Float>.randomNormal(shape: [32, 16], using: &generator)
    let target = Tensor<Float>.randomNormal(shape: [32, 1], using: &generator)
    var afterWarmUp = 0
    var losses: [Float] = []
    for step in 1...2_000 {
      let (loss, gradients) = valueWithGradient(at: model) { model in
        let error = model(x) - target
        return (error * error).sum() / 32
      }
      model.updateParameters { name, parameter in parameter = parameter - 0.01 * gradients[name]! }
      losses.append(loss.scalar)
      if step == 200 { afterWarmUp = Self.residentBytes() }
    }
    let final = Self.residentBytes()
    XCTAssertGreaterThan(afterWarmUp, 0, "/proc/self/statm is readable")
    XCTAssertLessThanOrEqual(
      Double(final), 1.1 * Double(afterWarmUp),
      "resident memory grew from \(afterWarmUp) to \(final) bytes between steps 200 and 2000")
    XCTAssertLessThan(losses.last!, losses.first!, "the model trained")
  }
}
