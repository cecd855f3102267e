import FlowTensor
import XCTest
import _TestSupport

private typealias Testing = LinearAlgebraTesting

/// `triangularSolve` against SciPy's `solve_triangular` for every flag
/// combination (`lapack_triangular.json`), against T·x = b, and on zero
/// diagonals, batches and empty systems.
final class LinearAlgebraTriangularSolveTests: XCTestCase {
  func testEveryFlagCombinationMatchesSciPy() throws {
    try checkFlags(Float.self, tolerance: 1e-5)
    try checkFlags(Double.self, tolerance: 1e-13)
  }

  func checkFlags<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) throws {
    let fixtures = try Testing.fixtures("lapack_triangular.json")
    // A full matrix: each solve must read only its own triangle.
    let a: Tensor<Scalar> = try Testing.tensor(fixtures, "a")
    for lower in [false, true] {
      for transposed in [false, true] {
        for unitDiagonal in [false, true] {
          let key = "\(lower ? "lower" : "upper").\(transposed ? "T" : "N").\(unitDiagonal ? "unit" : "diagonal")"
          var triangle = Testing.triangle(a, lower: lower, unitDiagonal: unitDiagonal)
          if transposed { triangle = Testing.transpose(triangle) }
          for kind in ["matrix", "vector"] {
            let b: Tensor<Scalar> = try Testing.tensor(fixtures, "b_\(kind)")
            let x = try triangularSolve(a, b, lower: lower, transposed: transposed, unitDiagonal: unitDiagonal)
            let expected: Tensor<Scalar> = try Testing.tensor(fixtures, "\(key).x_\(kind)")
            assertClose(x, expected, absolute: tolerance, relative: tolerance, "\(key) \(kind)")
            let column = kind == "vector" ? Tensor(shape: [b.shape[0], 1], scalars: x.scalars) : x
            let residual = Testing.product(triangle, column)
            assertClose(
              Tensor(shape: b.shape, scalars: residual.scalars), b, absolute: tolerance, relative: tolerance,
              "T·x \(key) \(kind)")
          }
        }
      }
    }
  }

  func testBatchedSolvesEqualPerMatrixSolves() throws {
    try checkBatch(Float.self)
    try checkBatch(Double.self)
  }

  func checkBatch<Scalar: TensorScalar>(_: Scalar.Type) throws {
    var generator = SeededGenerator(seed: 5)
    let a = Tensor<Scalar>.randomNormal(shape: [2, 3, 4, 4], using: &generator) + 4 * Tensor.identity(size: 4)
    let vectors = Tensor<Scalar>.randomNormal(shape: [2, 3, 4], using: &generator)
    let matrices = Tensor<Scalar>.randomNormal(shape: [2, 3, 4, 2], using: &generator)
    for lower in [false, true] {
      let x = try triangularSolve(a, matrices, lower: lower, transposed: true)
      let y = try triangularSolve(a, vectors, lower: lower)
      for index in 0..<6 {
        let matrix = Testing.matrix(a, at: index)
        XCTAssertEqual(
          Testing.matrix(x, at: index),
          try triangularSolve(matrix, Testing.matrix(matrices, at: index), lower: lower, transposed: true))
        XCTAssertEqual(
          Testing.vector(y, at: index), try triangularSolve(matrix, Testing.vector(vectors, at: index), lower: lower))
      }
    }
  }

  func testZeroOnTheDiagonalThrowsUnlessTheDiagonalIsUnit() throws {
    try checkZeroDiagonal(Float.self)
    try checkZeroDiagonal(Double.self)
  }

  func checkZeroDiagonal<Scalar: TensorScalar>(_: Scalar.Type) throws {
    let a = Tensor<Scalar>([[2, 7, 7], [1, 0, 7], [1, 1, 3]])
    let b = Tensor<Scalar>([1, 2, 3])
    XCTAssertEqual(Testing.error(try triangularSolve(a, b, lower: true)), .singular(pivot: 1))
    XCTAssertEqual(Testing.error(try triangularSolve(a, b, lower: false, transposed: true)), .singular(pivot: 1))
    // With a unit diagonal the zero is never read: x = [1, 1, 1].
    XCTAssertEqual(try triangularSolve(a, Tensor([1, 2, 3]), lower: true, unitDiagonal: true), Tensor([1, 1, 1]))
    let batch = Testing.stack([Tensor<Scalar>.identity(size: 3), a])
    XCTAssertEqual(
      Testing.error(try triangularSolve(batch, .ones(shape: [2, 3, 2]), lower: true)), .singular(pivot: 1, matrix: [1]))
  }

  func testEmptyAndOneByOne() throws {
    try checkSmall(Float.self)
    try checkSmall(Double.self)
  }

  func checkSmall<Scalar: TensorScalar>(_: Scalar.Type) throws {
    let empty = Tensor<Scalar>.zeros(shape: [0, 0])
    XCTAssertEqual(try triangularSolve(empty, .zeros(shape: [0]), lower: true).shape, [0])
    XCTAssertEqual(try triangularSolve(empty, .zeros(shape: [0, 2]), lower: false).shape, [0, 2])
    XCTAssertEqual(try triangularSolve(Tensor<Scalar>([[4]]), Tensor([[2, -8]]), lower: true), Tensor([[0.5, -2]]))
    XCTAssertEqual(
      try triangularSolve(Tensor<Scalar>([[4]]), Tensor([2]), lower: false, unitDiagonal: true), Tensor([2]))
  }
}
