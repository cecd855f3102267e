/// Sums over the rows of row-major matrices: the bias cotangents of
/// ``affine(_:weight:bias:)`` and of layer normalisation.
///
/// The rows are cut into at most ``blockCount`` blocks, a fixed number, so
/// the result does not depend on the number of threads; each block adds
/// its rows into its own partial row (the inner loop runs along the
/// columns, contiguous and vectorised), the blocks run across cores, and
/// the partial rows are added at the end. One pass over the matrix: a
/// `gemm` with one row of ones, used before, packed the whole matrix first
/// (`sgemm_oncopy`/`itcopy` took as long as the product, perf, issue 9).
enum ColumnSums {
  /// Blocks of rows, each with its own partial sums.
  static let blockCount = 16

  /// The blocks of `rows` rows: block `index` covers `range(index)`.
  struct Blocks {
    let rows: Int
    let count: Int

    init(rows: Int) {
      self.rows = rows
      count = Swift.max(1, Swift.min(rows, ColumnSums.blockCount))
    }

    @inline(__always)
    func range(_ index: Int) -> Range<Int> { (rows * index / count)..<(rows * (index + 1) / count) }

    /// Blocks per chunk of the parallel loop, for `columns` scalars per row.
    func grain(columns: Int) -> Int {
      Swift.max(1, Parallel.elementwiseGrain / Swift.max(1, (rows / count) * columns))
    }
  }

  /// Adds the partial rows `partials` (`[blocks, columns]`) into `[columns]`.
  @inline(__always)
  static func combine<Scalar: TensorScalar>(
    _ partials: UnsafePointer<Scalar>, blocks: Int, columns: Int
  ) -> Tensor<Scalar> {
    let result = Tensor<Scalar>(repeating: 0, shape: [columns])
    let out = result.storage.base
    for block in 0..<blocks {
      let row = partials + block * columns
      for column in 0..<columns { out[column] += row[column] }
    }
    return result
  }

  /// The column sums of `g` (`[rows, columns]` → `[columns]`).
  /// - Complexity: O(rows·columns), one pass, blocks of rows across cores.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  static func of<Scalar: TensorScalar>(_ g: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(g.rank == 2, "column sums: \(g.shape) is not a matrix")
    let (rows, columns) = (g.shape[0], g.shape[1])
    let blocks = Blocks(rows: rows)
    guard rows > 0, columns > 0 else { return Tensor(repeating: 0, shape: [columns]) }
    let source = UnsafePointer(g.storage.base)
    return withUnsafeTemporaryAllocation(of: Scalar.self, capacity: blocks.count * columns) { buffer in
      let partials = buffer.baseAddress!
      withExtendedLifetime(g) {
        Parallel.forEachRange(count: blocks.count, grain: blocks.grain(columns: columns)) { range in
          for block in range {
            let total = partials + block * columns
            total.initialize(repeating: 0, count: columns)
            for row in blocks.range(block) {
              let line = source + row * columns
              for column in 0..<columns { total[column] += line[column] }
            }
          }
        }
      }
      return combine(UnsafePointer(partials), blocks: blocks.count, columns: columns)
    }
  }
}
