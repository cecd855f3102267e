import CBLAS

/// Whether a BLAS routine reads a matrix operand as stored or as its
/// transpose: the `op(A)` of the BLAS reference.
public enum BLASTranspose: Sendable, Equatable {
  /// `op(A) = A`.
  case notTransposed
  /// `op(A) = Aᵀ`.
  case transposed
}

/// The BLAS routines a ``TensorScalar`` reaches, in its own precision.
///
/// Conformances exist for `Float` (`cblas_s…`) and `Double` (`cblas_d…`).
/// Every matrix is row-major, as ``Tensor`` is; a leading dimension is the
/// distance in scalars between the starts of two consecutive stored rows,
/// at least `max(1, stored columns)`. Vector strides are nonzero and may be
/// negative, as in the BLAS reference. Sizes are checked against the 32-bit
/// `int` of the C interface.
///
/// These are raw-pointer entry points for kernels; tensor-level code calls
/// ``matmul(_:_:transposingA:transposingB:)`` or the convolutions.
public protocol BLASScalar {
  /// General matrix product, `C ← α·op(A)·op(B) + β·C` (BLAS level 3 `gemm`).
  /// - Parameters:
  ///   - transposeA, transposeB: whether `A` and `B` are read transposed.
  ///   - m, n, k: `op(A)` is m×k, `op(B)` is k×n, `C` is m×n; all ≥ 0.
  ///   - a: stored m×k (k×m when transposed) with leading dimension `leadingDimensionA`.
  ///   - b: stored k×n (n×k when transposed) with leading dimension `leadingDimensionB`.
  ///   - c: stored m×n with leading dimension `leadingDimensionC`; when
  ///     `beta` is 0 its prior contents are ignored, NaN included.
  /// - Complexity: O(m·n·k); large products are split into blocks of rows
  ///   or columns run on ``Parallel``'s threads (see `BLASThreading`).
  static func gemm(
    _ transposeA: BLASTranspose, _ transposeB: BLASTranspose,
    m: Int, n: Int, k: Int,
    alpha: Self, a: UnsafePointer<Self>, leadingDimensionA: Int,
    b: UnsafePointer<Self>, leadingDimensionB: Int,
    beta: Self, c: UnsafeMutablePointer<Self>, leadingDimensionC: Int)

  /// Matrix–vector product, `y ← α·op(A)·x + β·y` (BLAS level 2 `gemv`).
  /// - Parameters:
  ///   - m, n: `A` is stored m×n (before `op`); both ≥ 0.
  ///   - x: `n` scalars (`m` when transposed) at stride `strideX`.
  ///   - y: `m` scalars (`n` when transposed) at stride `strideY`.
  /// - Complexity: O(m·n).
  static func gemv(
    _ transpose: BLASTranspose, m: Int, n: Int,
    alpha: Self, a: UnsafePointer<Self>, leadingDimension: Int,
    x: UnsafePointer<Self>, strideX: Int,
    beta: Self, y: UnsafeMutablePointer<Self>, strideY: Int)

  /// `y ← α·x + y` over `count` scalars (BLAS level 1 `axpy`).
  /// - Complexity: O(count).
  static func axpy(
    count: Int, alpha: Self, x: UnsafePointer<Self>, strideX: Int,
    y: UnsafeMutablePointer<Self>, strideY: Int)

  /// The inner product `Σ xᵢ·yᵢ` over `count` scalars (BLAS level 1 `dot`).
  /// - Complexity: O(count).
  static func dot(
    count: Int, x: UnsafePointer<Self>, strideX: Int, y: UnsafePointer<Self>, strideY: Int
  ) -> Self

  /// `x ← α·x` over `count` scalars (BLAS level 1 `scal`).
  /// - Complexity: O(count).
  static func scal(count: Int, alpha: Self, x: UnsafeMutablePointer<Self>, stride: Int)
}

/// Conversions to the C interface's types, shared by both conformances.
enum BLASArguments {
  /// `value` as the C `int` of a size, stride or leading dimension.
  @inline(__always)
  static func int32(_ value: Int, _ name: StaticString, routine: StaticString) -> Int32 {
    precondition(
      value >= Int(Int32.min) && value <= Int(Int32.max),
      "\(routine): \(name) = \(value) does not fit the 32-bit BLAS interface")
    return Int32(truncatingIfNeeded: value)
  }

  /// Checks a size (≥ 0) and converts it.
  @inline(__always)
  static func size(_ value: Int, _ name: StaticString, routine: StaticString) -> Int32 {
    precondition(value >= 0, "\(routine): \(name) = \(value) is negative")
    return int32(value, name, routine: routine)
  }

  /// Checks a row-major leading dimension against the stored column count.
  @inline(__always)
  static func leadingDimension(
    _ value: Int, columns: Int, _ name: StaticString, routine: StaticString
  ) -> Int32 {
    precondition(
      value >= max(1, columns),
      "\(routine): \(name) = \(value) is below max(1, \(columns) stored columns)")
    return int32(value, name, routine: routine)
  }

