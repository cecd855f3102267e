import FlowTensor
import XCTest
import _TestSupport

final class ShapeTests: XCTestCase {
  func testReshapeInfersOneAxisAndRoundTrips() {
    reshape(Float.self)
    reshape(Double.self)
  }

  func reshape<Scalar: TensorScalar>(_: Scalar.Type) {
    let x = Tensor<Scalar>.arange(to: 24).reshaped(to: [2, 3, 4])
    XCTAssertEqual(x.shape, [2, 3, 4])
    let y = x.reshaped(to: [4, -1])
    XCTAssertEqual(y.shape, [4, 6])
    XCTAssertEqual(y.scalars, (0..<24).map { Scalar($0) })
    XCTAssertEqual(y[1, 0], 6)
    assertIdentical(y.reshaped(to: [2, 3, 4]), x)
    XCTAssertEqual(x.reshaped(to: [-1]).shape, [24])
    XCTAssertEqual(x.reshaped(to: [1, 2, -1, 1]).shape, [1, 2, 12, 1])
    XCTAssertEqual(Tensor<Scalar>([7]).reshaped(to: []).shape, [])
    XCTAssertEqual(Tensor<Scalar>(7).reshaped(to: [1, 1]).scalars, [7])
    XCTAssertEqual(Tensor<Scalar>.zeros(shape: [0, 3]).reshaped(to: [3, 0, 5]).shape, [3, 0, 5])
    // Writing into a reshaped copy leaves the original alone (copy-on-write).
    var z = x.reshaped(to: [24])
    z[0] = 100
    XCTAssertEqual(x[0, 0, 0], 0)
  }

  func testSqueezeAndExpand() {
    squeezeAndExpand(Float.self)
    squeezeAndExpand(Double.self)
  }

  func squeezeAndExpand<Scalar: TensorScalar>(_: Scalar.Type) {
    let x = Tensor<Scalar>.arange(to: 6).reshaped(to: [1, 3, 1, 2])
    XCTAssertEqual(x.squeezingShape().shape, [3, 2])
    XCTAssertEqual(x.squeezingShape(at: 0).shape, [3, 1, 2])
    XCTAssertEqual(x.squeezingShape(at: -2).shape, [1, 3, 2])
    XCTAssertEqual(x.squeezingShape(at: [2, 0]).shape, [3, 2])
    XCTAssertEqual(x.squeezingShape().scalars, x.scalars)
    XCTAssertEqual(Tensor<Scalar>.zeros(shape: [1, 0, 1]).squeezingShape().shape, [0])
    XCTAssertEqual(Tensor<Scalar>.zeros(shape: [1, 1]).squeezingShape().shape, [])

    let y = Tensor<Scalar>.arange(to: 12).reshaped(to: [3, 4])
    XCTAssertEqual(y.expandingShape(at: 0, -1).shape, [1, 3, 4, 1])
    XCTAssertEqual(y.expandingShape(at: 1).shape, [3, 1, 4])
    XCTAssertEqual(y.expandingShape(at: -1).shape, [3, 4, 1])
    XCTAssertEqual(y.expandingShape(at: -3).shape, [1, 3, 4])
    XCTAssertEqual(y.expandingShape(at: [1, 3]).shape, [3, 1, 4, 1])
    XCTAssertEqual(y.expandingShape(at: []).shape, [3, 4])
    XCTAssertEqual(Tensor<Scalar>(5).expandingShape(at: 0).shape, [1])
    assertIdentical(y.expandingShape(at: 0, 2).squeezingShape(at: 0, 2), y)
  }

  func testTransposeByHand() {
    transposeByHand(Float.self)
    transposeByHand(Double.self)
  }

  func transposeByHand<Scalar: TensorScalar>(_: Scalar.Type) {
    let x = Tensor<Scalar>([[1, 2, 3], [4, 5, 6]])
    assertIdentical(x.transposed(), Tensor([[1, 4], [2, 5], [3, 6]]))
    assertIdentical(x.transposed(permutation: [1, 0]), Tensor([[1, 4], [2, 5], [3, 6]]))
    assertIdentical(x.transposed(permutation: [0, 1]), x)
    let batch = Tensor<Scalar>.arange(to: 12).reshaped(to: [2, 2, 3])
    assertIdentical(
      batch.transposed(),
      Tensor(shape: [2, 3, 2], scalars: [0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11]))
    assertIdentical(
      batch.transposed(permutation: [1, 0, 2]),
      Tensor(shape: [2, 2, 3], scalars: [0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11]))
    XCTAssertEqual(Tensor<Scalar>.zeros(shape: [0, 3]).transposed().shape, [3, 0])
    XCTAssertEqual(Tensor<Scalar>.zeros(shape: [2, 0, 3]).transposed(permutation: [2, 0, 1]).shape, [3, 2, 0])
    assertIdentical(Tensor<Scalar>([[1, 2, 3, 4]]).transposed(), Tensor(shape: [4, 1], scalars: [1, 2, 3, 4]))
    assertIdentical(Tensor<Scalar>(3).transposed(permutation: []), Tensor(3))
  }

  func testTransposeMatchesNumpyRankFour() throws {
    try transposeFixture(Float.self)
    try transposeFixture(Double.self)
  }

  struct TransposeFixture: Decodable {
    let input: FixtureTensor
    let permutation: [Int]
    let expected: FixtureTensor
  }

