import CLAPACK

/// The LAPACK routines a ``TensorScalar`` reaches, in its own precision.
///
/// Conformances exist for `Float` (`s…_`) and `Double` (`d…_`). Each
/// requirement is a thin, Swift-typed face of one Fortran routine: sizes are
/// `Int` (checked to fit Fortran's 32-bit integers), CHARACTER flags are
/// `Bool`s, matrices are column-major with the given leading dimension, and
/// the routine's `INFO` is returned (0 success, −i an illegal i-th argument,
/// +i a routine-specific failure). The linear-algebra functions
/// (``slogdet(_:)``, ``solve(_:_:)``, …) are the intended callers.
///
/// A workspace of `workspaceCount` −1 is a size query: the optimal size is
/// written to `workspace[0]`.
public protocol LAPACKScalar {
  /// `xGETRF`: LU factorisation with partial pivoting, A = P·L·U, in place;
  /// `pivots` (1-based, `min(rows, columns)` of them) records the row swaps.
  static func lapackGetrf(
    rows: Int, columns: Int, _ a: UnsafeMutablePointer<Self>, leadingDimension: Int,
    pivots: UnsafeMutablePointer<Int32>) -> Int

  /// `xGETRS`: solves A·X = B (or Aᵀ·X = B when `transposed`) with the
  /// factors of `xGETRF`, overwriting `b` (`order`×`rightHandSides`).
  static func lapackGetrs(
    transposed: Bool, order: Int, rightHandSides: Int, _ a: UnsafePointer<Self>, leadingDimension: Int,
    pivots: UnsafePointer<Int32>, _ b: UnsafeMutablePointer<Self>, leadingDimensionOfB: Int) -> Int

  /// `xGETRI`: overwrites the factors of `xGETRF` with the inverse of A.
  static func lapackGetri(
    order: Int, _ a: UnsafeMutablePointer<Self>, leadingDimension: Int, pivots: UnsafePointer<Int32>,
    workspace: UnsafeMutablePointer<Self>, workspaceCount: Int) -> Int

  /// `xPOTRF`: Cholesky factorisation of a symmetric positive-definite A in
  /// place, reading and writing only the `upper` (Uᵀ·U) or lower (L·Lᵀ) triangle.
  static func lapackPotrf(
    upper: Bool, order: Int, _ a: UnsafeMutablePointer<Self>, leadingDimension: Int) -> Int

  /// `xTRTRS`: solves T·X = B or Tᵀ·X = B for a triangular T, overwriting `b`;
  /// returns +i when T's i-th diagonal entry is exactly zero.
  static func lapackTrtrs(
    upper: Bool, transposed: Bool, unitDiagonal: Bool, order: Int, rightHandSides: Int,
    _ a: UnsafePointer<Self>, leadingDimension: Int, _ b: UnsafeMutablePointer<Self>, leadingDimensionOfB: Int
  ) -> Int

  /// `xGELQF`: LQ factorisation A = L·Q in place; Q is kept as
  /// `min(rows, columns)` Householder reflectors above the diagonal and in `tau`.
  static func lapackGelqf(
    rows: Int, columns: Int, _ a: UnsafeMutablePointer<Self>, leadingDimension: Int,
    tau: UnsafeMutablePointer<Self>, workspace: UnsafeMutablePointer<Self>, workspaceCount: Int) -> Int

  /// `xORGLQ`: overwrites the reflectors of `xGELQF` with the `rows`×`columns`
  /// matrix Q of orthonormal rows that the first `reflectors` of them define.
  static func lapackOrglq(
    rows: Int, columns: Int, reflectors: Int, _ a: UnsafeMutablePointer<Self>, leadingDimension: Int,
    tau: UnsafePointer<Self>, workspace: UnsafeMutablePointer<Self>, workspaceCount: Int) -> Int
}

/// A size or dimension as Fortran's 32-bit `INTEGER`.
@inline(__always)
func fortranInteger(_ value: Int) -> Int32 {
  guard let integer = Int32(exactly: value) else {
    preconditionFailure("LAPACK: size \(value) exceeds the 32-bit integers of the linked LAPACK")
  }
  return integer
}

/// A CHARACTER*1 flag: `yes` when the condition holds, else `no`.
@inline(__always)
func fortranFlag(_ condition: Bool, _ yes: Unicode.Scalar, _ no: Unicode.Scalar) -> CChar {
  CChar(bitPattern: UInt8(ascii: condition ? yes : no))
}

