import FlowTensor
import XCTest

/// The messages of `LinearAlgebraError` say what failed and where.
final class LinearAlgebraErrorTests: XCTestCase {
  func testDescriptions() {
    XCTAssertEqual(
      LinearAlgebraError.singular(pivot: 2).description,
      "matrix is singular: exactly zero pivot at diagonal position 2")
    XCTAssertEqual(
      LinearAlgebraError.singular(pivot: 0, matrix: [1, 3]).description,
      "matrix [1, 3] of the batch is singular: exactly zero pivot at diagonal position 0")
    XCTAssertEqual(
      LinearAlgebraError.notPositiveDefinite(order: 3).description,
      "matrix is not positive definite: its leading minor of order 3 is not positive")
    XCTAssertEqual(
      LinearAlgebraError.notPositiveDefinite(order: 1, matrix: [4]).description,
      "matrix [4] of the batch is not positive definite: its leading minor of order 1 is not positive")
    XCTAssertEqual(
      LinearAlgebraError.illegalArgument(routine: "dgetrf", position: 4).description,
      "LAPACK dgetrf: argument 4 had an illegal value")
  }

  func testEqualityComparesEveryField() {
    XCTAssertEqual(LinearAlgebraError.singular(pivot: 1), .singular(pivot: 1, matrix: []))
    XCTAssertNotEqual(LinearAlgebraError.singular(pivot: 1), .singular(pivot: 2))
    XCTAssertNotEqual(LinearAlgebraError.singular(pivot: 1, matrix: [0]), .singular(pivot: 1, matrix: [1]))
    XCTAssertNotEqual(LinearAlgebraError.singular(pivot: 1), .notPositiveDefinite(order: 1))
  }
}