  /// Checks a vector stride (nonzero) and converts it.
  @inline(__always)
  static func stride(_ value: Int, _ name: StaticString, routine: StaticString) -> Int32 {
    precondition(value != 0, "\(routine): \(name) is 0")
    return int32(value, name, routine: routine)
  }

  @inline(__always)
  static func transpose(_ value: BLASTranspose) -> CBLAS_TRANSPOSE {
    value == .transposed ? CblasTrans : CblasNoTrans
  }

  /// The C arguments of one block of a `gemm`, for `cblas_?gemm`.
  struct GemmBlock {
    var transposeA: CBLAS_TRANSPOSE, transposeB: CBLAS_TRANSPOSE
    var m: Int32, n: Int32, k: Int32
    var leadingDimensionA: Int32, leadingDimensionB: Int32, leadingDimensionC: Int32
    /// Where the block's operands start, in scalars from `a`, `b` and `c`.
    var offsetA: Int, offsetB: Int, offsetC: Int
  }

  /// Checks a `gemm`'s sizes against the C interface's `int`, then calls
  /// `body` once per block of the product that `BLASThreading` runs
  /// (concurrently when the product is large enough).
  @inline(__always)
  static func forEachGemmBlock(
    routine: StaticString, _ transposeA: BLASTranspose, _ transposeB: BLASTranspose, m: Int, n: Int, k: Int,
    leadingDimensions: (a: Int, b: Int, c: Int), _ body: (GemmBlock) -> Void
  ) {
    _ = size(m, "m", routine: routine)
    _ = size(n, "n", routine: routine)
    let inner = size(k, "k", routine: routine)
    let lda = leadingDimension(
      leadingDimensions.a, columns: transposeA == .transposed ? m : k, "leadingDimensionA", routine: routine)
    let ldb = leadingDimension(
      leadingDimensions.b, columns: transposeB == .transposed ? k : n, "leadingDimensionB", routine: routine)
    let ldc = leadingDimension(leadingDimensions.c, columns: n, "leadingDimensionC", routine: routine)
    let (opA, opB) = (transpose(transposeA), transpose(transposeB))
    BLASThreading.forEachBlock(m: m, n: n, k: k) { rows, columns in
      body(
        GemmBlock(
          transposeA: opA, transposeB: opB, m: Int32(rows.count), n: Int32(columns.count), k: inner,
          leadingDimensionA: lda, leadingDimensionB: ldb, leadingDimensionC: ldc,
          offsetA: offset(rows: rows, transpose: transposeA, leadingDimension: leadingDimensions.a),
          offsetB: offset(columns: columns, transpose: transposeB, leadingDimension: leadingDimensions.b),
          offsetC: rows.lowerBound * leadingDimensions.c + columns.lowerBound))
    }
  }

  /// Where the rows `rows` of `op(A)` start in `A`'s storage.
  @inline(__always)
  static func offset(rows: Range<Int>, transpose: BLASTranspose, leadingDimension: Int) -> Int {
    transpose == .transposed ? rows.lowerBound : rows.lowerBound * leadingDimension
  }

  /// Where the columns `columns` of `op(B)` start in `B`'s storage.
  @inline(__always)
  static func offset(columns: Range<Int>, transpose: BLASTranspose, leadingDimension: Int) -> Int {
    transpose == .transposed ? columns.lowerBound * leadingDimension : columns.lowerBound
  }
}

extension Float: BLASScalar {
  public static func gemm(
    _ transposeA: BLASTranspose, _ transposeB: BLASTranspose,
    m: Int, n: Int, k: Int,
    alpha: Float, a: UnsafePointer<Float>, leadingDimensionA: Int,
    b: UnsafePointer<Float>, leadingDimensionB: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, leadingDimensionC: Int
  ) {
    BLASArguments.forEachGemmBlock(
      routine: "sgemm", transposeA, transposeB, m: m, n: n, k: k,
      leadingDimensions: (leadingDimensionA, leadingDimensionB, leadingDimensionC)
    ) { block in
      cblas_sgemm(
        CblasRowMajor, block.transposeA, block.transposeB, block.m, block.n, block.k,
        alpha, a + block.offsetA, block.leadingDimensionA, b + block.offsetB, block.leadingDimensionB,
        beta, c + block.offsetC, block.leadingDimensionC)
    }
  }

