import FlowTensor
import XCTest
import _TestSupport

final class TensorTests: XCTestCase {
  func testShapeScalarsAndSubscript() {
    var x = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    XCTAssertEqual(x.rank, 2)
    XCTAssertEqual(x.scalarCount, 6)
    XCTAssertEqual(x.strides, [3, 1])
    XCTAssertEqual(x[1, 2], 6)
    x[0, 1] = 20
    XCTAssertEqual(x.scalars, [1, 20, 3, 4, 5, 6])
  }

  func testCopyOnWriteLeavesTheOriginalUntouched() {
    let original = Tensor<Float>([1, 2, 3])
    var copy = original
    copy[1] = 9
    XCTAssertEqual(original.scalars, [1, 2, 3])
    XCTAssertEqual(copy.scalars, [1, 9, 3])
  }

  func testEmptyAndScalarTensors() {
    let empty = Tensor<Double>.zeros(shape: [3, 0, 2])
    XCTAssertEqual(empty.scalarCount, 0)
    XCTAssertEqual((empty + empty).shape, [3, 0, 2])
    let scalar = Tensor<Double>(4)
    XCTAssertEqual(scalar.rank, 0)
    XCTAssertEqual(scalar.scalar, 4)
  }
}
