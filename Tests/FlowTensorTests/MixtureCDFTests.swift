import FlowTensor
import XCTest
import _TestSupport

/// The Gaussian-mixture CDF flow u = Φ⁻¹(F(z)) and its inverse.
final class MixtureCDFTests: XCTestCase {
  private struct Fixture: Decodable {
    let z, logits, means, logScales, output, logDerivative: FixtureTensor
  }

  /// Against mpmath at 50 digits (make_mixture_cdf_fixtures.py), including
  /// inputs 9 component scales beyond every mean, where 1 − F ≈ 1e-27.
  func testForwardMatchesHighPrecisionValues() throws {
    let fixture = try Fixtures.load(Fixture.self, named: "mixture_cdf.json")
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let (u, logDerivative) = mixtureCDFTransform(
        fixture.z.tensor(Scalar.self), logits: fixture.logits.tensor(), means: fixture.means.tensor(),
        logScales: fixture.logScales.tensor())
      assertClose(u, fixture.output.tensor(), absolute: tolerance, relative: tolerance)
      assertClose(logDerivative, fixture.logDerivative.tensor(), absolute: tolerance, relative: tolerance)
    }
    check(Float.self, tolerance: 2e-4)
    check(Double.self, tolerance: 1e-10)
  }

  /// One component N(m, s²) is the affine map u = (z − m)/s, log-derivative −log s.
  func testOneComponentIsAffine() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let z = Tensor<Scalar>([-30, -8, -1, 0, 0.5, 7, 25])
      let (u, logDerivative) = mixtureCDFTransform(
        z, logits: Tensor([0.3]), means: Tensor([1.5]), logScales: Tensor([Scalar.log(2)]))
      assertClose(u, (z - 1.5) / 2, absolute: tolerance, relative: tolerance)
      assertClose(logDerivative, Tensor(repeating: -Scalar.log(2), shape: [7]), absolute: tolerance)
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-12)
  }

  /// inverse(forward(z)) = z and forward(inverse(u)) = u, for u up to 8 and
  /// more standard deviations out, within 1e-6 (Float) and 1e-12 (Double).
  func testInverseRoundTripsIntoTheTails() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 5)
      let shape = [3, 16]
      let logits = Tensor<Scalar>.randomNormal(shape: shape + [4], using: &generator)
      let means = Tensor<Scalar>.randomNormal(shape: shape + [4], using: &generator) * 3
      let logScales = Tensor<Scalar>.randomNormal(shape: shape + [4], using: &generator) * 0.7
      var uValues = Tensor<Scalar>.randomNormal(shape: shape, using: &generator).scalars
      for (index, value) in [-8.5, -8, -6, 0, 6, 8, 8.5, -3].enumerated() { uValues[index] = Scalar(value) }
      let u = Tensor(shape: shape, scalars: uValues)
      let (z, inverseLog) = inverseMixtureCDFTransform(u, logits: logits, means: means, logScales: logScales)
      let (back, forwardLog) = mixtureCDFTransform(z, logits: logits, means: means, logScales: logScales)
      assertClose(back, u, absolute: tolerance, relative: tolerance, "u → z → u")
      assertClose(inverseLog, forwardLog, absolute: tolerance * 10, relative: tolerance * 10)
      // z → u → z from z spread over the bulk and the tails.
      let zIn = Tensor<Scalar>.randomNormal(shape: shape, using: &generator) * 6
      let (uOut, _) = mixtureCDFTransform(zIn, logits: logits, means: means, logScales: logScales)
      let (zBack, _) = inverseMixtureCDFTransform(uOut, logits: logits, means: means, logScales: logScales)
      assertClose(zBack, zIn, absolute: tolerance, relative: tolerance, "z → u → z")
    }
    check(Float.self, tolerance: 1e-6)
    check(Double.self, tolerance: 1e-12)
  }

  /// Broadcast parameters: one mixture for a whole batch, as the Rosenblatt map passes them.
  func testBroadcastParametersEqualExpandedOnes() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 6)
      let z = Tensor<Scalar>.randomNormal(shape: [5, 2], using: &generator)
      let logits = Tensor<Scalar>.randomNormal(shape: [2, 3], using: &generator)
      let means = Tensor<Scalar>.randomNormal(shape: [3], using: &generator)
      let logScales = Tensor<Scalar>.randomNormal(shape: [1], using: &generator) * 0.3
      let full = [5, 2, 3]
      let (u, logDerivative) = mixtureCDFTransform(z, logits: logits, means: means, logScales: logScales)
      let (expectedU, expectedLog) = mixtureCDFTransform(
        z, logits: logits.broadcast(to: full), means: means.broadcast(to: full), logScales: logScales.broadcast(to: full))
      assertIdentical(u, expectedU)
      assertIdentical(logDerivative, expectedLog)
      let (root, _) = inverseMixtureCDFTransform(u, logits: logits, means: means, logScales: logScales)
      assertClose(root, z, absolute: Scalar(1e-5), relative: Scalar(1e-5))
    }
    check(Float.self)
    check(Double.self)
  }

  /// Both directions differentiate with respect to every operand; the inverse's
  /// derivatives come from the implicit function theorem (one Newton step).
  func testDerivativesMatchCentralDifferences() {
    var generator = SeededGenerator(seed: 7)
    let z = Tensor<Double>.randomNormal(shape: [2, 3], using: &generator) * 2
    let logits = Tensor<Double>.randomNormal(shape: [2, 3, 3], using: &generator)
    let means = Tensor<Double>.randomNormal(shape: [2, 3, 3], using: &generator)
    let logScales = Tensor<Double>.randomNormal(shape: [2, 3, 3], using: &generator) * 0.3
    let bodies: [(String, ([Tensor<Double>]) -> Tensor<Double>)] = [
      ("forward output", { mixtureCDFTransform($0[0], logits: $0[1], means: $0[2], logScales: $0[3]).output }),
      ("forward log-derivative", {
        mixtureCDFTransform($0[0], logits: $0[1], means: $0[2], logScales: $0[3]).logDerivative
      }),
      ("inverse output", { inverseMixtureCDFTransform($0[0], logits: $0[1], means: $0[2], logScales: $0[3]).output }),
    ]
    for (name, body) in bodies {
      let reverse = checkVJP(of: body, at: [z, logits, means, logScales], absoluteTolerance: 1e-6, relativeTolerance: 1e-5)
      XCTAssertTrue(reverse.passed, "\(name): \(reverse)")
      let forward = checkJVP(of: body, at: [z, logits, means, logScales], absoluteTolerance: 1e-6, relativeTolerance: 1e-5)
      XCTAssertTrue(forward.passed, "\(name): \(forward)")
    }
  }

  /// Derivatives with broadcast parameters (summed back to their shapes),
  /// with both outputs weighted at once, and in the tails (|t| up to ~9),
  /// where the weight derivatives come from the smaller tail mass.
  func testDerivativesWithBroadcastParametersAndTails() {
    var generator = SeededGenerator(seed: 8)
    let z = Tensor<Double>([[-9, -2.5, 0.3], [1.2, 4, 9.5]])
    let logits = Tensor<Double>.randomNormal(shape: [3, 4], using: &generator)
    let means = Tensor<Double>.randomNormal(shape: [4], using: &generator) * 0.5
    let logScales = Tensor<Double>.randomNormal(shape: [1], using: &generator) * 0.2
    let body: ([Tensor<Double>]) -> Tensor<Double> = { p in
      let (u, logDerivative) = mixtureCDFTransform(p[0], logits: p[1], means: p[2], logScales: p[3])
      return u * 0.7 + logDerivative * 1.3
    }
    let reverse = checkVJP(of: body, at: [z, logits, means, logScales], absoluteTolerance: 1e-6, relativeTolerance: 1e-5)
    XCTAssertTrue(reverse.passed, "\(reverse)")
    let forward = checkJVP(of: body, at: [z, logits, means, logScales], absoluteTolerance: 1e-6, relativeTolerance: 1e-5)
    XCTAssertTrue(forward.passed, "\(forward)")
  }
}
