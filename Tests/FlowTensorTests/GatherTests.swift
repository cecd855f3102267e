import FlowTensor
import XCTest
import _TestSupport

final class GatherTests: XCTestCase {
  func testGatherAtIndicesByHand() {
    gatherAtIndices(Float.self)
    gatherAtIndices(Double.self)
  }

  func gatherAtIndices<Scalar: TensorScalar>(_: Scalar.Type) {
    let x = Tensor<Scalar>([[1, 2, 3], [4, 5, 6]])
    assertIdentical(x.gathering(atIndices: [2, 0, 2], alongAxis: 1), Tensor([[3, 1, 3], [6, 4, 6]]))
    assertIdentical(x.gathering(atIndices: [2, 0, 2], alongAxis: -1), Tensor([[3, 1, 3], [6, 4, 6]]))
    assertIdentical(x.gathering(atIndices: [1, 1], alongAxis: 0), Tensor([[4, 5, 6], [4, 5, 6]]))
    XCTAssertEqual(x.gathering(atIndices: [], alongAxis: 1).shape, [2, 0])
    XCTAssertEqual(Tensor<Scalar>.zeros(shape: [0, 3]).gathering(atIndices: [0, 2], alongAxis: 1).shape, [0, 2])

    assertIdentical(
      Tensor<Scalar>.zeros(shape: [3]).scatteringAdd(Tensor([1, 2, 3]), atIndices: [0, 2, 0], alongAxis: 0),
      Tensor([4, 0, 2]))
    assertIdentical(
      Tensor<Scalar>.ones(shape: [2, 2]).scatteringAdd(
        Tensor([[1, 2, 3], [4, 5, 6]]), atIndices: [1, 1, 0], alongAxis: 1),
      Tensor([[4, 4], [7, 10]]))
    assertIdentical(
      Tensor<Scalar>.ones(shape: [2]).scatteringAdd(Tensor<Scalar>.zeros(shape: [0]), atIndices: [], alongAxis: 0),
      Tensor([1, 1]))
  }

  func testGatherElementsByHand() {
    gatherElements(Float.self)
    gatherElements(Double.self)
  }