extension Float: LAPACKScalar {
  public static func lapackGetrf(
    rows: Int, columns: Int, _ a: UnsafeMutablePointer<Float>, leadingDimension: Int,
    pivots: UnsafeMutablePointer<Int32>
  ) -> Int {
    var m = fortranInteger(rows), n = fortranInteger(columns), lda = fortranInteger(leadingDimension)
    var info: Int32 = 0
    BLASThreading.withLibraryThreads(work: rows * columns * min(rows, columns)) { sgetrf_(&m, &n, a, &lda, pivots, &info) }
    return Int(info)
  }

  public static func lapackGetrs(
    transposed: Bool, order: Int, rightHandSides: Int, _ a: UnsafePointer<Float>, leadingDimension: Int,
    pivots: UnsafePointer<Int32>, _ b: UnsafeMutablePointer<Float>, leadingDimensionOfB: Int
  ) -> Int {
    var trans = fortranFlag(transposed, "T", "N")
    var n = fortranInteger(order), nrhs = fortranInteger(rightHandSides)
    var lda = fortranInteger(leadingDimension), ldb = fortranInteger(leadingDimensionOfB)
    var info: Int32 = 0
    BLASThreading.withLibraryThreads(work: order * order * rightHandSides) { sgetrs_(&trans, &n, &nrhs, a, &lda, pivots, b, &ldb, &info, 1) }
    return Int(info)
  }

  public static func lapackGetri(
    order: Int, _ a: UnsafeMutablePointer<Float>, leadingDimension: Int, pivots: UnsafePointer<Int32>,
    workspace: UnsafeMutablePointer<Float>, workspaceCount: Int
  ) -> Int {
    var n = fortranInteger(order), lda = fortranInteger(leadingDimension)
    var lwork = fortranInteger(workspaceCount)
    var info: Int32 = 0
    BLASThreading.withLibraryThreads(work: order * order * order) { sgetri_(&n, a, &lda, pivots, workspace, &lwork, &info) }
    return Int(info)
  }

  public static func lapackPotrf(
    upper: Bool, order: Int, _ a: UnsafeMutablePointer<Float>, leadingDimension: Int
  ) -> Int {
    var uplo = fortranFlag(upper, "U", "L")
    var n = fortranInteger(order), lda = fortranInteger(leadingDimension)
    var info: Int32 = 0
    BLASThreading.withLibraryThreads(work: order * order * order) { spotrf_(&uplo, &n, a, &lda, &info, 1) }
    return Int(info)
  }

  public static func lapackTrtrs(
    upper: Bool, transposed: Bool, unitDiagonal: Bool, order: Int, rightHandSides: Int,
    _ a: UnsafePointer<Float>, leadingDimension: Int, _ b: UnsafeMutablePointer<Float>, leadingDimensionOfB: Int
  ) -> Int {
    var uplo = fortranFlag(upper, "U", "L")
    var trans = fortranFlag(transposed, "T", "N")
    var diag = fortranFlag(unitDiagonal, "U", "N")
    var n = fortranInteger(order), nrhs = fortranInteger(rightHandSides)
    var lda = fortranInteger(leadingDimension), ldb = fortranInteger(leadingDimensionOfB)
    var info: Int32 = 0
    BLASThreading.withLibraryThreads(work: order * order * rightHandSides) { strtrs_(&uplo, &trans, &diag, &n, &nrhs, a, &lda, b, &ldb, &info, 1, 1, 1) }
    return Int(info)
  }

  public static func lapackGelqf(
    rows: Int, columns: Int, _ a: UnsafeMutablePointer<Float>, leadingDimension: Int,
    tau: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>, workspaceCount: Int
  ) -> Int {
    var m = fortranInteger(rows), n = fortranInteger(columns), lda = fortranInteger(leadingDimension)
    var lwork = fortranInteger(workspaceCount)
    var info: Int32 = 0
    BLASThreading.withLibraryThreads(work: rows * columns * min(rows, columns)) { sgelqf_(&m, &n, a, &lda, tau, workspace, &lwork, &info) }
    return Int(info)
  }

  public static func lapackOrglq(
    rows: Int, columns: Int, reflectors: Int, _ a: UnsafeMutablePointer<Float>, leadingDimension: Int,
    tau: UnsafePointer<Float>, workspace: UnsafeMutablePointer<Float>, workspaceCount: Int
  ) -> Int {
    var m = fortranInteger(rows), n = fortranInteger(columns), k = fortranInteger(reflectors)
    var lda = fortranInteger(leadingDimension), lwork = fortranInteger(workspaceCount)
    var info: Int32 = 0
    BLASThreading.withLibraryThreads(work: rows * columns * reflectors) { sorglq_(&m, &n, &k, a, &lda, tau, workspace, &lwork, &info) }
    return Int(info)
  }
}

