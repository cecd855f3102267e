import FlowLayers
import FlowTensor
import XCTest

/// The README's flow example, so that it keeps compiling and doing what it says.
final class ReadmeExampleTests: XCTestCase {
  func testReadmeFlowExample() {
    var generator = SeededGenerator(seed: 0)
    let x = Tensor<Double>.randomNormal(shape: [8, 2], using: &generator)
    let flow = Flow(
      base: StandardNormal<Double>(eventShape: [2]),
      transform: Chain<Double>([ActNorm(channels: 2), ReversePermutation(), ScalarAffine(scale: 2, learnable: true)]))
    let logDensity = flow.logProbability(x)
    let samples = flow.sample(count: 16, using: &generator)
    let report = checkBijector(flow.transform, input: x)
    XCTAssertEqual(logDensity.shape, [8])
    XCTAssertEqual(samples.shape, [16, 2])
    XCTAssertTrue(report.passed, "\(report)")
  }
}
