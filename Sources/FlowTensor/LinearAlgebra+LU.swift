/// The LU factorisation with partial pivoting of a square matrix,
/// A = P·L·U, as LAPACK's `xGETRF` computes it (and SciPy's `lu` returns).
///
/// The factors stay packed as LAPACK left them, so ``solve(_:)`` costs
/// O(n²) per right-hand side; ``lower``, ``upper`` and ``permutation``
/// unpack them into new tensors.
public struct LUFactorization<Scalar: TensorScalar>: Sendable {
  /// n, the size of the factored matrix.
  public let order: Int

  /// L below the diagonal (its unit diagonal implied) and U on and above
  /// it, column-major: the row-major tensor holds (L + U − I)ᵀ.
  let packedFactors: Tensor<Scalar>

  /// `xGETRF`'s 1-based row interchanges: row i was swapped with row
  /// `pivots[i] − 1`, for i = 0, 1, … in turn.
  let pivots: [Int32]

  /// The row interchanges, zero-based: at step i, row i was swapped with row
  /// `pivotIndices[i]` (LAPACK's `IPIV`, less one).
  public var pivotIndices: [Int] { pivots.map { Int($0) - 1 } }

  /// L, `[n, n]`: unit lower triangular.
  public var lower: Tensor<Scalar> {
    unpack { row, column, factor in row > column ? factor : (row == column ? 1 : 0) }
  }

  /// U, `[n, n]`: upper triangular.
  public var upper: Tensor<Scalar> {
    unpack { row, column, factor in row <= column ? factor : 0 }
  }

  /// P, `[n, n]`: the permutation matrix with A = P·L·U.
  public var permutation: Tensor<Scalar> {
    // Replaying the interchanges on 0..<n gives, at position i, the row of A
    // that became row i of L·U = Pᵀ·A; so P[rows[i], i] = 1.
    var rows = Array(0..<order)
    for (step, pivot) in pivotIndices.enumerated() { rows.swapAt(step, pivot) }
    var result = Tensor<Scalar>.zeros(shape: [order, order])
    result.withUnsafeMutableBufferPointer { buffer in
      for (column, row) in rows.enumerated() { buffer[row * order + column] = 1 }
    }
    return result
  }

  /// A new `[n, n]` tensor whose (row, column) entry is `entry(row, column, factor)`,
  /// with `factor` the packed factor at that position.
  private func unpack(_ entry: (Int, Int, Scalar) -> Scalar) -> Tensor<Scalar> {
    var result = Tensor<Scalar>(uninitializedShape: [order, order])
    let n = order
    packedFactors.withUnsafeBufferPointer { packed in
      result.withUnsafeMutableBufferPointer { buffer in
        for row in 0..<n {
          for column in 0..<n { buffer[row * n + column] = entry(row, column, packed[column * n + row]) }
        }
      }
    }
    return result
  }

  /// Solves A·x = b with the stored factors (`xGETRS`).
  /// - Parameters:
  ///   - b: `[n]` or `[n, k]`.
  /// - Returns: x, in the shape of `b`.
  /// - Complexity: O(n²·k). Vectors and single columns pass to LAPACK as
  ///   they lie; `[n, k]` with k > 1 is transposed to column-major and back.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func solve(_ b: Tensor<Scalar>) -> Tensor<Scalar> {
    let n = order
    let columns = LinearAlgebraLayout.rightHandSides(
      b.shape, batchShape: [], order: n, matrixShape: [n, n], operation: "LUFactorization.solve")
    guard n > 0 else { return b }
    return LinearAlgebraLayout.solving(b, matrices: 1, order: n, columns: columns) { _, rightHandSides in
      let info = packedFactors.withUnsafeBufferPointer { factors in
        Scalar.lapackGetrs(
          transposed: false, order: n, rightHandSides: columns, factors.baseAddress!, leadingDimension: n,
          pivots: pivots, rightHandSides, leadingDimensionOfB: n)
      }
      LinearAlgebraLayout.requireArguments(info, "getrs", Scalar.self)
    }
  }
}

