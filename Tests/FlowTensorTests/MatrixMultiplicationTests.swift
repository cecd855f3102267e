import FlowTensor
import XCTest
import _TestSupport

/// One case of `blas_matmul.json`, written by `Fixtures/make_blas_fixtures.py`.
private struct MatrixProductCase: Decodable {
  let a: FixtureTensor
  let b: FixtureTensor
  let transposingA: Bool
  let transposingB: Bool
  let expected: FixtureTensor
}

final class MatrixMultiplicationTests: XCTestCase {
  func testMatchesNumPyFixtures() throws {
    let cases = try Fixtures.load([String: MatrixProductCase].self, named: "blas_matmul.json")
    XCTAssertEqual(cases.count, 19)
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      for (name, test) in cases.sorted(by: { $0.key < $1.key }) {
        let product = matmul(
          test.a.tensor(Scalar.self), test.b.tensor(Scalar.self),
          transposingA: test.transposingA, transposingB: test.transposingB)
        assertClose(
          product, test.expected.tensor(Scalar.self), absolute: tolerance, relative: tolerance,
          "\(name) in \(Scalar.self)")
      }
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-13)
  }

  /// Larger seeded operands, where OpenBLAS blocks and threads, against a
  /// triple loop accumulating in Double.
  func testMatchesNaiveLoopsOnLargerOperands() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 31)
      // (stored a, stored b, transposingA, transposingB)
      let shapes: [([Int], [Int], Bool, Bool)] = [
        ([67, 45], [45, 53], false, false),
        ([45, 67], [53, 45], true, true),
        ([3, 2, 33, 17], [17, 29], false, false),
        ([3, 1, 17, 33], [4, 29, 17], true, true),
        ([33, 17], [5, 17, 29], false, false),
        ([5, 33, 17], [5, 29, 17], false, true),
      ]
      for (shapeA, shapeB, transposingA, transposingB) in shapes {
        let a = Tensor<Scalar>.randomNormal(shape: shapeA, using: &generator)
        let b = Tensor<Scalar>.randomNormal(shape: shapeB, using: &generator)
        assertClose(
          matmul(a, b, transposingA: transposingA, transposingB: transposingB),
          naiveMatrixProduct(a, b, transposingA: transposingA, transposingB: transposingB),
          absolute: tolerance, relative: tolerance,
          "\(shapeA) × \(shapeB), transposing \(transposingA), \(transposingB) in \(Scalar.self)")
      }
    }
    check(Float.self, tolerance: 1e-4)
    check(Double.self, tolerance: 1e-12)
  }

  /// A zero inner dimension sums nothing: the product is all zeros, in every
  /// code path (single gemm, folded batch, batch loop, vectors).
  func testZeroInnerDimensionGivesZeros() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let cases: [([Int], [Int], Bool, Bool, [Int])] = [
        ([3, 0], [0, 5], false, false, [3, 5]),
        ([0, 3], [5, 0], true, true, [3, 5]),
        ([2, 3, 0], [0, 4], false, false, [2, 3, 4]),
        ([2, 0, 3], [2, 0, 4], true, false, [2, 3, 4]),
        ([0], [0], false, false, []),
        ([0], [0, 4], false, false, [4]),
      ]
      for (shapeA, shapeB, transposingA, transposingB, expectedShape) in cases {
        // Fill the pool with non-zero buffers first, so that an unwritten
        // result would show.
        _ = Tensor<Scalar>.full(7, shape: [64]) + Tensor<Scalar>.full(7, shape: [64])
        let product = matmul(
          Tensor<Scalar>.ones(shape: shapeA), Tensor<Scalar>.ones(shape: shapeB),
          transposingA: transposingA, transposingB: transposingB)
        assertIdentical(
          product, Tensor<Scalar>.zeros(shape: expectedShape), "\(shapeA) × \(shapeB) in \(Scalar.self)")
      }
    }
    check(Float.self)
    check(Double.self)
  }

  func testEmptyOuterAndBatchDimensions() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let cases: [([Int], [Int], [Int])] = [
        ([0, 4], [4, 5], [0, 5]),
        ([3, 4], [4, 0], [3, 0]),
        ([2, 0, 3, 4], [4, 5], [2, 0, 3, 5]),
        ([0, 3, 4], [2, 1, 4, 5], [2, 0, 3, 5]),
        ([0, 4], [4], [0]),
      ]
      for (shapeA, shapeB, expectedShape) in cases {
        let product = matmul(Tensor<Scalar>.ones(shape: shapeA), Tensor<Scalar>.ones(shape: shapeB))
        XCTAssertEqual(product.shape, expectedShape, "\(shapeA) × \(shapeB) in \(Scalar.self)")
        XCTAssertEqual(product.scalarCount, 0)
      }
    }
    check(Float.self)
    check(Double.self)
  }

  /// Hand-derived: [[1, 2], [3, 4]] × [[5, 6], [7, 8]] and its transposes.
  func testHandDerivedTwoByTwo() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let a = Tensor<Scalar>([[1, 2], [3, 4]])
      let b = Tensor<Scalar>([[5, 6], [7, 8]])
      assertIdentical(matmul(a, b), Tensor([[19, 22], [43, 50]]))
      assertIdentical(matmul(a, b, transposingA: true), Tensor([[26, 30], [38, 44]]))
      assertIdentical(matmul(a, b, transposingB: true), Tensor([[17, 23], [39, 53]]))
      assertIdentical(matmul(a, b, transposingA: true, transposingB: true), Tensor([[23, 31], [34, 46]]))
      // Vectors: [1, 2]·[5, 6] = 17, a row vector times b, a times a column.
      assertIdentical(matmul(Tensor<Scalar>([1, 2]), Tensor<Scalar>([5, 6])), Tensor(17))
      assertIdentical(matmul(Tensor<Scalar>([1, 2]), b), Tensor([19, 22]))
      assertIdentical(matmul(a, Tensor<Scalar>([5, 6])), Tensor([17, 39]))
    }
    check(Float.self)
    check(Double.self)
  }
}

