import FlowTensor
import XCTest
import _TestSupport

private typealias Testing = LinearAlgebraTesting

/// `luFactorization`, `solve` and `inverse` against SciPy/NumPy fixtures
/// (`lapack_lu.json`, `lapack_inverse.json`) and against the identities
/// P·L·U = A, A·x = b and A·A⁻¹ = I.
final class LinearAlgebraLUTests: XCTestCase {
  func testFactorsMatchSciPyAndReconstructTheMatrix() throws {
    try checkFactors(Float.self, tolerance: 1e-5)
    try checkFactors(Double.self, tolerance: 1e-13)
  }

  func checkFactors<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) throws {
    let fixtures = try Testing.fixtures("lapack_lu.json")
    for n in [1, 4, 7] {
      let a: Tensor<Scalar> = try Testing.tensor(fixtures, "n\(n).a")
      let factors = try luFactorization(a)
      XCTAssertEqual(factors.order, n)
      let permutation: Tensor<Scalar> = try Testing.tensor(fixtures, "n\(n).p")
      // The pivots are decisions, not roundings: they must agree exactly.
      XCTAssertEqual(factors.permutation, permutation, "n = \(n)")
      assertClose(factors.lower, try Testing.tensor(fixtures, "n\(n).l"), absolute: tolerance, relative: tolerance)
      assertClose(factors.upper, try Testing.tensor(fixtures, "n\(n).u"), absolute: tolerance, relative: tolerance)
      let reconstructed = Testing.product(factors.permutation, Testing.product(factors.lower, factors.upper))
      assertClose(reconstructed, a, absolute: tolerance, relative: tolerance, "P·L·U, n = \(n)")
      XCTAssertEqual(factors.pivotIndices.count, n)
      if n == 7 {
        XCTAssertNotEqual(permutation, Tensor.identity(size: 7), "the fixture should exercise pivoting")
      }
    }
  }

  func testSolveMatchesNumPyForVectorsAndMatrices() throws {
    try checkSolve(Float.self, tolerance: 1e-4)
    try checkSolve(Double.self, tolerance: 1e-11)
  }

  func checkSolve<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) throws {
    let fixtures = try Testing.fixtures("lapack_lu.json")
    for n in [1, 4, 7] {
      let a: Tensor<Scalar> = try Testing.tensor(fixtures, "n\(n).a")
      let factors = try luFactorization(a)
      for kind in ["vector", "matrix"] {
        let b: Tensor<Scalar> = try Testing.tensor(fixtures, "n\(n).b_\(kind)")
        let expected: Tensor<Scalar> = try Testing.tensor(fixtures, "n\(n).x_\(kind)")
        assertClose(try solve(a, b), expected, absolute: tolerance, relative: tolerance, "solve n = \(n) \(kind)")
        assertClose(factors.solve(b), expected, absolute: tolerance, relative: tolerance, "LU.solve n = \(n) \(kind)")
      }
      // One right-hand side as an [n, 1] column takes the uncopied path of a vector.
      let column = Tensor<Scalar>(shape: [n, 1], scalars: try Testing.tensor(fixtures, "n\(n).b_vector").scalars)
      let expected = Tensor<Scalar>(shape: [n, 1], scalars: try Testing.tensor(fixtures, "n\(n).x_vector").scalars)
      assertClose(try solve(a, column), expected, absolute: tolerance, relative: tolerance, "[n, 1], n = \(n)")
      // The residual, independently of the fixture.
      let b: Tensor<Scalar> = try Testing.tensor(fixtures, "n\(n).b_matrix")
      assertClose(Testing.product(a, try solve(a, b)), b, absolute: tolerance, relative: tolerance, "A·x, n = \(n)")
    }
  }

  func testBatchedSolveMatchesNumPyAndPerMatrixSolves() throws {
    try checkBatchedSolve(Float.self, tolerance: 1e-4)
    try checkBatchedSolve(Double.self, tolerance: 1e-11)
  }

  func checkBatchedSolve<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) throws {
    let fixtures = try Testing.fixtures("lapack_lu.json")
    let a: Tensor<Scalar> = try Testing.tensor(fixtures, "batch.a")
    XCTAssertEqual(a.shape, [2, 3, 4, 4])
    for kind in ["vectors", "matrices"] {
      let b: Tensor<Scalar> = try Testing.tensor(fixtures, "batch.b_\(kind)")
      let x = try solve(a, b)
      assertClose(x, try Testing.tensor(fixtures, "batch.x_\(kind)"), absolute: tolerance, relative: tolerance, kind)
      let trailingAxes = kind == "vectors" ? 1 : 2
      for index in 0..<6 {
        let single = try solve(Testing.matrix(a, at: index), Testing.slice(b, at: index, trailingAxes: trailingAxes))
        XCTAssertEqual(Testing.slice(x, at: index, trailingAxes: trailingAxes), single, "\(kind) \(index)")
      }
    }
  }

  func testInverseMatchesNumPyAndInverts() throws {
    try checkInverse(Float.self, tolerance: 1e-4)
    try checkInverse(Double.self, tolerance: 1e-11)
  }

  func checkInverse<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) throws {
    let fixtures = try Testing.fixtures("lapack_inverse.json")
    for name in ["single", "batch"] {
      let a: Tensor<Scalar> = try Testing.tensor(fixtures, "\(name).a")
      let result = try inverse(a)
      assertClose(result, try Testing.tensor(fixtures, "\(name).inverse"), absolute: tolerance, relative: tolerance)
      for index in 0..<Testing.batchCount(a) {
        let matrix = Testing.matrix(a, at: index)
        let product = Testing.product(matrix, Testing.matrix(result, at: index))
        assertClose(product, .identity(size: matrix.shape[0]), absolute: tolerance, "A·A⁻¹, \(name) \(index)")
      }
    }
  }

  func testEmptyAndOneByOneSystems() throws {
    try checkSmall(Float.self)
    try checkSmall(Double.self)
  }

  func checkSmall<Scalar: TensorScalar>(_: Scalar.Type) throws {
    let empty = Tensor<Scalar>.zeros(shape: [0, 0])
    XCTAssertEqual(try solve(empty, .zeros(shape: [0])).shape, [0])
    XCTAssertEqual(try solve(empty, .zeros(shape: [0, 3])).shape, [0, 3])
    XCTAssertEqual(try inverse(empty).shape, [0, 0])
    XCTAssertEqual(try inverse(Tensor<Scalar>.zeros(shape: [2, 0, 0])).shape, [2, 0, 0])
    let emptyFactors = try luFactorization(empty)
    XCTAssertEqual(emptyFactors.lower.shape, [0, 0])
    XCTAssertEqual(emptyFactors.permutation.shape, [0, 0])
    // An empty batch of 2×2 systems.
    XCTAssertEqual(try solve(Tensor<Scalar>.zeros(shape: [0, 2, 2]), .zeros(shape: [0, 2])).shape, [0, 2])
    // Two right-hand sides for none: the matrix is still checked.
    XCTAssertEqual(try solve(Tensor<Scalar>([[2]]), .zeros(shape: [1, 0])).shape, [1, 0])
    XCTAssertEqual(Testing.error(try solve(Tensor<Scalar>([[0]]), .zeros(shape: [1, 0]))), .singular(pivot: 0))

    let one = Tensor<Scalar>([[4]])
    XCTAssertEqual(try inverse(one), Tensor([[0.25]]))
    XCTAssertEqual(try solve(one, Tensor([6])), Tensor([1.5]))
    XCTAssertEqual(try solve(one, Tensor([[6, -2]])), Tensor([[1.5, -0.5]]))
    let factors = try luFactorization(one)
    XCTAssertEqual(factors.lower, Tensor([[1]]))
    XCTAssertEqual(factors.upper, Tensor([[4]]))
    XCTAssertEqual(factors.permutation, Tensor([[1]]))
    XCTAssertEqual(factors.pivotIndices, [0])
  }

  func testSingularMatricesThrowWithThePivotAndBatchIndex() {
    checkSingular(Float.self)
    checkSingular(Double.self)
  }

  func checkSingular<Scalar: TensorScalar>(_: Scalar.Type) {
    // Row 2 is zero and rows 0, 1 are independent: the factorisation of Aᵀ
    // (which solve and inverse use) meets its first zero pivot at step 2.
    let zeroRow = Tensor<Scalar>([[2, 1, 0, 1], [1, 3, 1, 0], [0, 0, 0, 0], [1, 0, 2, 5]])
    XCTAssertEqual(Testing.error(try solve(zeroRow, .ones(shape: [4]))), .singular(pivot: 2))
    XCTAssertEqual(Testing.error(try inverse(zeroRow)), .singular(pivot: 2))
    // The LU of A itself meets it at the zero column.
    let zeroColumn = Testing.transpose(zeroRow)
    XCTAssertEqual(Testing.error(try luFactorization(zeroColumn)), .singular(pivot: 2))
    // Exactly dependent rows: row 1 = 2 · row 0.
    let dependent = Tensor<Scalar>([[1, 2], [2, 4]])
    XCTAssertEqual(Testing.error(try solve(dependent, .ones(shape: [2, 3]))), .singular(pivot: 1))
    // The second matrix of a [2, 1, 2, 2] batch.
    let batch = Tensor<Scalar>(shape: [2, 1, 2, 2], scalars: [1, 0, 0, 1] + dependent.scalars)
    XCTAssertEqual(Testing.error(try inverse(batch)), .singular(pivot: 1, matrix: [1, 0]))
    XCTAssertEqual(Testing.error(try solve(batch, .ones(shape: [2, 1, 2]))), .singular(pivot: 1, matrix: [1, 0]))
  }
}
