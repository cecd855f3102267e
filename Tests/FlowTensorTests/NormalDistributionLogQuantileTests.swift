import FlowTensor
import XCTest
import _TestSupport

/// Φ⁻¹(e^l), the normal quantile of a log-probability.
final class NormalDistributionLogQuantileTests: XCTestCase {
  /// log Φ(Φ⁻¹(e^l)) = l from l = log ½ down to −1e6, far below where e^l
  /// underflows, and the known points Φ⁻¹(½) = 0, Φ⁻¹(Φ(−1)) = −1.
  func testInvertsTheLogNormalCDF() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let l = Tensor<Scalar>([Scalar.log(0.5), -1, -10, -87, -100, -700, -750, -1000, -1e6])
      let x = inverseNormalCDF(logProbability: l)
      assertClose(logNormalCDF(x), l, relative: tolerance)
      let known = inverseNormalCDF(logProbability: Tensor<Scalar>([Scalar.log(0.5), Scalar.log(0.15865525393145707)]))
      assertClose(known, Tensor([0, -1]), absolute: tolerance)
      XCTAssertEqual(inverseNormalCDF(logProbability: Tensor<Scalar>([0])).scalars, [.infinity])
      XCTAssertEqual(inverseNormalCDF(logProbability: Tensor<Scalar>([-.infinity])).scalars, [-.infinity])
      XCTAssertTrue(inverseNormalCDF(logProbability: Tensor<Scalar>([0.5])).scalars[0].isNaN)
    }
    check(Float.self, tolerance: 1e-6)
    check(Double.self, tolerance: 1e-13)
  }

  func testDerivativesMatchCentralDifferences() {
    let l = Tensor<Double>([-0.8, -3, -40, -720, -900])
    let body: ([Tensor<Double>]) -> Tensor<Double> = { inverseNormalCDF(logProbability: $0[0]) }
    let reverse = checkVJP(of: body, at: [l])
    XCTAssertTrue(reverse.passed, "\(reverse)")
    let forward = checkJVP(of: body, at: [l])
    XCTAssertTrue(forward.passed, "\(forward)")
  }
}
