/// A failure of a LAPACK-backed linear-algebra function that depends on the
/// data, not on the shapes: thrown by ``solve(_:_:)``, ``inverse(_:)``,
/// ``luFactorization(_:)``, ``choleskyFactorization(_:)`` and
/// ``triangularSolve(_:_:lower:transposed:unitDiagonal:)``.
///
/// `matrix` is the batch index (the leading axes of `[..., n, n]`) of the
/// matrix that failed; it is empty for a single `[n, n]` matrix.
public enum LinearAlgebraError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The matrix is exactly singular: elimination met a zero pivot at the
  /// zero-based diagonal position `pivot` (for a triangular matrix, its
  /// diagonal entry `pivot` is zero).
  case singular(pivot: Int, matrix: [Int] = [])

  /// The leading principal minor of order `order` (1-based: its size) is not
  /// positive, so the matrix is not positive definite and has no Cholesky
  /// factor.
  case notPositiveDefinite(order: Int, matrix: [Int] = [])

  /// LAPACK rejected argument `position` (1-based) of `routine`: a bug in
  /// this package rather than in the caller's data, reported rather than
  /// trapped so a long run can save its state.
  case illegalArgument(routine: String, position: Int)

  /// What failed and where, e.g. "matrix [1] of the batch is singular:
  /// exactly zero pivot at diagonal position 2".
  public var description: String {
    switch self {
    case let .singular(pivot, matrix):
      return "\(Self.subject(matrix)) is singular: exactly zero pivot at diagonal position \(pivot)"
    case let .notPositiveDefinite(order, matrix):
      return "\(Self.subject(matrix)) is not positive definite: its leading minor of order \(order) is not positive"
    case let .illegalArgument(routine, position):
      return "LAPACK \(routine): argument \(position) had an illegal value"
    }
  }

  private static func subject(_ matrix: [Int]) -> String {
    matrix.isEmpty ? "matrix" : "matrix \(matrix) of the batch"
  }
}
