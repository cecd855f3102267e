import FlowTensor
import XCTest
import _TestSupport

final class ArithmeticTests: XCTestCase {
  /// Every broadcasting corner against values written out by hand.
  func testBroadcastingCorners() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let column = Tensor<Scalar>(shape: [3, 1], scalars: [1, 2, 3])
      let row = Tensor<Scalar>([10, 20, 30, 40])
      XCTAssertEqual(
        (column + row).scalars,
        [11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43])
      XCTAssertEqual((row - column).shape, [3, 4])
      XCTAssertEqual((row - column).scalars[4], 8)
      // Rank-0 on either side, and rank-0 with rank-0.
      XCTAssertEqual((Tensor<Scalar>(2) * row).scalars, [20, 40, 60, 80])
      XCTAssertEqual((row / Tensor<Scalar>(10)).scalars, [1, 2, 3, 4])
      XCTAssertEqual((Tensor<Scalar>(3) - Tensor<Scalar>(5)).shape, [])
      // A size-1 axis in the middle, broadcast against a rank-2 operand.
      let middle = Tensor<Scalar>(shape: [2, 1, 2], scalars: [1, 2, 3, 4])
      let matrix = Tensor<Scalar>(shape: [3, 2], scalars: [0, 10, 20, 30, 40, 50])
      XCTAssertEqual(
        (middle + matrix).scalars,
        [1, 12, 21, 32, 41, 52, 3, 14, 23, 34, 43, 54])
      // Size-0 axes broadcast to size 0.
      XCTAssertEqual((Tensor<Scalar>.zeros(shape: [0, 1]) + row).shape, [0, 4])
      XCTAssertEqual((Tensor<Scalar>.zeros(shape: [2, 0]) * Tensor<Scalar>.ones(shape: [1, 1])).shape, [2, 0])
      // Scalar operands and compound assignment.
      var x = row
      x += row
      x -= 1
      XCTAssertEqual(x.scalars, [19, 39, 59, 79])
      XCTAssertEqual((1 / Tensor<Scalar>([2, 4])).scalars, [0.5, 0.25])
      XCTAssertEqual((-row).scalars, [-10, -20, -30, -40])
    }
    check(Float.self)
    check(Double.self)
  }

  /// Large broadcasts run split across cores and must agree with a plain loop.
  func testLargeStridedBroadcastAgreesWithLoop() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 5)
      let a = Tensor<Scalar>.randomNormal(shape: [64, 1, 700], using: &generator)
      let b = Tensor<Scalar>.randomNormal(shape: [5, 1], using: &generator)
      let result = a * b
      XCTAssertEqual(result.shape, [64, 5, 700])
      let av = a.scalars
      let bv = b.scalars
      var expected = [Scalar]()
      expected.reserveCapacity(64 * 5 * 700)
      for i in 0..<64 { for j in 0..<5 { for k in 0..<700 { expected.append(av[i * 700 + k] * bv[j]) } } }
      XCTAssertEqual(result.scalars, expected)
      let same = a + a
      XCTAssertEqual(same.scalars, av.map { $0 + $0 })
    }
    check(Float.self)
    check(Double.self)
  }

  /// Broadcasts whose last axis is short (pairs of real and imaginary
  /// parts) run in blocks of the last two axes; they must agree with a
  /// plain loop, including across the blocks split between threads.
  func testShortInnerAxisBroadcastsAgreeWithLoop() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 6)
      let a = Tensor<Scalar>.randomNormal(shape: [700, 49, 2], using: &generator)
      let b = Tensor<Scalar>.randomNormal(shape: [49, 1], using: &generator)
      let c = Tensor<Scalar>.randomNormal(shape: [2], using: &generator)
      let av = a.scalars, bv = b.scalars, cv = c.scalars
      var expectedProduct = [Scalar]()
      var expectedSum = [Scalar]()
      for i in 0..<700 {
        for k in 0..<49 {
          for p in 0..<2 {
            let value = av[(i * 49 + k) * 2 + p]
            expectedProduct.append(value * bv[k])
            expectedSum.append(value + cv[p])
          }
        }
      }
      XCTAssertEqual((a * b).scalars, expectedProduct)
      XCTAssertEqual((a + c).scalars, expectedSum)
      // The transposed pairing: [2, 49] against [700, 1, 49].
      let d = Tensor<Scalar>.randomNormal(shape: [700, 1, 3], using: &generator)
      let e = Tensor<Scalar>.randomNormal(shape: [5, 3], using: &generator)
      let dv = d.scalars, ev = e.scalars
      var expected = [Scalar]()
      for i in 0..<700 { for j in 0..<5 { for k in 0..<3 { expected.append(dv[i * 3 + k] - ev[j * 3 + k]) } } }
      XCTAssertEqual((d - e).scalars, expected)
    }
    check(Float.self)
    check(Double.self)
  }
}
