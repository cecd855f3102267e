import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

/// Logit, Sigmoid and ScalarAffine against closed forms evaluated in
/// `Double` scalar arithmetic, in both precisions; their round trips and
/// log-determinants against the autodiff Jacobian are in the conformance suite.
final class ElementwiseTests: XCTestCase {
  func testLogitMatchesTheClosedForm() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let alpha = 0.05
      // A rank-3 event, [2] + [2, 1, 3], with values near both ends.
      let values = [0.1, 0.5, 0.9, 0.999, 1e-4, 0.3, 0.75, 0.05, 0.95, 0.2, 0.6, 0.01]
      let x = Tensor<Scalar>(shape: [2, 2, 1, 3], scalars: values.map { Scalar($0) })
      let layer = Logit<Scalar>(alpha: Scalar(alpha))
      let (y, logDeterminant) = layer.forward(x)
      var expectedOutput: [Double] = []
      var expectedLog = [0.0, 0.0]
      for (index, value) in values.enumerated() {
        let p = alpha + (1 - 2 * alpha) * value
        expectedOutput.append(Double.log(p / (1 - p)))
        expectedLog[index / 6] += Double.log(1 - 2 * alpha) - Double.log(p) - Double.log(1 - p)
      }
      assertClose(y, Tensor(shape: [2, 2, 1, 3], scalars: expectedOutput.map { Scalar($0) }), absolute: tolerance, relative: tolerance)
      assertClose(logDeterminant, Tensor(expectedLog.map { Scalar($0) }), absolute: tolerance, relative: tolerance)

