import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

final class FlowTests: XCTestCase {
  /// A flow of a diagonal affine map over a standard normal is a Gaussian
  /// with mean −shift·exp(−s) and standard deviation exp(−s): log p(x) has a
  /// closed form, and sampling, log-probabilities and the sample/log-prob
  /// pass agree with it.
  func testAffineFlowIsTheGaussianItDefines() {
    var generator = SeededGenerator(seed: 3)
    let affine = DiagonalAffine<Double>(size: 2, using: &generator)
    let flow = Flow(base: StandardNormal<Double>(eventShape: [2]), transform: affine)
    let x = Tensor<Double>.randomNormal(shape: [5, 2], using: &generator)
    let scale = exp(-affine.logScale)
    let mean = -affine.shift * scale
    let standardized = (x - mean) / scale
    let expected = (standardized * standardized).sum(alongAxes: [1]) * -0.5
      - log(scale).sum() - Double.log(2 * Double.pi)
    assertClose(flow.logProbability(x), expected, absolute: 1e-12)

    var sampler = SeededGenerator(seed: 4)
    let (samples, logProbability) = flow.sampleWithLogProbability(count: 7, using: &sampler)
    assertClose(logProbability, flow.logProbability(samples), absolute: 1e-12)
    var again = SeededGenerator(seed: 4)
    assertIdentical(flow.sample(count: 7, using: &again), samples)
    XCTAssertEqual(flow.parameters.map(\.name), ["transform.logScale", "transform.shift"])
  }

  /// Chain parameters are named by position, and Inverse swaps directions.
  func testChainNamesAndInverse() {
    var generator = SeededGenerator(seed: 5)
    let first = DiagonalAffine<Double>(size: 3, using: &generator)
    let second = DiagonalAffine<Double>(size: 3, using: &generator)
    let chain = Chain<Double>([first, Inverse(second)])
    XCTAssertEqual(
      chain.parameters.map(\.name),
      ["layers.0.logScale", "layers.0.shift", "layers.1.base.logScale", "layers.1.base.shift"])
    let x = Tensor<Double>.randomNormal(shape: [2, 3], using: &generator)
    let manual = second.inverse(first.forward(x).output)
    let (y, logDeterminant) = chain.forward(x)
    assertClose(y, manual.output, absolute: 1e-14)
    assertClose(logDeterminant, first.forward(x).logDeterminant + manual.logDeterminant, absolute: 1e-14)
  }

  /// Validation names the layer whose output first went bad.
  func testValidationNamesTheFailingLayer() throws {
    var generator = SeededGenerator(seed: 6)
    var exploding = DiagonalAffine<Double>(size: 2, using: &generator)
    exploding.logScale = Tensor([800, 0])  // exp(800) overflows
    let chain = Chain<Double>([DiagonalAffine<Double>(size: 2, using: &generator), exploding])
    let x = Tensor<Double>([[1, 2]])
    XCTAssertThrowsError(try chain.validatedForward(x, name: "flow")) { error in
      guard let error = error as? NonFiniteValueError else { return XCTFail("\(error)") }
      XCTAssertEqual(error.layer, "flow.layers.1 (DiagonalAffine<Double>)")
      XCTAssertEqual(error.quantity, "output")
      XCTAssertEqual(error.index, [0, 0])
    }
    XCTAssertThrowsError(try chain.validatedForward(Tensor([[Double.nan, 0]]), name: "flow")) { error in
      XCTAssertEqual((error as? NonFiniteValueError)?.description, "flow.layers.0 (DiagonalAffine<Double>): forward input is not finite (nan at [0, 0])")
    }
    let fine = try Chain<Double>([DiagonalAffine<Double>(size: 2, using: &generator)]).validatedForward(x)
    XCTAssertEqual(fine.output.shape, [1, 2])
  }
}
