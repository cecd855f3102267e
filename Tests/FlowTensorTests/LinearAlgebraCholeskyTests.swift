import FlowTensor
import XCTest
import _TestSupport

private typealias Testing = LinearAlgebraTesting

/// `choleskyFactorization` against NumPy fixtures (`lapack_cholesky.json`),
/// against L·Lᵀ = A, and on matrices that are not positive definite.
final class LinearAlgebraCholeskyTests: XCTestCase {
  func testMatchesNumPyAndReconstructs() throws {
    try checkFixtures(Float.self, tolerance: 1e-5)
    try checkFixtures(Double.self, tolerance: 1e-13)
  }

  func checkFixtures<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) throws {
    let fixtures = try Testing.fixtures("lapack_cholesky.json")
    for name in ["single", "batch"] {
      let a: Tensor<Scalar> = try Testing.tensor(fixtures, "\(name).a")
      let lower = try choleskyFactorization(a)
      assertClose(lower, try Testing.tensor(fixtures, "\(name).lower"), absolute: tolerance, relative: tolerance, name)
      for index in 0..<Testing.batchCount(a) {
        let factor = Testing.matrix(lower, at: index)
        // Exactly zero above the diagonal, positive on it.
        XCTAssertEqual(factor, Testing.triangle(factor, lower: true), "\(name) \(index)")
        for position in 0..<factor.shape[0] { XCTAssertGreaterThan(factor[position, position], 0) }
        let product = Testing.product(factor, Testing.transpose(factor))
        assertClose(
          product, Testing.matrix(a, at: index), absolute: tolerance, relative: tolerance, "L·Lᵀ \(name) \(index)")
      }
    }
  }

  func testReadsOnlyTheLowerTriangle() throws {
    try checkLowerTriangleOnly(Float.self)
    try checkLowerTriangleOnly(Double.self)
  }

  func checkLowerTriangleOnly<Scalar: TensorScalar>(_: Scalar.Type) throws {
    let fixtures = try Testing.fixtures("lapack_cholesky.json")
    let a: Tensor<Scalar> = try Testing.tensor(fixtures, "single.a")
    var scribbled = a
    let n = a.shape[0]
    for row in 0..<n {
      for column in (row + 1)..<n { scribbled[row, column] = row % 2 == 0 ? .nan : -1000 }
    }
    XCTAssertEqual(try choleskyFactorization(scribbled), try choleskyFactorization(a))
  }

  func testNotPositiveDefiniteThrowsTheFailingOrder() {
    checkIndefinite(Float.self)
    checkIndefinite(Double.self)
  }

  func checkIndefinite<Scalar: TensorScalar>(_: Scalar.Type) {
    // Leading minors 1, 2, −6: the third fails.
    let diagonal = Tensor<Scalar>([[1, 0, 0, 0], [0, 2, 0, 0], [0, 0, -3, 0], [0, 0, 0, 4]])
    XCTAssertEqual(Testing.error(try choleskyFactorization(diagonal)), .notPositiveDefinite(order: 3))
    // Positive diagonal, leading minors 1 and 1 − 4 = −3.
    let indefinite = Tensor<Scalar>([[1, 2], [2, 1]])
    XCTAssertEqual(Testing.error(try choleskyFactorization(indefinite)), .notPositiveDefinite(order: 2))
    // Semidefinite is not enough: minor 1 is 0.
    let zero = Tensor<Scalar>.zeros(shape: [3, 3])
    XCTAssertEqual(Testing.error(try choleskyFactorization(zero)), .notPositiveDefinite(order: 1))
    XCTAssertEqual(Testing.error(try choleskyFactorization(Tensor<Scalar>([[-4]]))), .notPositiveDefinite(order: 1))
    // The second matrix of a batch of two; the first is fine.
    let batch = Testing.stack([Tensor<Scalar>.identity(size: 2), indefinite])
    XCTAssertEqual(Testing.error(try choleskyFactorization(batch)), .notPositiveDefinite(order: 2, matrix: [1]))
  }

  func testEmptyAndOneByOne() throws {
    try checkSmall(Float.self)
    try checkSmall(Double.self)
  }

  func checkSmall<Scalar: TensorScalar>(_: Scalar.Type) throws {
    XCTAssertEqual(try choleskyFactorization(Tensor<Scalar>.zeros(shape: [0, 0])).shape, [0, 0])
    XCTAssertEqual(try choleskyFactorization(Tensor<Scalar>.zeros(shape: [0, 3, 3])).shape, [0, 3, 3])
    XCTAssertEqual(try choleskyFactorization(Tensor<Scalar>([[4]])), Tensor([[2]]))
    XCTAssertEqual(try choleskyFactorization(Tensor<Scalar>.identity(size: 3)), .identity(size: 3))
  }
}