/// `op(a) × op(b)` for operands of rank ≥ 2 with broadcast batch axes, by
/// a triple loop accumulating in Double.
func naiveMatrixProduct<Scalar: TensorScalar>(
  _ a: Tensor<Scalar>, _ b: Tensor<Scalar>, transposingA: Bool, transposingB: Bool
) -> Tensor<Scalar> {
  let (rowsA, columnsA) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
  let (rowsB, columnsB) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
  let m = transposingA ? columnsA : rowsA
  let k = transposingA ? rowsA : columnsA
  let n = transposingB ? rowsB : columnsB
  let batchA = Array(a.shape.dropLast(2))
  let batchB = Array(b.shape.dropLast(2))
  let rank = max(batchA.count, batchB.count)
  let paddedA = [Int](repeating: 1, count: rank - batchA.count) + batchA
  let paddedB = [Int](repeating: 1, count: rank - batchB.count) + batchB
  let batch = zip(paddedA, paddedB).map { max($0, $1) }
  let batchCount = batch.reduce(1, *)
  let (valuesA, valuesB) = (a.scalars, b.scalars)
  var result = [Scalar]()
  for flat in 0..<batchCount {
    let index = unravel(flat, shape: batch)
    var offsetA = 0
    var offsetB = 0
    for axis in 0..<rank {
      offsetA = offsetA * paddedA[axis] + (paddedA[axis] == 1 ? 0 : index[axis])
      offsetB = offsetB * paddedB[axis] + (paddedB[axis] == 1 ? 0 : index[axis])
    }
    offsetA *= rowsA * columnsA
    offsetB *= rowsB * columnsB
    for i in 0..<m {
      for j in 0..<n {
        var sum = 0.0
        for p in 0..<k {
          let x = valuesA[offsetA + (transposingA ? p * columnsA + i : i * columnsA + p)]
          let y = valuesB[offsetB + (transposingB ? j * columnsB + p : p * columnsB + j)]
          sum += Double(x) * Double(y)
        }
        result.append(Scalar(sum))
      }
    }
  }
  return Tensor(shape: batch + [m, n], scalars: result)
}
