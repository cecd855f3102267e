import FlowTensor
import XCTest
import _TestSupport

final class ConcatenationTests: XCTestCase {
  func testConcatenateByHand() {
    concatenateByHand(Float.self)
    concatenateByHand(Double.self)
  }

  func concatenateByHand<Scalar: TensorScalar>(_: Scalar.Type) {
    let a = Tensor<Scalar>([[1, 2], [3, 4]])
    let b = Tensor<Scalar>([[5], [6]])
    assertIdentical(Tensor(concatenating: [a, b], alongAxis: 1), Tensor([[1, 2, 5], [3, 4, 6]]))
    assertIdentical(Tensor(concatenating: [a, b], alongAxis: -1), Tensor([[1, 2, 5], [3, 4, 6]]))
    assertIdentical(
      Tensor(concatenating: [a, a.sliced(alongAxis: 0, from: 1)], alongAxis: 0), Tensor([[1, 2], [3, 4], [3, 4]]))
    assertIdentical(Tensor(concatenating: [Tensor<Scalar>([1]), Tensor([2, 3])], alongAxis: 0), Tensor([1, 2, 3]))
    assertIdentical(Tensor(concatenating: [a], alongAxis: 0), a)
    let empty = Tensor<Scalar>.zeros(shape: [2, 0])
    assertIdentical(Tensor(concatenating: [empty, a, empty], alongAxis: 1), a)
    XCTAssertEqual(Tensor(concatenating: [empty, empty], alongAxis: 1).shape, [2, 0])
    XCTAssertEqual(Tensor(concatenating: [empty, empty], alongAxis: 0).shape, [4, 0])
  }

  struct ConcatFixture: Decodable {
    let pieces: [FixtureTensor]
    let axis: Int
    let expected: FixtureTensor
  }

  func testConcatenateWithAnEmptyPieceMatchesNumpy() throws {
    try concatenateFixture(Float.self)
    try concatenateFixture(Double.self)
  }

  func concatenateFixture<Scalar: TensorScalar>(_: Scalar.Type) throws {
    let fixture = try Fixtures.load(ConcatFixture.self, named: "shape_concat.json")
    let pieces = fixture.pieces.map { $0(Scalar.self) }
    XCTAssertEqual(pieces[1].shape, [2, 0, 4])
    let joined = Tensor(concatenating: pieces, alongAxis: fixture.axis)
    assertIdentical(joined, fixture.expected(Scalar.self))
    let parts = joined.split(sizes: pieces.map { $0.shape[fixture.axis] }, alongAxis: fixture.axis)
    XCTAssertEqual(parts.count, 3)
    for (part, piece) in zip(parts, pieces) { assertIdentical(part, piece) }
  }

  func testSplitByHand() {
    splitByHand(Float.self)
    splitByHand(Double.self)
  }

  func splitByHand<Scalar: TensorScalar>(_: Scalar.Type) {
    let x = Tensor<Scalar>.arange(to: 12).reshaped(to: [2, 6])
    let parts = x.split(sizes: [1, 0, 3, 2], alongAxis: 1)
    XCTAssertEqual(parts.map(\.shape), [[2, 1], [2, 0], [2, 3], [2, 2]])
    assertIdentical(parts[0], Tensor([[0], [6]]))
    assertIdentical(parts[2], Tensor([[1, 2, 3], [7, 8, 9]]))
    assertIdentical(parts[3], Tensor([[4, 5], [10, 11]]))
    let rows = x.split(count: 2, alongAxis: 0)
    assertIdentical(rows[0], Tensor([[0, 1, 2, 3, 4, 5]]))
    assertIdentical(rows[1], Tensor([[6, 7, 8, 9, 10, 11]]))
    let thirds = x.split(count: 3, alongAxis: -1)
    assertIdentical(thirds[1], Tensor([[2, 3], [8, 9]]))
    XCTAssertEqual(Tensor<Scalar>.zeros(shape: [0, 4]).split(count: 2, alongAxis: 1).map(\.shape), [[0, 2], [0, 2]])
    assertIdentical(x.split(count: 1, alongAxis: 0)[0], x)
  }

  func testSplitThenConcatenateRoundTrips() {
    roundTrip(Float.self)
    roundTrip(Double.self)
  }

  func roundTrip<Scalar: TensorScalar>(_: Scalar.Type) {
    var generator = SeededGenerator(seed: 11)
    let x = Tensor<Scalar>.randomNormal(shape: [3, 1, 7, 2], using: &generator)
    for axis in 0..<4 {
      let size = x.shape[axis]
      let sizes = size == 1 ? [0, 1, 0] : [2, 0, size - 2]
      let parts = x.split(sizes: sizes, alongAxis: axis)
      assertIdentical(Tensor(concatenating: parts, alongAxis: axis), x, "axis \(axis)")
    }
    // Large enough that the copy splits across threads.
    let left = Tensor<Scalar>.randomNormal(shape: [3000, 20], using: &generator)
    let right = Tensor<Scalar>.randomNormal(shape: [3000, 30], using: &generator)
    let joined = Tensor(concatenating: [left, right], alongAxis: 1)
    let leftValues = left.scalars
    let rightValues = right.scalars
    let expected: Tensor<Scalar> = referenceTensor(shape: [3000, 50]) {
      $0[1] < 20 ? leftValues[$0[0] * 20 + $0[1]] : rightValues[$0[0] * 30 + $0[1] - 20]
    }
    assertIdentical(joined, expected)
    let parts = joined.split(sizes: [20, 30], alongAxis: 1)
    assertIdentical(parts[0], left)
    assertIdentical(parts[1], right)
  }
}
