import FlowTensor
import XCTest
import _TestSupport

final class SlicingTests: XCTestCase {
  func testSliceRangeMatchesPythonSliceIndices() {
    // (start, end, step, size) → (first index, count), from CPython's
    // slice(start, end, step).indices(size) and len(range(...)).
    let cases: [(Int?, Int?, Int, Int, Int, Int)] = [
      (nil, nil, 1, 5, 0, 5), (nil, nil, -1, 5, 4, 5), (1, -1, 1, 5, 1, 3),
      (-100, 100, 2, 5, 0, 3), (10, -10, -3, 5, 4, 2), (3, 3, 1, 5, 3, 0),
      (0, 5, -1, 5, 0, 0), (nil, nil, 1, 0, 0, 0), (-2, nil, 1, 5, 3, 2),
      (nil, -2, -1, 5, 4, 1), (7, nil, -2, 5, 4, 3), (2, 9, 4, 10, 2, 2),
      (nil, nil, 3, 1, 0, 1),
    ]
    for (start, end, step, size, first, count) in cases {
      let range = Shape.sliceRange(start: start, end: end, step: step, size: size)
      XCTAssertEqual(range.count, count, "slice(\(start as Any), \(end as Any), \(step)) of \(size)")
      if count > 0 { XCTAssertEqual(range.start, first, "slice(\(start as Any), \(end as Any), \(step)) of \(size)") }
    }
  }

  func testSliceAlongAxisByHand() {
    sliceByHand(Float.self)
    sliceByHand(Double.self)
  }

  func sliceByHand<Scalar: TensorScalar>(_: Scalar.Type) {
    let x = Tensor<Scalar>.arange(to: 10)
    assertIdentical(x.sliced(alongAxis: 0, from: 2, to: 8, by: 3), Tensor([2, 5]))
    assertIdentical(x.sliced(alongAxis: 0, from: -3), Tensor([7, 8, 9]))
    assertIdentical(x.sliced(alongAxis: 0, by: -1), Tensor([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]))
    assertIdentical(x.sliced(alongAxis: 0, by: -2), Tensor([9, 7, 5, 3, 1]))
    assertIdentical(x.sliced(alongAxis: 0, from: 4, to: -11, by: -1), Tensor([4, 3, 2, 1, 0]))
    assertIdentical(x.sliced(alongAxis: 0, from: 4, to: 0, by: -1), Tensor([4, 3, 2, 1]))
    assertIdentical(x.sliced(alongAxis: 0, from: -100, to: 100, by: 4), Tensor([0, 4, 8]))
    XCTAssertEqual(x.sliced(alongAxis: 0, from: 3, to: 3).shape, [0])
    XCTAssertEqual(x.sliced(alongAxis: 0, from: 3, to: 5, by: -1).shape, [0])

    let matrix = Tensor<Scalar>.arange(to: 12).reshaped(to: [3, 4])
    assertIdentical(matrix.sliced(alongAxis: 1, from: 1, to: 3), Tensor([[1, 2], [5, 6], [9, 10]]))
    assertIdentical(matrix.sliced(alongAxis: -1, from: 3, to: 0, by: -2), Tensor([[3, 1], [7, 5], [11, 9]]))
    assertIdentical(matrix.sliced(alongAxis: 0, from: 2), Tensor([[8, 9, 10, 11]]))
    XCTAssertEqual(matrix.sliced(alongAxis: 0, from: 1, to: 1).shape, [0, 4])
    XCTAssertEqual(Tensor<Scalar>.zeros(shape: [0, 4]).sliced(alongAxis: 1, from: 1, to: 3).shape, [0, 2])
    XCTAssertEqual(Tensor<Scalar>.zeros(shape: [2, 0]).sliced(alongAxis: 1, by: -1).shape, [2, 0])
  }

  func testBoxSliceByHand() {
    boxByHand(Float.self)
    boxByHand(Double.self)
  }

  func boxByHand<Scalar: TensorScalar>(_: Scalar.Type) {
    let x = Tensor<Scalar>.arange(to: 24).reshaped(to: [2, 3, 4])
    assertIdentical(
      x.sliced(lowerBounds: [1, 0, 1], upperBounds: [2, 2, 3]),
      Tensor(shape: [1, 2, 2], scalars: [13, 14, 17, 18]))
    assertIdentical(
      x.sliced(lowerBounds: [-1, -1, 0], upperBounds: [-3, -4, 4], strides: [-1, -2, 3]),
      Tensor(shape: [2, 2, 2], scalars: [20, 23, 12, 15, 8, 11, 0, 3]))
    XCTAssertEqual(x.sliced(lowerBounds: [0, 2, 0], upperBounds: [2, 2, 4]).shape, [2, 0, 4])
    assertIdentical(Tensor<Scalar>(5).sliced(lowerBounds: [], upperBounds: []), Tensor(5))
  }

  struct SliceFixture: Decodable {
    let input: FixtureTensor
    let axis, start, end, step: Int
    let axis_expected: FixtureTensor
    let lower_bounds, upper_bounds, strides: [Int]
    let box_expected: FixtureTensor
  }

  func testStridedSlicesMatchNumpy() throws {
    try sliceFixture(Float.self)
    try sliceFixture(Double.self)
  }