extension Double: LAPACKScalar {
  public static func lapackGetrf(
    rows: Int, columns: Int, _ a: UnsafeMutablePointer<Double>, leadingDimension: Int,
    pivots: UnsafeMutablePointer<Int32>
  ) -> Int {
    var m = fortranInteger(rows), n = fortranInteger(columns), lda = fortranInteger(leadingDimension)
    var info: Int32 = 0
    BLASThreading.withLibraryThreads(work: rows * columns * min(rows, columns)) { dgetrf_(&m, &n, a, &lda, pivots, &info) }
    return Int(info)
  }

  public static func lapackGetrs(
    transposed: Bool, order: Int, rightHandSides: Int, _ a: UnsafePointer<Double>, leadingDimension: Int,
    pivots: UnsafePointer<Int32>, _ b: UnsafeMutablePointer<Double>, leadingDimensionOfB: Int
  ) -> Int {
    var trans = fortranFlag(transposed, "T", "N")
    var n = fortranInteger(order), nrhs = fortranInteger(rightHandSides)
    var lda = fortranInteger(leadingDimension), ldb = fortranInteger(leadingDimensionOfB)
    var info: Int32 = 0
    BLASThreading.withLibraryThreads(work: order * order * rightHandSides) { dgetrs_(&trans, &n, &nrhs, a, &lda, pivots, b, &ldb, &info, 1) }
    return Int(info)
  }

  public static func lapackGetri(
    order: Int, _ a: UnsafeMutablePointer<Double>, leadingDimension: Int, pivots: UnsafePointer<Int32>,
    workspace: UnsafeMutablePointer<Double>, workspaceCount: Int
  ) -> Int {
    var n = fortranInteger(order), lda = fortranInteger(leadingDimension)
    var lwork = fortranInteger(workspaceCount)
    var info: Int32 = 0
    BLASThreading.withLibraryThreads(work: order * order * order) { dgetri_(&n, a, &lda, pivots, workspace, &lwork, &info) }
    return Int(info)
  }

  public static func lapackPotrf(
    upper: Bool, order: Int, _ a: UnsafeMutablePointer<Double>, leadingDimension: Int
  ) -> Int {
    var uplo = fortranFlag(upper, "U", "L")
    var n = fortranInteger(order), lda = fortranInteger(leadingDimension)
    var info: Int32 = 0
    BLASThreading.withLibraryThreads(work: order * order * order) { dpotrf_(&uplo, &n, a, &lda, &info, 1) }
    return Int(info)
  }

  public static func lapackTrtrs(
    upper: Bool, transposed: Bool, unitDiagonal: Bool, order: Int, rightHandSides: Int,
    _ a: UnsafePointer<Double>, leadingDimension: Int, _ b: UnsafeMutablePointer<Double>, leadingDimensionOfB: Int
  ) -> Int {
    var uplo = fortranFlag(upper, "U", "L")
    var trans = fortranFlag(transposed, "T", "N")
    var diag = fortranFlag(unitDiagonal, "U", "N")
    var n = fortranInteger(order), nrhs = fortranInteger(rightHandSides)
    var lda = fortranInteger(leadingDimension), ldb = fortranInteger(leadingDimensionOfB)
    var info: Int32 = 0
    BLASThreading.withLibraryThreads(work: order * order * rightHandSides) { dtrtrs_(&uplo, &trans, &diag, &n, &nrhs, a, &lda, b, &ldb, &info, 1, 1, 1) }
    return Int(info)
  }

  public static func lapackGelqf(
    rows: Int, columns: Int, _ a: UnsafeMutablePointer<Double>, leadingDimension: Int,
    tau: UnsafeMutablePointer<Double>, workspace: UnsafeMutablePointer<Double>, workspaceCount: Int
  ) -> Int {
    var m = fortranInteger(rows), n = fortranInteger(columns), lda = fortranInteger(leadingDimension)
    var lwork = fortranInteger(workspaceCount)
    var info: Int32 = 0
    BLASThreading.withLibraryThreads(work: rows * columns * min(rows, columns)) { dgelqf_(&m, &n, a, &lda, tau, workspace, &lwork, &info) }
    return Int(info)
  }

  public static func lapackOrglq(
    rows: Int, columns: Int, reflectors: Int, _ a: UnsafeMutablePointer<Double>, leadingDimension: Int,
    tau: UnsafePointer<Double>, workspace: UnsafeMutablePointer<Double>, workspaceCount: Int
  ) -> Int {
    var m = fortranInteger(rows), n = fortranInteger(columns), k = fortranInteger(reflectors)
    var lda = fortranInteger(leadingDimension), lwork = fortranInteger(workspaceCount)
    var info: Int32 = 0
    BLASThreading.withLibraryThreads(work: rows * columns * reflectors) { dorglq_(&m, &n, &k, a, &lda, tau, workspace, &lwork, &info) }
    return Int(info)
  }
}
