import FlowTensor
import XCTest
import _TestSupport

final class WeightedSumTests: XCTestCase {
  func testValueAndDerivatives() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let a = Tensor<Scalar>([1, 2, 3])
      let b = Tensor<Scalar>([[4, 5], [6, 7]])
      let value = weightedSum([a, b], weights: [Tensor([2, 1, 1]), nil])
      XCTAssertEqual(value.scalar, 2 + 2 + 3 + 22)
      XCTAssertEqual(weightedSum([Tensor<Scalar>.zeros(shape: [0])], weights: [nil]).scalar, 0)
    }
    check(Float.self)
    check(Double.self)
    var generator = SeededGenerator(seed: 1)
    let inputs = [Tensor<Double>.randomNormal(shape: [3], using: &generator), Tensor<Double>.randomNormal(shape: [2, 2], using: &generator)]
    let weights = Tensor<Double>.randomNormal(shape: [3], using: &generator)
    let body: ([Tensor<Double>]) -> Tensor<Double> = { weightedSum($0, weights: [weights, nil]) }
    XCTAssertTrue(checkVJP(of: body, at: inputs).passed)
    let forward = checkJVP(of: body, at: inputs)
    XCTAssertTrue(forward.passed, "\(forward)")
  }
}
