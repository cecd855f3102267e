import FlowTensor
import XCTest
import _TestSupport

final class DifferentiationTests: XCTestCase {
  /// d/dx Σ (x·w + b)² by hand: 2(x·w + b)·w, with b broadcast over rows.
  func testReverseModeByHandWithBroadcastAndReuse() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let x = Tensor<Scalar>([[1, 2], [3, 4]])
      let w = Tensor<Scalar>([[0.5, -1], [2, 1]])
      let b = Tensor<Scalar>([1, -2])
      let (value, gradients) = valueWithGradient(at: [x, w, b]) { p in
        let y = matmul(p[0], p[1]) + p[2]
        return (y * y).sum()  // y used twice: its cotangents accumulate
      }
      // y = [[5.5, -1], [10.5, -1]]
      let expected: Scalar = 5.5 * 5.5 + 1 + 10.5 * 10.5 + 1
      XCTAssertEqual(value.scalar, expected)
      let twiceY = Tensor<Scalar>([[11, -2], [21, -2]])
      assertClose(gradients[0], matmul(twiceY, w, transposingB: true), absolute: 1e-5)
      assertClose(gradients[1], matmul(x, twiceY, transposingA: true), absolute: 1e-5)
      assertClose(gradients[2], Tensor<Scalar>([32, -4]), absolute: 1e-5)
    }
    check(Float.self)
    check(Double.self)
  }

  func testGradientCheckOfCoreArithmetic() {
    var generator = SeededGenerator(seed: 1)
    let a = Tensor<Double>.randomNormal(shape: [3, 4], using: &generator)
    let b = Tensor<Double>.randomNormal(shape: [4], using: &generator)
    let c = Tensor<Double>.randomUniform(shape: [3, 1], in: 1..<2, using: &generator)
    let body: ([Tensor<Double>]) -> Tensor<Double> = { p in
      exp((p[0] * p[1] - p[2]) / p[2]).sum(alongAxes: [1]) + (-p[1]).reshaped(to: [2, 2]).sum()
    }
    let reverse = checkVJP(of: body, at: [a, b, c])
    XCTAssertTrue(reverse.passed, "\(reverse)")
    let forward = checkJVP(of: body, at: [a, b, c])
    XCTAssertTrue(forward.passed, "\(forward)")
  }

  func testMatrixProductDerivativesForEveryOperandForm() {
    var generator = SeededGenerator(seed: 2)
    func random(_ shape: [Int]) -> Tensor<Double> { Tensor.randomNormal(shape: shape, using: &generator) }
    let cases: [(String, [Tensor<Double>], ([Tensor<Double>]) -> Tensor<Double>)] = [
      ("2-D", [random([3, 4]), random([4, 2])], { matmul($0[0], $0[1]) }),
      ("transposed A", [random([4, 3]), random([4, 2])], { matmul($0[0], $0[1], transposingA: true) }),
      ("transposed B", [random([3, 4]), random([2, 4])], { matmul($0[0], $0[1], transposingB: true) }),
      ("both", [random([4, 3]), random([2, 4])], { matmul($0[0], $0[1], transposingA: true, transposingB: true) }),
      ("batched × matrix", [random([2, 3, 4]), random([4, 2])], { matmul($0[0], $0[1]) }),
      ("broadcast batches", [random([2, 1, 3, 4]), random([3, 4, 2])], { matmul($0[0], $0[1]) }),
      ("vector × matrix", [random([4]), random([4, 2])], { matmul($0[0], $0[1]) }),
      ("matrix × vector", [random([3, 4]), random([4])], { matmul($0[0], $0[1]) }),
      ("vector × batch", [random([4]), random([2, 4, 3])], { matmul($0[0], $0[1]) }),
      ("vector · vector", [random([4]), random([4])], { matmul($0[0], $0[1]) }),
    ]
    for (name, inputs, body) in cases {
      let reverse = checkVJP(of: body, at: inputs)
      XCTAssertTrue(reverse.passed, "\(name): \(reverse)")
      let forward = checkJVP(of: body, at: inputs)
      XCTAssertTrue(forward.passed, "\(name): \(forward)")
    }
  }
}
