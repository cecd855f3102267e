/// Shape checks, batch walking and the row-major ↔ column-major copies that
/// the LAPACK-backed functions share.
///
/// LAPACK reads matrices column-major, and a row-major `[rows, columns]`
/// buffer read column-major is the transpose, `[columns, rows]`. Each
/// function uses that to hand its input to LAPACK uncopied where the
/// algebra allows (factor Aᵀ, solve with `trans = 'T'`, read the other
/// triangle) and says in its documentation which copies remain.
enum LinearAlgebraLayout {
  /// The batch shape and order of a stack of square matrices `[..., n, n]`.
  static func squareMatrices(_ shape: [Int], operation: String) -> (batchShape: [Int], order: Int) {
    precondition(
      shape.count >= 2 && shape[shape.count - 1] == shape[shape.count - 2],
      "\(operation): shape \(shape) is not a square matrix [n, n] or a batch of them [..., n, n]")
    return (Array(shape.dropLast(2)), shape[shape.count - 1])
  }

  /// How the right-hand sides `b` of a system with matrices `[..., n, n]`
  /// are laid out: one vector per matrix (`[..., n]`) or `columns` of them
  /// (`[..., n, columns]`), with the same batch shape as the matrices.
  static func rightHandSides(
    _ shape: [Int], batchShape: [Int], order: Int, matrixShape: [Int], operation: String
  ) -> Int {
    if shape == batchShape + [order] { return 1 }
    precondition(
      shape.count == batchShape.count + 2 && Array(shape.prefix(batchShape.count)) == batchShape
        && shape[batchShape.count] == order,
      "\(operation): right-hand side \(shape) does not fit matrix \(matrixShape): "
        + "expected \(batchShape + [order]) or "
        + "[\((batchShape.map { "\($0)" } + ["\(order)", "k"]).joined(separator: ", "))]")
    return shape[shape.count - 1]
  }

  /// The batch multi-index of the `matrix`-th matrix, for error reports.
  static func batchIndex(_ matrix: Int, batchShape: [Int]) -> [Int] {
    var remainder = matrix
    var index = [Int](repeating: 0, count: batchShape.count)
    for axis in stride(from: batchShape.count - 1, through: 0, by: -1) where batchShape[axis] > 0 {
      index[axis] = remainder % batchShape[axis]
      remainder /= batchShape[axis]
    }
    return index
  }

  /// Copies the row-major `rows`×`columns` matrix at `source` to its
  /// transpose at `destination`, i.e. to the same matrix column-major.
  @inline(__always)
  static func transpose<Scalar>(
    _ source: UnsafePointer<Scalar>, rows: Int, columns: Int, into destination: UnsafeMutablePointer<Scalar>
  ) {
    for row in 0..<rows {
      for column in 0..<columns {
        destination[column * rows + row] = source[row * columns + column]
      }
    }
  }

  /// The name of a routine in the precision of `Scalar`, e.g. `dgetrf`.
  static func routine<Scalar: TensorScalar>(_ name: String, _: Scalar.Type) -> String {
    (MemoryLayout<Scalar>.size == MemoryLayout<Float>.size ? "s" : "d") + name
  }

  /// Throws ``LinearAlgebraError/illegalArgument(routine:position:)`` for a
  /// negative `info`.
  @inline(__always)
  static func checkArguments<Scalar: TensorScalar>(_ info: Int, _ name: String, _: Scalar.Type) throws {
    if info < 0 { throw LinearAlgebraError.illegalArgument(routine: routine(name, Scalar.self), position: -info) }
  }

  /// Stops on a negative `info` in a function that does not throw: only a
  /// bug in this package can produce one.
  @inline(__always)
  static func requireArguments<Scalar: TensorScalar>(_ info: Int, _ name: String, _: Scalar.Type) {
    precondition(info >= 0, "LAPACK \(routine(name, Scalar.self)): argument \(-info) had an illegal value")
  }

  /// The optimal workspace size a routine reports in `workspace[0]` after a
  /// query (`lwork = −1`), at least `minimum`.
  static func workspaceCount<Scalar: TensorScalar>(
    minimum: Int, routine name: String, _ query: (UnsafeMutablePointer<Scalar>) -> Int
  ) -> Int {
    var size: Scalar = 0
    let info = query(&size)
    requireArguments(info, name, Scalar.self)
    // A Float may round a large size down; LAPACK ≥ 3.11 rounds it up itself.
    return Swift.max(minimum, Int(size.rounded(.up)))
  }

  /// Calls `body` once per matrix with the right-hand sides of that matrix
  /// column-major (`[n, columns]` with leading dimension n), and returns them
  /// row-major in the shape of `b`.
  ///
  /// Vectors and single columns are column-major as they lie, so they pass
  /// uncopied (beyond the copy that becomes the result); several columns
  /// are transposed into a scratch buffer and back.
  static func solving<Scalar: TensorScalar>(
    _ b: Tensor<Scalar>, matrices: Int, order: Int, columns: Int,
    _ body: (_ matrix: Int, _ rightHandSides: UnsafeMutablePointer<Scalar>) throws -> Void
  ) rethrows -> Tensor<Scalar> {
    var result = b
    guard result.scalarCount > 0 else {
      // Nothing to overwrite, but singular matrices must still be reported.
      var empty: Scalar = 0
      for matrix in 0..<matrices { try body(matrix, &empty) }
      return result
    }
    let size = order * columns
    try result.withUnsafeMutableBufferPointer { buffer in
      let base = buffer.baseAddress!
      if columns == 1 {
        for matrix in 0..<matrices { try body(matrix, base + matrix * size) }
        return
      }
      let scratch = UnsafeMutablePointer<Scalar>.allocate(capacity: size)
      defer { scratch.deallocate() }
      for matrix in 0..<matrices {
        let slice = base + matrix * size
        transpose(slice, rows: order, columns: columns, into: scratch)
        try body(matrix, scratch)
        transpose(scratch, rows: columns, columns: order, into: slice)
      }
    }
    return result
  }
}