  func transposeFixture<Scalar: TensorScalar>(_: Scalar.Type) throws {
    let fixture = try Fixtures.load(TransposeFixture.self, named: "shape_transpose.json")
    assertIdentical(
      fixture.input(Scalar.self).transposed(permutation: fixture.permutation), fixture.expected(Scalar.self))
  }

  func testEveryPermutationMatchesTheReferenceAndInverts() {
    everyPermutation(Float.self)
    everyPermutation(Double.self)
  }

  func everyPermutation<Scalar: TensorScalar>(_: Scalar.Type) {
    var generator = SeededGenerator(seed: 41)
    // Sizes include 1, so some axes vanish when the kernel merges them.
    let shape = [3, 1, 5, 4]
    let x = Tensor<Scalar>.randomNormal(shape: shape, using: &generator)
    for permutation in permutations(of: Array(0..<4)) {
      let y = x.transposed(permutation: permutation)
      let values = x.scalars
      let expected: Tensor<Scalar> = referenceTensor(shape: permutation.map { shape[$0] }) { index in
        var source = [Int](repeating: 0, count: 4)
        for (axis, sourceAxis) in permutation.enumerated() { source[sourceAxis] = index[axis] }
        return values[referenceOffset(source, shape: shape)]
      }
      assertIdentical(y, expected, "permutation \(permutation)")
      var inverse = [Int](repeating: 0, count: 4)
      for (axis, sourceAxis) in permutation.enumerated() { inverse[sourceAxis] = axis }
      assertIdentical(y.transposed(permutation: inverse), x, "inverse of \(permutation)")
    }
  }

  func permutations(of axes: [Int]) -> [[Int]] {
    if axes.count <= 1 { return [axes] }
    return axes.indices.flatMap { position -> [[Int]] in
      var rest = axes
      let first = rest.remove(at: position)
      return permutations(of: rest).map { [first] + $0 }
    }
  }

  func testTiledTransposeOfLargeAndBatchedMatrices() {
    tiledTranspose(Float.self)
    tiledTranspose(Double.self)
  }

  func tiledTranspose<Scalar: TensorScalar>(_: Scalar.Type) {
    var generator = SeededGenerator(seed: 42)
    // 300×250 splits across threads; 70×45 has partial tiles on both edges.
    for (rows, columns) in [(300, 250), (70, 45), (33, 8)] {
      let x = Tensor<Scalar>.randomNormal(shape: [rows, columns], using: &generator)
      let values = x.scalars
      let expected: Tensor<Scalar> = referenceTensor(shape: [columns, rows]) { values[$0[1] * columns + $0[0]] }
      assertIdentical(x.transposed(), expected, "[\(rows), \(columns)]")
    }
    let batch = Tensor<Scalar>.randomNormal(shape: [3, 40, 33], using: &generator)
    let batchValues = batch.scalars
    let batchExpected: Tensor<Scalar> = referenceTensor(shape: [3, 33, 40]) {
      batchValues[referenceOffset([$0[0], $0[2], $0[1]], shape: [3, 40, 33])]
    }
    assertIdentical(batch.transposed(), batchExpected)
    // NCHW → NHWC moves the channel axis innermost: a batched [C, H·W] transpose.
    let images = Tensor<Scalar>.randomNormal(shape: [2, 5, 7, 9], using: &generator)
    let imageValues = images.scalars
    let channelsLast: Tensor<Scalar> = referenceTensor(shape: [2, 7, 9, 5]) {
      imageValues[referenceOffset([$0[0], $0[3], $0[1], $0[2]], shape: [2, 5, 7, 9])]
    }
    assertIdentical(images.transposed(permutation: [0, 2, 3, 1]), channelsLast)
    assertIdentical(channelsLast.transposed(permutation: [0, 3, 1, 2]), images)
  }

  func testBroadcastByHand() {
    broadcastByHand(Float.self)
    broadcastByHand(Double.self)
  }

  func broadcastByHand<Scalar: TensorScalar>(_: Scalar.Type) {
    assertIdentical(Tensor<Scalar>([1, 2, 3]).broadcast(to: [2, 3]), Tensor([[1, 2, 3], [1, 2, 3]]))
    assertIdentical(
      Tensor<Scalar>(shape: [2, 1], scalars: [1, 2]).broadcast(to: [2, 3]), Tensor([[1, 1, 1], [2, 2, 2]]))
    assertIdentical(Tensor<Scalar>(4).broadcast(to: [2, 2]), Tensor([[4, 4], [4, 4]]))
    assertIdentical(Tensor<Scalar>([1, 2]).broadcast(to: [2]), Tensor([1, 2]))
    XCTAssertEqual(Tensor<Scalar>([1, 2, 3]).broadcast(to: [0, 3]).shape, [0, 3])
    XCTAssertEqual(Tensor<Scalar>.zeros(shape: [2, 1]).broadcast(to: [2, 0]).shape, [2, 0])
  }

  func testBroadcastMatchesNumpy() throws {
    try broadcastFixture(Float.self)
    try broadcastFixture(Double.self)
  }

  struct BroadcastFixture: Decodable {
    let input: FixtureTensor
    let target: [Int]
    let expected: FixtureTensor
  }

  func broadcastFixture<Scalar: TensorScalar>(_: Scalar.Type) throws {
    let fixture = try Fixtures.load(BroadcastFixture.self, named: "shape_broadcast.json")
    assertIdentical(fixture.input(Scalar.self).broadcast(to: fixture.target), fixture.expected(Scalar.self))
  }
}