/// The LU factorisation with partial pivoting, A = P·L·U (`xGETRF`).
///
/// The factors are those of SciPy's `scipy.linalg.lu`. Since LAPACK pivots
/// rows of a column-major matrix, `a` is transposed into column-major once;
/// the other functions here factor the row-major buffer as it lies (as Aᵀ).
/// - Parameters:
///   - a: `[n, n]`.
/// - Returns: the packed factors and pivots.
/// - Throws: ``LinearAlgebraError/singular(pivot:matrix:)`` when U has an
///   exactly zero diagonal entry; `pivot` is the first such position, and
///   column `pivot` of `a` then lies in the span of the columns before it.
/// - Complexity: O(n³).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func luFactorization<Scalar: TensorScalar>(_ a: Tensor<Scalar>) throws -> LUFactorization<Scalar> {
  precondition(
    a.rank == 2 && a.shape[0] == a.shape[1], "luFactorization: shape \(a.shape) is not a square matrix [n, n]")
  let n = a.shape[0]
  var packed = Tensor<Scalar>(uninitializedShape: [n, n])
  var pivots = [Int32](repeating: 0, count: n)
  guard n > 0 else { return LUFactorization(order: 0, packedFactors: packed, pivots: []) }
  let info = a.withUnsafeBufferPointer { source in
    packed.withUnsafeMutableBufferPointer { buffer in
      LinearAlgebraLayout.transpose(source.baseAddress!, rows: n, columns: n, into: buffer.baseAddress!)
      return Scalar.lapackGetrf(rows: n, columns: n, buffer.baseAddress!, leadingDimension: n, pivots: &pivots)
    }
  }
  try LinearAlgebraLayout.checkArguments(info, "getrf", Scalar.self)
  if info > 0 { throw LinearAlgebraError.singular(pivot: info - 1) }
  return LUFactorization(order: n, packedFactors: packed, pivots: pivots)
}

/// Solves A·x = b for each matrix of a batch (`xGETRF`, then `xGETRS`).
///
/// The row-major `a` is Aᵀ column-major, so it is factored as it lies
/// (Aᵀ = P·L·U) and the system solved as (Aᵀ)ᵀ·x = b with `trans = 'T'`:
/// the only copy of `a` is the one LAPACK overwrites.
/// - Parameters:
///   - a: `[n, n]` or `[..., n, n]`.
///   - b: `[..., n]` (one vector per matrix) or `[..., n, k]`, with the batch
///     shape of `a`.
/// - Returns: x, in the shape of `b`; differentiable in `a` and `b`
///   (B̄ = A⁻ᵀ·X̄, Ā = −B̄·Xᵀ; dX = A⁻¹·(dB − dA·X)).
/// - Throws: ``LinearAlgebraError/singular(pivot:matrix:)`` when a matrix is
///   exactly singular; `pivot` is the first zero pivot of the factorisation
///   of Aᵀ, so row `pivot` of that matrix lies in the span of the rows before it.
/// - Complexity: O(n³ + n²·k) per matrix; `b` with k > 1 columns is
///   transposed to column-major and back.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func solve<Scalar: TensorScalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) throws -> Tensor<Scalar> {
  let value = try solveValue(a, b, transposed: false)
  guard a.autodiff != nil || b.autodiff != nil else { return value }
  return solveDerived(value, a, b)
}