  func gatherElements<Scalar: TensorScalar>(_: Scalar.Type) {
    let x = Tensor<Scalar>([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    // torch.gather: the index may be smaller than the input on other axes.
    assertIdentical(
      x.gathering(indices: IndexTensor(shape: [2, 2], indices: [0, 0, 1, 0]), alongAxis: 1), Tensor([[1, 1], [5, 4]]))
    assertIdentical(
      x.gathering(indices: IndexTensor(shape: [2, 2], indices: [2, 1, 0, 2]), alongAxis: 0), Tensor([[7, 5], [1, 8]]))
    assertIdentical(
      x.gathering(indices: IndexTensor(shape: [3, 1], indices: [2, 0, 1]), alongAxis: -1), Tensor([[3], [4], [8]]))
    XCTAssertEqual(x.gathering(indices: IndexTensor(shape: [3, 0], indices: []), alongAxis: 1).shape, [3, 0])

    assertIdentical(
      Tensor<Scalar>.zeros(shape: [2, 3]).scatteringAdd(
        Tensor([[1, 2], [3, 4]]), indices: IndexTensor(shape: [2, 2], indices: [2, 2, 0, 1]), alongAxis: 1),
      Tensor([[0, 0, 3], [3, 4, 0]]))
    assertIdentical(
      Tensor<Scalar>.ones(shape: [2, 2]).scatteringAdd(
        Tensor([[1, 2], [3, 4]]), indices: IndexTensor(shape: [2, 2], indices: [1, 1, 1, 0]), alongAxis: 0),
      Tensor([[1, 5], [5, 3]]))
  }

  struct GatherFixture: Decodable {
    let input: FixtureTensor
    let axis: Int
    let take: [Int]
    let take_expected, take_values, take_scattered: FixtureTensor
    let along_shape: [Int]
    let along: [Int]
    let along_expected, along_values, along_scattered: FixtureTensor
  }

  func testGathersAndScattersMatchNumpy() throws {
    try gatherFixture(Float.self, tolerance: 1e-6)
    try gatherFixture(Double.self, tolerance: 1e-14)
  }

  func gatherFixture<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) throws {
    let fixture = try Fixtures.load(GatherFixture.self, named: "shape_gather.json")
    let x = fixture.input(Scalar.self)
    let zeros = Tensor<Scalar>.zeros(shape: x.shape)
    assertIdentical(x.gathering(atIndices: fixture.take, alongAxis: fixture.axis), fixture.take_expected(Scalar.self))
    assertClose(
      zeros.scatteringAdd(fixture.take_values(Scalar.self), atIndices: fixture.take, alongAxis: fixture.axis),
      fixture.take_scattered(Scalar.self), absolute: tolerance, relative: tolerance)
    let indices = IndexTensor(shape: fixture.along_shape, indices: fixture.along)
    assertIdentical(x.gathering(indices: indices, alongAxis: fixture.axis), fixture.along_expected(Scalar.self))
    assertClose(
      zeros.scatteringAdd(fixture.along_values(Scalar.self), indices: indices, alongAxis: fixture.axis),
      fixture.along_scattered(Scalar.self), absolute: tolerance, relative: tolerance)
  }

  func testScatterAddIsTheAdjointOfGather() {
    adjoint(Float.self, tolerance: 1e-3)
    adjoint(Double.self, tolerance: 1e-10)
  }

  /// ⟨gather(x), y⟩ = ⟨x, scatterAdd(y)⟩ for random x, y and indices with
  /// repeats; the large case splits across threads.
  func adjoint<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Double) {
    var generator = SeededGenerator(seed: 23)
    for (shape, picked) in [([4, 6, 3], 9), ([64, 50, 40], 60)] {
      let x = Tensor<Scalar>.randomNormal(shape: shape, using: &generator)
      let zeros = Tensor<Scalar>.zeros(shape: shape)
      for axis in 0..<3 {
        let indices = (0..<picked).map { _ in Int(generator.next() % UInt64(shape[axis])) }
        var pickedShape = shape
        pickedShape[axis] = picked
        let y = Tensor<Scalar>.randomNormal(shape: pickedShape, using: &generator)
        let lhs = innerProduct(x.gathering(atIndices: indices, alongAxis: axis), y)
        let rhs = innerProduct(x, zeros.scatteringAdd(y, atIndices: indices, alongAxis: axis))
        XCTAssertEqual(lhs, rhs, accuracy: tolerance * max(1, abs(lhs)), "slices, shape \(shape), axis \(axis)")

        var indexShape = shape.map { max(1, $0 - 1) }
        indexShape[axis] = shape[axis] + 2
        let count = indexShape.reduce(1, *)
        let elementIndices = IndexTensor(
          shape: indexShape, indices: (0..<count).map { _ in Int(generator.next() % UInt64(shape[axis])) })
        let z = Tensor<Scalar>.randomNormal(shape: indexShape, using: &generator)
        let gathered = x.gathering(indices: elementIndices, alongAxis: axis)
        let elementLHS = innerProduct(gathered, z)
        let elementRHS = innerProduct(x, zeros.scatteringAdd(z, indices: elementIndices, alongAxis: axis))
        XCTAssertEqual(
          elementLHS, elementRHS, accuracy: tolerance * max(1, abs(elementLHS)),
          "elements, shape \(shape), axis \(axis)")

        let values = x.scalars
        let expected: Tensor<Scalar> = referenceTensor(shape: indexShape) { index in
          var source = index
          source[axis] = elementIndices.indices[referenceOffset(index, shape: indexShape)]
          return values[referenceOffset(source, shape: shape)]
        }
        assertIdentical(gathered, expected, "elements, shape \(shape), axis \(axis)")
      }
    }
  }
}
