import FlowTensor
import XCTest
import _TestSupport

/// `affine` against values by hand, the unfused `matmul(x, w) + b`, and central differences.
final class AffineTests: XCTestCase {
  func testValueByHandAndEmptyShapes() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let x = Tensor<Scalar>([[1, 2], [3, 4], [-1, 0]])
      let weight = Tensor<Scalar>([[0.5, -1, 2], [2, 1, 0]])
      let bias = Tensor<Scalar>([1, -2, 0.25])
      XCTAssertEqual(affine(x, weight: weight, bias: bias), Tensor([[5.5, -1, 2.25], [10.5, -1, 6.25], [0.5, -1, -1.75]]))
      // No rows; no inputs (the bias alone); no outputs.
      XCTAssertEqual(affine(Tensor<Scalar>.zeros(shape: [0, 2]), weight: weight, bias: bias).shape, [0, 3])
      XCTAssertEqual(
        affine(Tensor<Scalar>.zeros(shape: [2, 0]), weight: Tensor.zeros(shape: [0, 3]), bias: bias),
        Tensor([[1, -2, 0.25], [1, -2, 0.25]]))
      XCTAssertEqual(
        affine(x, weight: Tensor.zeros(shape: [2, 0]), bias: Tensor.zeros(shape: [0])).shape, [3, 0])
    }
    check(Float.self)
    check(Double.self)
  }

  /// A product large enough to be split across cores, and its gradients, against the unfused ops.
  func testMatchesTheUnfusedProductAndItsGradients() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 21)
      let x = Tensor<Scalar>.randomNormal(shape: [300, 40], using: &generator)
      let weight = Tensor<Scalar>.randomNormal(shape: [40, 90], using: &generator)
      let bias = Tensor<Scalar>.randomNormal(shape: [90], using: &generator)
      let cotangent = Tensor<Scalar>.randomNormal(shape: [300, 90], using: &generator)
      let (fusedValue, fused) = valueWithGradient(at: [x, weight, bias]) { p in
        (affine(p[0], weight: p[1], bias: p[2]) * cotangent).sum()
      }
      let (value, expected) = valueWithGradient(at: [x, weight, bias]) { p in ((matmul(p[0], p[1]) + p[2]) * cotangent).sum() }
      assertClose(fusedValue, value, absolute: tolerance, relative: tolerance)
      for (actual, reference) in zip(fused, expected) { assertClose(actual, reference, absolute: tolerance, relative: tolerance) }
    }
    check(Float.self, tolerance: 1e-3)
    check(Double.self, tolerance: 1e-10)
  }

  func testDerivativesMatchCentralDifferences() {
    var generator = SeededGenerator(seed: 22)
    let inputs = [
      Tensor<Double>.randomNormal(shape: [4, 3], using: &generator),
      Tensor<Double>.randomNormal(shape: [3, 2], using: &generator),
      Tensor<Double>.randomNormal(shape: [2], using: &generator),
    ]
    let body: ([Tensor<Double>]) -> Tensor<Double> = { affine($0[0], weight: $0[1], bias: $0[2]) }
    let reverse = checkVJP(of: body, at: inputs)
    XCTAssertTrue(reverse.passed, "\(reverse)")
    let forward = checkJVP(of: body, at: inputs)
    XCTAssertTrue(forward.passed, "\(forward)")
    // Only some operands differentiated.
    let biasOnly = checkVJP(of: { affine(inputs[0], weight: inputs[1], bias: $0[0]) }, at: [inputs[2]])
    XCTAssertTrue(biasOnly.passed, "\(biasOnly)")
    let weightOnly = checkJVP(of: { affine(inputs[0], weight: $0[0], bias: inputs[2]) }, at: [inputs[1]])
    XCTAssertTrue(weightOnly.passed, "\(weightOnly)")
  }
}