/// The value of ``solve(_:_:)``, without derivatives; with `transposed`, of
/// Aᵀ·x = b instead, from the same factorisation of the same buffer (so it
/// throws exactly when the untransposed solve does).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func solveValue<Scalar: TensorScalar>(
  _ a: Tensor<Scalar>, _ b: Tensor<Scalar>, transposed: Bool
) throws -> Tensor<Scalar> {
  let (batchShape, n) = LinearAlgebraLayout.squareMatrices(a.shape, operation: "solve")
  let columns = LinearAlgebraLayout.rightHandSides(
    b.shape, batchShape: batchShape, order: n, matrixShape: a.shape, operation: "solve")
  let matrices = batchShape.reduce(1, *)
  guard n > 0 else { return b }
  let factors = UnsafeMutablePointer<Scalar>.allocate(capacity: n * n)
  defer { factors.deallocate() }
  var pivots = [Int32](repeating: 0, count: n)
  return try a.withUnsafeBufferPointer { source in
    try LinearAlgebraLayout.solving(b, matrices: matrices, order: n, columns: columns) { matrix, rightHandSides in
      factors.update(from: source.baseAddress! + matrix * n * n, count: n * n)
      let info = Scalar.lapackGetrf(rows: n, columns: n, factors, leadingDimension: n, pivots: &pivots)
      try LinearAlgebraLayout.checkArguments(info, "getrf", Scalar.self)
      if info > 0 {
        throw LinearAlgebraError.singular(
          pivot: info - 1, matrix: LinearAlgebraLayout.batchIndex(matrix, batchShape: batchShape))
      }
      let solveInfo = Scalar.lapackGetrs(
        transposed: !transposed, order: n, rightHandSides: columns, factors, leadingDimension: n, pivots: pivots,
        rightHandSides, leadingDimensionOfB: n)
      try LinearAlgebraLayout.checkArguments(solveInfo, "getrs", Scalar.self)
    }
  }
}

/// The inverse of each matrix of a batch (`xGETRF`, then `xGETRI`).
///
/// The row-major `a` is Aᵀ column-major, and (Aᵀ)⁻¹ = (A⁻¹)ᵀ: inverting the
/// buffer as LAPACK reads it leaves A⁻¹ row-major, with no transposing copy.
/// - Parameters:
///   - a: `[n, n]` or `[..., n, n]`.
/// - Returns: A⁻¹, in the shape of `a`; differentiable (Ā = −A⁻ᵀ·Ḡ·A⁻ᵀ,
///   dA⁻¹ = −A⁻¹·dA·A⁻¹).
/// - Throws: ``LinearAlgebraError/singular(pivot:matrix:)`` when a matrix is
///   exactly singular (see ``solve(_:_:)`` for what `pivot` means).
/// - Complexity: O(n³) per matrix.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func inverse<Scalar: TensorScalar>(_ a: Tensor<Scalar>) throws -> Tensor<Scalar> {
  let value = try inverseValue(a)
  guard a.autodiff != nil else { return value }
  return inverseDerived(value, a)
}

/// The value of ``inverse(_:)``, without derivatives.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func inverseValue<Scalar: TensorScalar>(_ a: Tensor<Scalar>) throws -> Tensor<Scalar> {
  let (batchShape, n) = LinearAlgebraLayout.squareMatrices(a.shape, operation: "inverse")
  let matrices = batchShape.reduce(1, *)
  var result = a
  guard n > 0 && matrices > 0 else { return result }
  var pivots = [Int32](repeating: 0, count: n)
  try result.withUnsafeMutableBufferPointer { buffer in
    let base = buffer.baseAddress!
    let workspaceCount = LinearAlgebraLayout.workspaceCount(minimum: n, routine: "getri") { query in
      Scalar.lapackGetri(
        order: n, base, leadingDimension: n, pivots: pivots, workspace: query, workspaceCount: -1)
    }
    let workspace = UnsafeMutablePointer<Scalar>.allocate(capacity: workspaceCount)
    defer { workspace.deallocate() }
    for matrix in 0..<matrices {
      let slice = base + matrix * n * n
      let info = Scalar.lapackGetrf(rows: n, columns: n, slice, leadingDimension: n, pivots: &pivots)
      try LinearAlgebraLayout.checkArguments(info, "getrf", Scalar.self)
      if info > 0 {
        throw LinearAlgebraError.singular(
          pivot: info - 1, matrix: LinearAlgebraLayout.batchIndex(matrix, batchShape: batchShape))
      }
      let inverseInfo = Scalar.lapackGetri(
        order: n, slice, leadingDimension: n, pivots: pivots, workspace: workspace, workspaceCount: workspaceCount)
      try LinearAlgebraLayout.checkArguments(inverseInfo, "getri", Scalar.self)
      // xGETRI reports a zero diagonal of U, which xGETRF has already thrown for.
      precondition(
        inverseInfo == 0,
        "inverse: \(LinearAlgebraLayout.routine("getri", Scalar.self)) info \(inverseInfo) "
          + "after a nonsingular factorisation")
    }
  }
  return result
}