  func sliceFixture<Scalar: TensorScalar>(_: Scalar.Type) throws {
    let fixture = try Fixtures.load(SliceFixture.self, named: "shape_slice.json")
    let x = fixture.input(Scalar.self)
    assertIdentical(
      x.sliced(alongAxis: fixture.axis, from: fixture.start, to: fixture.end, by: fixture.step),
      fixture.axis_expected(Scalar.self))
    assertIdentical(
      x.sliced(lowerBounds: fixture.lower_bounds, upperBounds: fixture.upper_bounds, strides: fixture.strides),
      fixture.box_expected(Scalar.self))
  }

  func testReversed() {
    reversed(Float.self)
    reversed(Double.self)
  }

  func reversed<Scalar: TensorScalar>(_: Scalar.Type) {
    let x = Tensor<Scalar>([[1, 2, 3], [4, 5, 6]])
    assertIdentical(x.reversed(alongAxes: [1]), Tensor([[3, 2, 1], [6, 5, 4]]))
    assertIdentical(x.reversed(alongAxes: [-1]), Tensor([[3, 2, 1], [6, 5, 4]]))
    assertIdentical(x.reversed(alongAxes: [0]), Tensor([[4, 5, 6], [1, 2, 3]]))
    assertIdentical(x.reversed(alongAxes: [1, 0]), Tensor([[6, 5, 4], [3, 2, 1]]))
    assertIdentical(x.reversed(alongAxes: []), x)
    XCTAssertEqual(Tensor<Scalar>.zeros(shape: [3, 0]).reversed(alongAxes: [0, 1]).shape, [3, 0])
    assertIdentical(Tensor<Scalar>([[7], [8]]).reversed(alongAxes: [1]), Tensor([[7], [8]]))

    var generator = SeededGenerator(seed: 7)
    let y = Tensor<Scalar>.randomNormal(shape: [4, 1, 3, 5], using: &generator)
    assertIdentical(y.reversed(alongAxes: [0, 2, 3]).reversed(alongAxes: [3, 0, 2]), y)
    let values = y.scalars
    let expected: Tensor<Scalar> = referenceTensor(shape: [4, 1, 3, 5]) {
      values[referenceOffset([$0[0], $0[1], 2 - $0[2], $0[3]], shape: [4, 1, 3, 5])]
    }
    assertIdentical(y.reversed(alongAxes: [2]), expected)
  }

  func testPaddedByHand() {
    paddedByHand(Float.self)
    paddedByHand(Double.self)
  }

  func paddedByHand<Scalar: TensorScalar>(_: Scalar.Type) {
    assertIdentical(Tensor<Scalar>([1, 2]).padded(with: [(1, 2)]), Tensor([0, 1, 2, 0, 0]))
    assertIdentical(
      Tensor<Scalar>([[1, 2], [3, 4]]).padded(with: [(0, 1), (2, 0)], value: 9),
      Tensor([[9, 9, 1, 2], [9, 9, 3, 4], [9, 9, 9, 9]]))
    assertIdentical(
      Tensor<Scalar>([[1], [2], [3]]).padded(with: [(0, 0), (1, 2)], value: -1),
      Tensor([[-1, 1, -1, -1], [-1, 2, -1, -1], [-1, 3, -1, -1]]))
    assertIdentical(
      Tensor<Scalar>.zeros(shape: [0, 2]).padded(with: [(1, 1), (0, 0)], value: 3), Tensor([[3, 3], [3, 3]]))
    assertIdentical(Tensor<Scalar>([1, 2]).padded(with: [(0, 0)]), Tensor([1, 2]))
    assertIdentical(Tensor<Scalar>(5).padded(with: []), Tensor(5))
  }

  struct PadFixture: Decodable {
    let input: FixtureTensor
    let padding: [[Int]]
    let value: Double
    let expected: FixtureTensor
  }

  func testPaddedMatchesNumpy() throws {
    try padFixture(Float.self)
    try padFixture(Double.self)
  }

  func padFixture<Scalar: TensorScalar>(_: Scalar.Type) throws {
    let fixture = try Fixtures.load(PadFixture.self, named: "shape_pad.json")
    let padding = fixture.padding.map { (before: $0[0], after: $0[1]) }
    assertIdentical(
      fixture.input(Scalar.self).padded(with: padding, value: Scalar(fixture.value)), fixture.expected(Scalar.self))
  }

  func testPadThenSliceRoundTripsOnALargeTensor() {
    padRoundTrip(Float.self)
    padRoundTrip(Double.self)
  }

  func padRoundTrip<Scalar: TensorScalar>(_: Scalar.Type) {
    var generator = SeededGenerator(seed: 8)
    // Large enough that the padding copy splits across threads.
    let x = Tensor<Scalar>.randomNormal(shape: [400, 300], using: &generator)
    let padded = x.padded(with: [(3, 1), (2, 5)], value: 2)
    XCTAssertEqual(padded.shape, [404, 307])
    assertIdentical(padded.sliced(lowerBounds: [3, 2], upperBounds: [403, 302]), x)
    let border = padded.sliced(alongAxis: 1, from: 302)
    XCTAssertEqual(border.scalars, [Scalar](repeating: 2, count: 404 * 5))
  }
}
