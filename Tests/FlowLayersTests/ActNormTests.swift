import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

final class ActNormTests: XCTestCase {
  /// After `initialize(from:)` every channel of the output has mean 0 and
  /// (population) variance 1 over the batch and the pixels, whatever the
  /// channel's own mean and spread.
  func testInitializationStandardisesEveryChannel() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 7)
      for shape in [[6, 3], [3, 3, 2, 4], [1, 2, 5, 1]] {
        // Channel c has mean 3c − 2 and standard deviation 0.5 + c.
        let channelShape = [shape[1]] + shape.dropFirst(2).map { _ in 1 }
        let spread = (Tensor<Scalar>.arange(to: Scalar(shape[1])) + Scalar(0.5)).reshaped(to: channelShape)
        let centre = (Tensor<Scalar>.arange(to: Scalar(shape[1])) * Scalar(3) - Scalar(2)).reshaped(to: channelShape)
        let x = Tensor<Scalar>.randomNormal(shape: shape, using: &generator) * spread + centre
        var layer = ActNorm<Scalar>(channels: shape[1])
        XCTAssertFalse(layer.isInitialized)
        let (y, logDeterminant) = layer.initialize(from: x)
        XCTAssertTrue(layer.isInitialized)
        let axes = [0] + Array(2..<shape.count)
        assertClose(y.mean(alongAxes: axes), Tensor.zeros(shape: [shape[1]]), absolute: tolerance, "\(shape)")
        assertClose(y.variance(alongAxes: axes), Tensor.ones(shape: [shape[1]]), absolute: tolerance, "\(shape)")
        // The initialising call returns the forward pass with the new parameters.
        let (forwardOutput, forwardLogDeterminant) = layer.forward(x)
        assertIdentical(y, forwardOutput)
        assertIdentical(logDeterminant, forwardLogDeterminant)
      }
    }
    check(Double.self, tolerance: 1e-12)
    check(Float.self, tolerance: 2e-5)
  }

  /// Hand-derived parameters: channel 0 holds {1, 3} (mean 2, σ 1),
  /// channel 1 holds {0, 4} (mean 2, σ 2); a constant channel is centred
  /// with log-scale 0.
  func testInitializationOnHandCheckedBatch() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var layer = ActNorm<Scalar>(channels: 3)
      let x = Tensor<Scalar>([[1, 0, 5], [3, 4, 5]])
      let (y, logDeterminant) = layer.initialize(from: x)
      let log2 = Scalar.log(2)
      assertClose(layer.logScale, Tensor([0, -log2, 0]), absolute: tolerance)
      assertClose(layer.bias, Tensor([-2, -1, -5]), absolute: tolerance)
      assertClose(y, Tensor([[-1, -1, 0], [1, 1, 0]]), absolute: tolerance)
      assertClose(logDeterminant, Tensor([-log2, -log2]), absolute: tolerance)
    }
    check(Double.self, tolerance: 1e-15)
    check(Float.self, tolerance: 1e-6)
  }

  /// On images the log-determinant counts every pixel: one channel holding
  /// {0, 2, 4, 6} (mean 3, variance 5) on a 2×2 image gives
  /// 4·(−½ log 5) = −2 log 5.
  func testImageLogDeterminantCountsPixels() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var layer = ActNorm<Scalar>(channels: 1)
      let x = Tensor<Scalar>(shape: [1, 1, 2, 2], scalars: [0, 2, 4, 6])
      let (y, logDeterminant) = layer.initialize(from: x)
      let root5 = Scalar.sqrt(5)
      assertClose(y, Tensor(shape: [1, 1, 2, 2], scalars: [-3 / root5, -1 / root5, 1 / root5, 3 / root5]), absolute: tolerance)
      assertClose(logDeterminant, Tensor([-2 * Scalar.log(5)]), absolute: tolerance)
      let (back, inverseLogDeterminant) = layer.inverse(y)
      assertClose(back, x, absolute: tolerance * 10)
      assertClose(inverseLogDeterminant, Tensor([2 * Scalar.log(5)]), absolute: tolerance)
    }
    check(Double.self, tolerance: 1e-14)
    check(Float.self, tolerance: 1e-6)
  }

  /// Only the first batch initialises: a second call keeps the parameters
  /// and returns the forward pass of its own batch.
  func testLaterInitializationKeepsParameters() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 3)
      var layer = ActNorm<Scalar>(channels: 4)
      _ = layer.initialize(from: Tensor.randomNormal(shape: [5, 4, 2, 2], using: &generator))
      let (logScale, bias) = (layer.logScale, layer.bias)
      let second = Tensor<Scalar>.randomNormal(shape: [3, 4, 2, 2], mean: 5, using: &generator)
      let (y, logDeterminant) = layer.initialize(from: second)
      assertIdentical(layer.logScale, logScale)
      assertIdentical(layer.bias, bias)
      assertIdentical(y, layer.forward(second).output)
      assertIdentical(logDeterminant, layer.forward(second).logDeterminant)
    }
    check(Double.self)
    check(Float.self)
  }

  /// Given parameters count as initialised; the map is x·exp(s) + b, and a
  /// one-sample batch (zero variance everywhere) only centres.
  func testGivenParametersAndSingleSample() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var given = ActNorm<Scalar>(logScale: Tensor([0, Scalar.log(3)]), bias: Tensor([1, -1]))
      XCTAssertTrue(given.isInitialized)
      let x = Tensor<Scalar>([[2, 2], [-1, 0]])
      let (y, logDeterminant) = given.initialize(from: x)
      assertClose(y, Tensor([[3, 5], [0, -1]]), absolute: tolerance)
      assertClose(logDeterminant, Tensor([Scalar.log(3), Scalar.log(3)]), absolute: tolerance)
      XCTAssertEqual(given.parameters.map(\.name), ["logScale", "bias"])

      var single = ActNorm<Scalar>(channels: 2)
      let (centred, singleLogDeterminant) = single.initialize(from: Tensor([[4, -2]]))
      assertIdentical(centred, Tensor.zeros(shape: [1, 2]))
      assertIdentical(single.logScale, Tensor.zeros(shape: [2]))
      assertIdentical(singleLogDeterminant, Tensor.zeros(shape: [1]))
    }
    check(Double.self, tolerance: 1e-15)
    check(Float.self, tolerance: 1e-6)
  }

  /// An empty batch passes through both directions with an empty log-determinant.
  func testEmptyBatch() {
    let layer = ActNorm<Double>(logScale: Tensor([0.5, -0.5]), bias: Tensor([1, 2]))
    let empty = Tensor<Double>.zeros(shape: [0, 2, 3, 3])
    let (y, logDeterminant) = layer.forward(empty)
    XCTAssertEqual(y.shape, [0, 2, 3, 3])
    XCTAssertEqual(logDeterminant.shape, [0])
    let (x, inverseLogDeterminant) = layer.inverse(y)
    XCTAssertEqual(x.shape, [0, 2, 3, 3])
    XCTAssertEqual(inverseLogDeterminant.shape, [0])
  }

  /// The inverse is differentiable in its input and in both parameters.
  func testInverseDerivatives() {
    var generator = SeededGenerator(seed: 11)
    let y = Tensor<Double>.randomNormal(shape: [2, 3, 2, 2], using: &generator)
    let logScale = Tensor<Double>.randomNormal(shape: [3], using: &generator)
    let bias = Tensor<Double>.randomNormal(shape: [3], using: &generator)
    let body: ([Tensor<Double>]) -> Tensor<Double> = { inputs in
      let (x, logDeterminant) = ActNorm(logScale: inputs[1], bias: inputs[2]).inverse(inputs[0])
      return x.sum(alongAxes: [1, 2, 3]) + logDeterminant
    }
    let reverse = checkVJP(of: body, at: [y, logScale, bias])
    XCTAssertTrue(reverse.passed, "\(reverse)")
    let forward = checkJVP(of: body, at: [y, logScale, bias])
    XCTAssertTrue(forward.passed, "\(forward)")
  }
}
