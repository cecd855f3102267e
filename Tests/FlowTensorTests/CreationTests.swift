import FlowTensor
import XCTest
import _TestSupport

final class CreationTests: XCTestCase {
  func testConstantsRangesAndIdentity() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      XCTAssertEqual(Tensor<Scalar>.zeros(shape: [2, 3]).scalars, Array(repeating: 0, count: 6))
      XCTAssertEqual(Tensor<Scalar>.ones(shape: [4]).scalars, [1, 1, 1, 1])
      XCTAssertEqual(Tensor<Scalar>.full(2.5, shape: [1, 2]).scalars, [2.5, 2.5])
      XCTAssertEqual(Tensor<Scalar>.arange(to: 4).scalars, [0, 1, 2, 3])
      XCTAssertEqual(Tensor<Scalar>.arange(from: 1, to: 2, by: 0.25).scalars, [1, 1.25, 1.5, 1.75])
      XCTAssertEqual(Tensor<Scalar>.arange(from: 3, to: 0, by: -1).scalars, [3, 2, 1])
      XCTAssertEqual(Tensor<Scalar>.arange(from: 3, to: 3).shape, [0])
      XCTAssertEqual(Tensor<Scalar>.identity(size: 3).scalars, [1, 0, 0, 0, 1, 0, 0, 0, 1])
      XCTAssertEqual(Tensor<Scalar>.identity(size: 0).shape, [0, 0])
      XCTAssertEqual(Tensor<Scalar>([[1, 2], [3, 4], [5, 6]]).shape, [3, 2])
      XCTAssertEqual(Tensor<Scalar>([[Scalar]]()).shape, [0, 0])
    }
    check(Float.self)
    check(Double.self)
  }

  func testShapeMessagesNameTheValues() {
    XCTAssertEqual(Shape.strides(of: [2, 3, 4]), [12, 4, 1])
    XCTAssertEqual(Shape.strides(of: []), [])
    XCTAssertEqual(Shape.broadcast([3, 1], [4], operation: "add"), [3, 4])
    XCTAssertEqual(Shape.broadcast([], [2, 0], operation: "add"), [2, 0])
    XCTAssertEqual(Shape.broadcastStrides(of: [3, 1], to: [2, 3, 4]), [0, 1, 0])
    XCTAssertEqual(Shape.normalizedAxes([-1, 0], rank: 3, operation: "sum"), [0, 2])
  }
}
