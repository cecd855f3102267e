import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

final class MultiScaleTests: XCTestCase {
  /// With a standard-normal prior the split only marks the cut: the
  /// identity, log-determinant 0, no parameters, any event shape.
  func testStandardSplitIsTheIdentity() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 11)
      var split = MultiScaleSplit<Scalar>(channels: 4, prior: .standardNormal)
      XCTAssertTrue(split.parameters.isEmpty)
      for shape in [[2, 4, 3, 3], [3, 4], [1, 4, 5]] {
        let x = Tensor<Scalar>.randomNormal(shape: shape, using: &generator)
        let (y, logDeterminant) = split.forward(x)
        XCTAssertEqual(y.shape, shape)
        XCTAssertEqual(y.scalars, x.scalars)
        assertClose(logDeterminant, Tensor<Scalar>.zeros(shape: [shape[0]]))
        XCTAssertEqual(split.inverse(x).output.scalars, x.scalars)
      }
      _ = split.initialize(from: Tensor<Scalar>.zeros(shape: [1, 4]))
    }
    check(Float.self)
    check(Double.self)
  }

  /// The learned prior's convolution starts at zero, so μ = 0 and log σ = 0:
  /// the standard split, in both directions.
  func testLearnedSplitStartsAsTheStandardSplit() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 12)
      let learned = MultiScaleSplit<Scalar>(channels: 6, prior: .learned)
      XCTAssertEqual(learned.parameters.map(\.name), ["filter", "bias"])
      XCTAssertEqual(learned.parameters.map(\.value.shape), [[6, 3, 3, 3], [6]])
      let standard = MultiScaleSplit<Scalar>(channels: 6, prior: .standardNormal)
      let x = Tensor<Scalar>.randomNormal(shape: [2, 6, 3, 4], using: &generator)
      let (y, logDeterminant) = learned.forward(x)
      XCTAssertEqual(y.scalars, standard.forward(x).output.scalars)
      XCTAssertEqual(logDeterminant.scalars, standard.forward(x).logDeterminant.scalars)
      let (back, inverseLogDeterminant) = learned.inverse(x)
      XCTAssertEqual(back.scalars, x.scalars)
      XCTAssertEqual(inverseLogDeterminant.scalars, [0, 0])
    }
    check(Float.self)
    check(Double.self)
  }

  /// Two channels on a 1×2 image. The filter's right-neighbour tap feeds μ
  /// (so μ = [x₁ at pixel 1, zero padding]) and its centre tap, halved,
  /// feeds log σ: with x₁ = [3, 5] and x₂ = [10, 20], μ = [5, 0],
  /// log σ = [1.5, 2.5], z₂ = [5·e^−1.5, 20·e^−2.5], log-det = −4.
  func testLearnedSplitHandExample() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var split = MultiScaleSplit<Scalar>(channels: 2, prior: .learned)
      var filter = [Scalar](repeating: 0, count: 2 * 1 * 3 * 3)
      filter[0 * 9 + 1 * 3 + 2] = 1  // μ ← x₁ one pixel to the right
      filter[1 * 9 + 1 * 3 + 1] = 0.5  // log σ ← x₁ / 2 at the same pixel
      split.filter = Tensor(shape: [2, 1, 3, 3], scalars: filter)
      let x = Tensor<Scalar>(shape: [1, 2, 1, 2], scalars: [3, 5, 10, 20])
      let expected = Tensor<Scalar>(
        shape: [1, 2, 1, 2], scalars: [3, 5, 5 * Scalar.exp(-1.5), 20 * Scalar.exp(-2.5)])
      let (y, logDeterminant) = split.forward(x)
      assertClose(y, expected, absolute: tolerance, relative: tolerance)
      assertClose(logDeterminant, Tensor([-4]), absolute: tolerance)
      let (back, inverseLogDeterminant) = split.inverse(y)
      assertClose(back, x, absolute: tolerance, relative: tolerance)
      assertClose(inverseLogDeterminant, Tensor([4]), absolute: tolerance)

      // The bias shifts μ (first half of its channels) and log σ (second half).
      split.filter = Tensor.zeros(shape: [2, 1, 3, 3])
      split.bias = Tensor([1, Scalar.log(2)])
      let (z, shiftedLogDeterminant) = split.forward(x)
      assertClose(z, Tensor(shape: [1, 2, 1, 2], scalars: [3, 5, 4.5, 9.5]), absolute: tolerance, relative: tolerance)
      assertClose(shiftedLogDeterminant, Tensor([-2 * Scalar.log(2)]), absolute: tolerance)
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-12)
  }

  /// With a bound c, log σ = c·tanh(r/c) of the convolution's output r:
  /// the hand example's r = [1.5, 2.5] with c = 2, and a kept half 10⁴
  /// times larger, whose r would be −5000, still gives log σ ≥ −c (tanh
  /// rounds to −1 there) and a finite, invertible standardisation:
  /// |x₂ − μ| = 10001 becomes 10001·e², not 10001·e⁵⁰⁰⁰.
  func testBoundedLearnedSplitSoftClampsLogStandardDeviation() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var split = MultiScaleSplit<Scalar>(channels: 2, prior: .learned, logStandardDeviationBound: 2)
      var filter = [Scalar](repeating: 0, count: 2 * 1 * 3 * 3)
      filter[0 * 9 + 1 * 3 + 2] = 1  // μ ← x₁ one pixel to the right
      filter[1 * 9 + 1 * 3 + 1] = 0.5  // r ← x₁ / 2 at the same pixel
      split.filter = Tensor(shape: [2, 1, 3, 3], scalars: filter)
      let logSD = [2 * Scalar.tanh(0.75), 2 * Scalar.tanh(1.25)]
      let x = Tensor<Scalar>(shape: [1, 2, 1, 2], scalars: [3, 5, 10, 20])
      let (y, logDeterminant) = split.forward(x)
      let expected = Tensor<Scalar>(
        shape: [1, 2, 1, 2], scalars: [3, 5, 5 * Scalar.exp(-logSD[0]), 20 * Scalar.exp(-logSD[1])])
      assertClose(y, expected, absolute: tolerance, relative: tolerance)
      assertClose(logDeterminant, Tensor([-(logSD[0] + logSD[1])]), absolute: tolerance, relative: tolerance)
      assertClose(split.inverse(y).output, x, absolute: tolerance, relative: tolerance)

      let far = Tensor<Scalar>(shape: [1, 2, 1, 2], scalars: [-10_000, -10_000, 1, 1])
      let (_, standardDeviation) = split.gaussianParameters(far.split(count: 2, alongAxis: 1)[0])!
      XCTAssertTrue(standardDeviation.scalars.allSatisfy { $0 >= -2 && $0 <= -2 + tolerance }, "\(standardDeviation.scalars)")
      let (farY, farLogDeterminant) = split.forward(far)
      XCTAssertTrue(farY.scalars.allSatisfy { $0.isFinite && abs($0) <= 10_001 * Scalar.exp(2) * (1 + tolerance) }, "\(farY.scalars)")
      assertClose(farLogDeterminant, Tensor([4]), absolute: 10 * tolerance, relative: tolerance)
      assertClose(split.inverse(farY).output, far, absolute: tolerance, relative: tolerance)
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-12)
  }

  /// A flow over the composite gives log N(inner(x₁)) + log|det ∂inner/∂x₁|
  /// (the inner model's density of x₁) plus log N(x₂; μ(x₁), σ(x₁)²), the
  /// Gaussian written out here from a convolution of x₁.
  func testCompositeLogProbabilityIsTheSumOfParts() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 13)
      let inner = ReshapingElementwiseAffine<Scalar>(eventShape: [2, 3, 3], using: &generator)
      var split = MultiScaleSplit<Scalar>(channels: 4)
      split.filter = Tensor.randomNormal(shape: [4, 2, 3, 3], standardDeviation: 0.3, using: &generator)
      split.bias = Tensor.randomNormal(shape: [4], standardDeviation: 0.3, using: &generator)
      let model = MultiScale(inner: inner, split: split)
      let flow = Flow(base: StandardNormal<Scalar>(eventShape: [4, 3, 3]), transform: model)
      let x = Tensor<Scalar>.randomNormal(shape: [3, 4, 3, 3], using: &generator)
      let kept = x.sliced(alongAxis: 1, from: 0, to: 2)
      let factored = x.sliced(alongAxis: 1, from: 2, to: 4)

      let (innerOutput, innerLogDeterminant) = inner.forward(kept)
      let keptLogProbability = StandardNormal<Scalar>(eventShape: [2, 3, 3]).logProbability(innerOutput) + innerLogDeterminant
      let prior = conv2d(kept, filter: split.filter, bias: split.bias, padding: (1, 1))
      let mean = prior.sliced(alongAxis: 1, from: 0, to: 2).scalars
      let logStandardDeviation = prior.sliced(alongAxis: 1, from: 2, to: 4).scalars
      let perSample = 2 * 3 * 3
      let factoredLogProbability = (0..<3).map { sample in
        (0..<perSample).reduce(Scalar(0)) { total, element in
          let index = sample * perSample + element
          let standardised = (factored.scalars[index] - mean[index]) / Scalar.exp(logStandardDeviation[index])
          return total - standardised * standardised / 2 - logStandardDeviation[index] - Scalar.log(2 * Scalar.pi) / 2
        }
      }
      assertClose(
        flow.logProbability(x), keptLogProbability + Tensor(factoredLogProbability),
        absolute: tolerance, relative: tolerance)

      // The output is [inner(x₁), standardised x₂].
      let (z, _) = model.forward(x)
      assertClose(z.sliced(alongAxis: 1, from: 0, to: 2), innerOutput, absolute: tolerance, relative: tolerance)
      assertClose(
        z.sliced(alongAxis: 1, from: 2, to: 4), split.forward(x).output.sliced(alongAxis: 1, from: 2, to: 4),
        absolute: tolerance, relative: tolerance)
      XCTAssertEqual(flow.parameters.map(\.name), [
        "transform.inner.logScale", "transform.inner.shift", "transform.split.filter", "transform.split.bias",
      ])
    }
    check(Float.self, tolerance: 1e-4)
    check(Double.self, tolerance: 1e-10)
  }

  /// The two-level model of the conformance registry keeps the data's
  /// shape, and the densities of its samples agree between the sampling
  /// pass and the density pass.
  func testTwoLevelModelSamplesAndScoresConsistently() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 14)
      var model = twoLevelMultiScaleModel(Scalar.self, using: &generator)
      model.updateParameters { _, parameter in
        parameter = parameter + Tensor.randomNormal(shape: parameter.shape, standardDeviation: 0.2, using: &generator)
      }
      let flow = Flow(base: StandardNormal<Scalar>(eventShape: [2, 4, 4]), transform: model)
      let (samples, logProbability) = flow.sampleWithLogProbability(count: 5, using: &generator)
      XCTAssertEqual(samples.shape, [5, 2, 4, 4])
      assertClose(flow.logProbability(samples), logProbability, absolute: tolerance, relative: tolerance)
    }
    check(Float.self, tolerance: 1e-4)
    check(Double.self, tolerance: 1e-10)
  }

  /// Data-dependent initialisation reaches the inner bijector with the kept
  /// half only.
  func testInitializationSeesTheKeptHalf() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 15)
      var model = MultiScale(inner: MeanCentring<Scalar>(), split: MultiScaleSplit(channels: 4))
      let x = Tensor<Scalar>.randomNormal(shape: [6, 4, 2, 2], using: &generator) + 3
      let (y, logDeterminant) = model.initialize(from: x)
      assertClose(model.inner.shift, -x.sliced(alongAxis: 1, from: 0, to: 2).mean(), absolute: 1e-5)
      XCTAssertEqual(y.scalars, model.forward(x).output.scalars)
      XCTAssertEqual(logDeterminant.scalars, [Scalar](repeating: 0, count: 6))
    }
    check(Float.self)
    check(Double.self)
  }
}

/// y = x + shift, with shift set by initialisation to minus the batch mean.
private struct MeanCentring<Scalar: TensorScalar>: Bijector {
  var shift = Tensor<Scalar>(0)

  func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    (x + shift, Tensor.zeros(shape: [x.shape[0]]))
  }

  func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    (y - shift, Tensor.zeros(shape: [y.shape[0]]))
  }

  mutating func initialize(from x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    shift = -x.mean()
    return forward(x)
  }

  mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("shift", &shift)
  }
}