      let (back, inverseLog) = layer.inverse(y)
      assertClose(back, x, absolute: tolerance, relative: tolerance)
      assertClose(inverseLog, Tensor(expectedLog.map { -Scalar($0) }), absolute: tolerance, relative: tolerance)
    }
    check(Double.self, tolerance: 1e-12)
    check(Float.self, tolerance: 2e-5)
  }

  /// Empty batches and empty events: log-det 0 per sample, shapes kept.
  func testElementwiseBijectorsAcceptEmptyAxes() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let layers: [any Bijector<Scalar>] = [Logit(alpha: 0.1), Sigmoid(), ScalarAffine(scale: 3, shift: 1)]
      for layer in layers {
        let (emptyEvent, emptyEventLog) = layer.forward(Tensor<Scalar>.zeros(shape: [2, 0]))
        XCTAssertEqual(emptyEvent.shape, [2, 0])
        XCTAssertEqual(emptyEventLog, Tensor<Scalar>.zeros(shape: [2]), "\(type(of: layer))")
        let (emptyBatch, emptyBatchLog) = layer.inverse(Tensor<Scalar>.zeros(shape: [0, 3]))
        XCTAssertEqual(emptyBatch.shape, [0, 3])
        XCTAssertEqual(emptyBatchLog.shape, [0])
        // A rank-1 input has scalar events: one term per sample.
        let (_, scalarEventLog) = layer.forward(Tensor<Scalar>([0.25, 0.5]))
        XCTAssertEqual(scalarEventLog.shape, [2])
      }
    }
    check(Double.self)
    check(Float.self)
  }

  /// At α = 0 the logit of x a rounding step below 1 is finite and exact
  /// (1 − x is computed without cancellation), and the inverse's
  /// log-determinant stays finite far in the tails where σ(y)·σ(−y) underflows.
  func testLogitIsStableAtTheEdges() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Double) {
      let layer = Logit<Scalar>(alpha: 0)
      let epsilon = Scalar.ulpOfOne / 2  // 1 − ε is the largest value below 1
      let tiny = Scalar(1e-30)
      let x = Tensor<Scalar>([[1 - epsilon, tiny]])
      let (y, logDeterminant) = layer.forward(x)
      let e = Double(epsilon)
      let t = Double(tiny)
      let expected = [Double.log(1 - e) - Double.log(e), Double.log(t) - Double.log(onePlus: -t)]
      assertClose(Double(y[0, 0]), expected[0], relative: tolerance)
      assertClose(Double(y[0, 1]), expected[1], relative: tolerance)
      let expectedLog = -Double.log(1 - e) - Double.log(e) - Double.log(t) - Double.log(onePlus: -t)
      assertClose(Double(logDeterminant[0]), expectedLog, relative: tolerance)

      // log σ(y) + log σ(−y) = −|y| − 2·log(1 + e^−|y|).
      let tails: [Double] = [-100, 30, 700]
      let (_, inverseLog) = layer.inverse(Tensor<Scalar>(shape: [3, 1], scalars: tails.map { Scalar($0) }))
      for (index, value) in tails.enumerated() {
        let expected = -abs(value) - 2 * Double.log(onePlus: Double.exp(-abs(value)))
        assertClose(Double(inverseLog[index]), expected, relative: tolerance)
      }
    }
    check(Double.self, tolerance: 1e-14)
    check(Float.self, tolerance: 1e-6)
  }

  /// Sigmoid is Logit(α = 0) in the other direction, and matches its own
  /// closed form, stably in the tails.
  func testSigmoidIsTheInverseOfTheLogit() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 11)
      let x = Tensor<Scalar>.randomNormal(shape: [3, 2, 4], standardDeviation: 3, using: &generator)
      let sigmoidLayer = Sigmoid<Scalar>()
      let logit = Logit<Scalar>(alpha: 0)
      let (y, logDeterminant) = sigmoidLayer.forward(x)
      let (logitY, logitLog) = logit.inverse(x)
      assertClose(y, logitY, absolute: tolerance, relative: tolerance)
      assertClose(logDeterminant, logitLog, absolute: tolerance, relative: tolerance)
      let (back, backLog) = sigmoidLayer.inverse(y)
      let (logitBack, logitBackLog) = logit.forward(y)
      assertClose(back, logitBack, absolute: tolerance, relative: tolerance)
      assertClose(backLog, logitBackLog, absolute: tolerance, relative: tolerance)

      // Closed form, one sample of [−40, 0, 2.5]: σ and Σ(−|x| − 2 log(1 + e^−|x|)).
      let values = [-40.0, 0, 2.5]
      let (tail, tailLog) = sigmoidLayer.forward(Tensor<Scalar>([values.map { Scalar($0) }]))
      for (index, value) in values.enumerated() {
        assertClose(Double(tail[0, index]), 1 / (1 + Double.exp(-value)), relative: Double(tolerance))
      }
      let expectedLog = values.map { -abs($0) - 2 * Double.log(onePlus: Double.exp(-abs($0))) }.reduce(0, +)
      assertClose(Double(tailLog[0]), expectedLog, relative: Double(tolerance))
      // The inverse at 1e-30: log(1e-30) − log(1 − 1e-30), log-det −log y − log(1 − y).
      let (small, smallLog) = sigmoidLayer.inverse(Tensor<Scalar>([[Scalar(1e-30)]]))
      let t = Double(Scalar(1e-30))
      assertClose(Double(small[0, 0]), Double.log(t) - Double.log(onePlus: -t), relative: Double(tolerance))
      assertClose(Double(smallLog[0]), -Double.log(t) - Double.log(onePlus: -t), relative: Double(tolerance))
    }
    check(Double.self, tolerance: 1e-12)
    check(Float.self, tolerance: 2e-5)
  }

  func testScalarAffineMatchesTheClosedForm() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let layer = ScalarAffine<Scalar>(scale: 2.5, shift: -0.75)
      assertClose(layer.scale, 2.5, relative: tolerance)
      let x = Tensor<Scalar>(shape: [2, 3, 2], scalars: [1, -2, 0.5, 3, 0, -1, 4, 0.25, -0.5, 2, 1.5, -3])
      let (y, logDeterminant) = layer.forward(x)
      assertClose(y, Tensor(shape: [2, 3, 2], scalars: x.scalars.map { 2.5 * $0 - 0.75 }), absolute: tolerance, relative: tolerance)
      let expectedLog = Scalar(6 * Double.log(2.5))
      assertClose(logDeterminant, Tensor([expectedLog, expectedLog]), relative: tolerance)
      let (back, inverseLog) = layer.inverse(y)
      assertClose(back, x, absolute: tolerance, relative: tolerance)
      assertClose(inverseLog, Tensor([-expectedLog, -expectedLog]), relative: tolerance)
    }
    check(Double.self, tolerance: 1e-14)
    check(Float.self, tolerance: 1e-6)
  }

  /// A learnable ScalarAffine exposes its log-scale and shift, a fixed one
  /// nothing; the gradients of Σy + Σ log-det are hand-derived:
  /// ∂/∂logScale = Σ scale·x + batch·D, ∂/∂shift = batch·D.
  func testScalarAffineParametersAndGradients() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      XCTAssertTrue(ScalarAffine<Scalar>(scale: 2).parameters.isEmpty)
      let layer = ScalarAffine<Scalar>(scale: 0.5, shift: 1, learnable: true)
      XCTAssertEqual(layer.parameters.map(\.name), ["logScale", "shift"])
      XCTAssertEqual(layer.parameters.map(\.value.shape), [[], []])
      let x = Tensor<Scalar>(shape: [2, 4], scalars: [1, 2, -3, 0.5, 0, -1, 2, 4])
      let (_, gradients) = valueWithGradient(at: layer) { model in
        let (y, logDeterminant) = model.forward(x)
        return y.sum() + logDeterminant.sum()
      }
      let expectedLogScale = 0.5 * x.scalars.reduce(0, +) + 8
      assertClose(gradients["logScale"]!, Tensor(expectedLogScale), relative: tolerance)
      assertClose(gradients["shift"]!, Tensor(8), relative: tolerance)
    }
    check(Double.self, tolerance: 1e-14)
    check(Float.self, tolerance: 1e-6)
  }

  /// The input gradient of the log-determinants (what training a flow on
  /// them needs) against central differences.
  func testLogDeterminantInputGradientsMatchCentralDifferences() {
    var generator = SeededGenerator(seed: 5)
    let unit = Tensor<Double>.randomUniform(shape: [3, 4], in: 0.05..<0.95, using: &generator)
    let real = Tensor<Double>.randomNormal(shape: [3, 4], standardDeviation: 2, using: &generator)
    let logit = checkVJP(of: { Logit<Double>(alpha: 0.05).forward($0[0]).logDeterminant }, at: [unit])
    XCTAssertTrue(logit.passed, "\(logit)")
    let logitInverse = checkVJP(of: { Logit<Double>(alpha: 0.05).inverse($0[0]).logDeterminant }, at: [real])
    XCTAssertTrue(logitInverse.passed, "\(logitInverse)")
    let sigmoidForward = checkVJP(of: { Sigmoid<Double>().forward($0[0]).logDeterminant }, at: [real])
    XCTAssertTrue(sigmoidForward.passed, "\(sigmoidForward)")
    let sigmoidInverse = checkVJP(of: { Sigmoid<Double>().inverse($0[0]).logDeterminant }, at: [unit])
    XCTAssertTrue(sigmoidInverse.passed, "\(sigmoidInverse)")
  }
}
