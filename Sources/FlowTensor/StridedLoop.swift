/// Strided iteration over an output shape, the engine under broadcasting,
/// transposition and every elementwise kernel.
///
/// Operands are described by strides over the output's shape (0 on a
/// broadcast axis). Adjacent axes that are contiguous for every operand are
/// merged first, so a broadcast over `[N, C]` with a `[C]` operand becomes one
/// loop of rows with a tight inner loop.
@usableFromInline
struct StridedLayout {
  /// The shape after merging; never empty (rank 0 becomes `[1]`).
  @usableFromInline var shape: [Int]
  /// One stride array per operand, aligned with `shape`.
  @usableFromInline var strides: [[Int]]

  /// Merges axes of `shape` that every operand walks contiguously.
  @usableFromInline
  init(shape: [Int], strides operandStrides: [[Int]]) {
    var mergedShape: [Int] = []
    var merged: [[Int]] = Array(repeating: [], count: operandStrides.count)
    for axis in 0..<shape.count where shape[axis] != 1 {
      if let last = mergedShape.indices.last,
        operandStrides.indices.allSatisfy({ merged[$0][last] == operandStrides[$0][axis] * shape[axis] })
      {
        mergedShape[last] *= shape[axis]
        for operand in operandStrides.indices { merged[operand][last] = operandStrides[operand][axis] }
      } else {
        mergedShape.append(shape[axis])
        for operand in operandStrides.indices { merged[operand].append(operandStrides[operand][axis]) }
      }
    }
    if mergedShape.isEmpty {
      mergedShape = [1]
      merged = Array(repeating: [1], count: operandStrides.count)
    }
    self.shape = mergedShape
    self.strides = merged
  }

  /// The length of the innermost loop.
  @inlinable var innerCount: Int { shape[shape.count - 1] }

  /// The number of inner loops (the product of all but the last axis).
  @inlinable var outerCount: Int { shape.dropLast().reduce(1, *) }

  /// The starting offset of operand `operand` for inner loop number `row`,
  /// where a "row" spans the last `trailingAxes` axes (1: one inner loop;
  /// 2: a block of inner loops along the last two axes).
  @inlinable
  func offset(ofRow row: Int, operand: Int, trailingAxes: Int = 1) -> Int {
    var remainder = row
    var offset = 0
    let operandStrides = strides[operand]
    var axis = shape.count - 1 - trailingAxes
    while axis >= 0 {
      let size = shape[axis]
      offset += (remainder % size) * operandStrides[axis]
      remainder /= size
      axis -= 1
    }
    return offset
  }
}