  public static func gemv(
    _ transpose: BLASTranspose, m: Int, n: Int,
    alpha: Float, a: UnsafePointer<Float>, leadingDimension: Int,
    x: UnsafePointer<Float>, strideX: Int,
    beta: Float, y: UnsafeMutablePointer<Float>, strideY: Int
  ) {
    let routine: StaticString = "sgemv"
    cblas_sgemv(
      CblasRowMajor, BLASArguments.transpose(transpose),
      BLASArguments.size(m, "m", routine: routine), BLASArguments.size(n, "n", routine: routine),
      alpha, a, BLASArguments.leadingDimension(leadingDimension, columns: n, "leadingDimension", routine: routine),
      x, BLASArguments.stride(strideX, "strideX", routine: routine),
      beta, y, BLASArguments.stride(strideY, "strideY", routine: routine))
  }

  public static func axpy(
    count: Int, alpha: Float, x: UnsafePointer<Float>, strideX: Int,
    y: UnsafeMutablePointer<Float>, strideY: Int
  ) {
    let routine: StaticString = "saxpy"
    cblas_saxpy(
      BLASArguments.size(count, "count", routine: routine), alpha,
      x, BLASArguments.stride(strideX, "strideX", routine: routine),
      y, BLASArguments.stride(strideY, "strideY", routine: routine))
  }

  public static func dot(
    count: Int, x: UnsafePointer<Float>, strideX: Int, y: UnsafePointer<Float>, strideY: Int
  ) -> Float {
    let routine: StaticString = "sdot"
    return cblas_sdot(
      BLASArguments.size(count, "count", routine: routine),
      x, BLASArguments.stride(strideX, "strideX", routine: routine),
      y, BLASArguments.stride(strideY, "strideY", routine: routine))
  }

  public static func scal(count: Int, alpha: Float, x: UnsafeMutablePointer<Float>, stride: Int) {
    let routine: StaticString = "sscal"
    cblas_sscal(
      BLASArguments.size(count, "count", routine: routine), alpha,
      x, BLASArguments.stride(stride, "stride", routine: routine))
  }
}

extension Double: BLASScalar {
  public static func gemm(
    _ transposeA: BLASTranspose, _ transposeB: BLASTranspose,
    m: Int, n: Int, k: Int,
    alpha: Double, a: UnsafePointer<Double>, leadingDimensionA: Int,
    b: UnsafePointer<Double>, leadingDimensionB: Int,
    beta: Double, c: UnsafeMutablePointer<Double>, leadingDimensionC: Int
  ) {
    BLASArguments.forEachGemmBlock(
      routine: "dgemm", transposeA, transposeB, m: m, n: n, k: k,
      leadingDimensions: (leadingDimensionA, leadingDimensionB, leadingDimensionC)
    ) { block in
      cblas_dgemm(
        CblasRowMajor, block.transposeA, block.transposeB, block.m, block.n, block.k,
        alpha, a + block.offsetA, block.leadingDimensionA, b + block.offsetB, block.leadingDimensionB,
        beta, c + block.offsetC, block.leadingDimensionC)
    }
  }

  public static func gemv(
    _ transpose: BLASTranspose, m: Int, n: Int,
    alpha: Double, a: UnsafePointer<Double>, leadingDimension: Int,
    x: UnsafePointer<Double>, strideX: Int,
    beta: Double, y: UnsafeMutablePointer<Double>, strideY: Int
  ) {
    let routine: StaticString = "dgemv"
    cblas_dgemv(
      CblasRowMajor, BLASArguments.transpose(transpose),
      BLASArguments.size(m, "m", routine: routine), BLASArguments.size(n, "n", routine: routine),
      alpha, a, BLASArguments.leadingDimension(leadingDimension, columns: n, "leadingDimension", routine: routine),
      x, BLASArguments.stride(strideX, "strideX", routine: routine),
      beta, y, BLASArguments.stride(strideY, "strideY", routine: routine))
  }

  public static func axpy(
    count: Int, alpha: Double, x: UnsafePointer<Double>, strideX: Int,
    y: UnsafeMutablePointer<Double>, strideY: Int
  ) {
    let routine: StaticString = "daxpy"
    cblas_daxpy(
      BLASArguments.size(count, "count", routine: routine), alpha,
      x, BLASArguments.stride(strideX, "strideX", routine: routine),
      y, BLASArguments.stride(strideY, "strideY", routine: routine))
  }

  public static func dot(
    count: Int, x: UnsafePointer<Double>, strideX: Int, y: UnsafePointer<Double>, strideY: Int
  ) -> Double {
    let routine: StaticString = "ddot"
    return cblas_ddot(
      BLASArguments.size(count, "count", routine: routine),
      x, BLASArguments.stride(strideX, "strideX", routine: routine),
      y, BLASArguments.stride(strideY, "strideY", routine: routine))
  }

  public static func scal(count: Int, alpha: Double, x: UnsafeMutablePointer<Double>, stride: Int) {
    let routine: StaticString = "dscal"
    cblas_dscal(
      BLASArguments.size(count, "count", routine: routine), alpha,
      x, BLASArguments.stride(stride, "stride", routine: routine))
  }
}
