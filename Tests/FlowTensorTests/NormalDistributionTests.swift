import FlowTensor
import XCTest
import _TestSupport

/// `Fixtures/normal_cdf.json`: Φ and log Φ at x from −38 to 8 in steps of
/// ¼ and at a few far points, from mpmath at 50 digits.
private struct CDFFixture: Decodable {
  let x: FixtureTensor
  let cdf: FixtureTensor
  let logCDF: FixtureTensor
}

/// `Fixtures/normal_inverse_cdf.json`: Φ⁻¹ from mpmath at 50 digits, at
/// double probabilities (`p`, `x`: 10^−k for k = 1…300, 1 − 1e-16, seeded
/// log-uniform and uniform draws) and at the same probabilities rounded to
/// float (`p32`, `x32`; 0 and 1 there map to ∓∞).
private struct InverseCDFFixture: Decodable {
  let p: FixtureTensor
  let x: FixtureTensor
  let p32: FixtureTensor
  let x32: FixtureTensor
}

final class NormalDistributionTests: XCTestCase {
  private func checkCDF<Scalar: TensorScalar>(_: Scalar.Type) throws {
    let fixture = try Fixtures.load(CDFFixture.self, named: "normal_cdf.json")
    let x: Tensor<Scalar> = fixture.x.tensor()
    // Φ(−30) ≈ 4.9e-198 must keep its relative precision in Double, and
    // Float's subnormals (x < −13) only an absolute one.
    assertClose(
      normalCDF(x), fixture.cdf.tensor(), absolute: Scalar.leastNormalMagnitude,
      relative: 4 * Scalar.ulpOfOne, "Φ in \(Scalar.self)")
    assertClose(
      logNormalCDF(x), fixture.logCDF.tensor(), absolute: Scalar.leastNormalMagnitude,
      relative: 4 * Scalar.ulpOfOne, "log Φ in \(Scalar.self)")
    // The scalar overloads of the same precision agree with the tensor ops bit for bit.
    let (cdf, logCDF) = (normalCDF(x).scalars, logNormalCDF(x).scalars)
    for (index, value) in x.scalars.enumerated() {
      if let value = value as? Double {
        XCTAssertEqual(normalCDF(value), cdf[index] as? Double)
        XCTAssertEqual(logNormalCDF(value), logCDF[index] as? Double)
      } else if let value = value as? Float {
        XCTAssertEqual(normalCDF(value), cdf[index] as? Float)
        XCTAssertEqual(logNormalCDF(value), logCDF[index] as? Float)
      } else {
        XCTFail("unexpected scalar type \(Scalar.self)")
      }
    }
  }

  func testCDFAndLogCDFMatchMpmathFromMinus38To8() throws {
    try checkCDF(Float.self)
    try checkCDF(Double.self)
  }

  /// Φ⁻¹ against mpmath: `relative` is 1e-12 in Double over p from 1e-300
  /// to 1 − 1e-16 (the specification; about 4e-16 is measured) and 1e-6 in Float.
  private func checkInverseCDF<Scalar: TensorScalar>(
    _: Scalar.Type, p: FixtureTensor, x: FixtureTensor, relative: Scalar
  ) {
    let probabilities: Tensor<Scalar> = p.tensor()
    let quantiles = inverseNormalCDF(probabilities)
    assertClose(quantiles, x.tensor(), relative: relative, "Φ⁻¹ in \(Scalar.self)")
    // Round trip Φ(Φ⁻¹(p)) ≈ p: an error δ in x moves Φ by about x²·δ
    // relative in the tails, so the bound widens with x².
    let roundTrip = normalCDF(quantiles).scalars
    for (index, probability) in probabilities.scalars.enumerated() {
      let quantile = quantiles.scalars[index]
      // p = 0 and p = 1 map to ∓∞ and back exactly.
      let tolerance = quantile.isFinite ? 8 * Scalar.ulpOfOne * (1 + quantile * quantile) : 0
      assertClose(
        roundTrip[index], probability, absolute: Scalar.leastNormalMagnitude, relative: tolerance,
        "Φ(Φ⁻¹(\(probability))) in \(Scalar.self)")
    }
  }

  func testInverseCDFMatchesMpmathFrom1eMinus300ToOneMinus1eMinus16() throws {
    let fixture = try Fixtures.load(InverseCDFFixture.self, named: "normal_inverse_cdf.json")
    XCTAssertEqual(fixture.p.values.min(), 1e-300)
    XCTAssertEqual(fixture.p.values.max(), 1.0.nextDown)
    checkInverseCDF(Float.self, p: fixture.p32, x: fixture.x32, relative: 1e-6)
    checkInverseCDF(Double.self, p: fixture.p, x: fixture.x, relative: 1e-12)
  }

  private func checkEdgeCases<Scalar: TensorScalar>(_: Scalar.Type) {
    let inf = Scalar.infinity
    let nan = Scalar.nan
    let p = Tensor<Scalar>([0, 1, 0.5, -0.0, -0.1, 1.1, -inf, inf, nan])
    assertIdentical(inverseNormalCDF(p), Tensor([-inf, inf, 0, -inf, nan, nan, nan, nan, nan]))
    let x = Tensor<Scalar>([-inf, inf, 0, nan])
    assertIdentical(normalCDF(x), Tensor([0, 1, 0.5, nan]))
    assertIdentical(logNormalCDF(x), Tensor([-inf, 0, -Scalar.log(2), nan]))
    // Φ⁻¹ is odd about ½ where p and 1 − p are both exact: p = k/64.
    let dyadic = Tensor<Scalar>((1...31).map { Scalar($0) / 64 })
    assertIdentical(inverseNormalCDF(1 - dyadic), -inverseNormalCDF(dyadic))
    // Shapes pass through, empty ones included.
    XCTAssertEqual(inverseNormalCDF(Tensor<Scalar>(repeating: 0.25, shape: [2, 0, 3])).shape, [2, 0, 3])
    XCTAssertEqual(normalCDF(Tensor<Scalar>(repeating: 0.25, shape: [2, 1, 3])).shape, [2, 1, 3])
    XCTAssertEqual(logNormalCDF(Tensor<Scalar>(-3)).shape, [])
  }

  func testEdgeCases() {
    checkEdgeCases(Float.self)
    checkEdgeCases(Double.self)
  }

  /// log Φ stays finite and close to its asymptote −x²/2 − log(−x) − ½log(2π)
  /// far below where Φ underflows; at x = −1e10 the correction terms are
  /// below half an ulp of x²/2, so the asymptote is the answer.
  private func checkLogCDFFarTail<Scalar: TensorScalar>(_: Scalar.Type) {
    let x: Scalar = -1e10
    let asymptote = -x * x / 2 - Scalar.log(-x) - Scalar.log(2 * Scalar.pi) / 2
    assertClose(logNormalCDF(Tensor(x)).scalar, asymptote, relative: 2 * Scalar.ulpOfOne)
    XCTAssertEqual(normalCDF(Tensor(x)).scalar, 0)
  }

  func testLogCDFFarTail() {
    checkLogCDFFarTail(Float.self)
    checkLogCDFFarTail(Double.self)
  }
}
