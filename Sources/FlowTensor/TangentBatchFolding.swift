// Folding the leading batch axes of a forward-mode tangent into one axis of
// its primal part, and back: how the tangent rules of ops with a fixed
// operand rank (conv2d's rank-4 images, the LAPACK functions' right-hand
// sides of the matrices' batch shape) push several directions through one
// call. Both directions use public differentiable ops (transposition and
// reshape), so a folded tangent is still recorded for reverse-over-forward.

extension Tensor {
  /// Merges the leading `batchRank` axes into axis `axis` of the remaining
  /// (primal) axes, the batch outermost:
  /// `[T..., p₀, …, p_axis, …]` → `[p₀, …, T·p_axis, …]`, where entry
  /// `t·p_axis + i` of the merged axis is tangent `t`'s entry `i`.
  /// - Parameters:
  ///   - batchRank: the number of leading batch axes; 0 returns `self`.
  ///   - axis: an axis of the primal part, in `0..<(rank − batchRank)`.
  /// - Complexity: one transposing copy unless `axis` is 0.
  func foldingLeadingAxes(_ batchRank: Int, into axis: Int) -> Tensor {
    guard batchRank > 0 else { return self }
    let permutation =
      Array(batchRank..<(batchRank + axis)) + Array(0..<batchRank) + Array((batchRank + axis)..<rank)
    var newShape = Array(shape[batchRank...])
    newShape[axis] *= shape[..<batchRank].reduce(1, *)
    return transposed(permutation: permutation).reshaped(to: newShape)
  }

  /// The inverse of ``foldingLeadingAxes(_:into:)``: splits axis `axis`,
  /// of size `T·size`, into `batchShape + [size]` and moves the batch axes
  /// to the front.
  /// - Parameters:
  ///   - batchShape: the tangent batch shape T; empty returns `self`.
  ///   - axis: the merged axis.
  ///   - size: the primal size of that axis.
  /// - Complexity: one transposing copy unless `axis` is 0.
  func unfoldingLeadingAxes(_ batchShape: [Int], from axis: Int, size: Int) -> Tensor {
    guard !batchShape.isEmpty else { return self }
    var newShape = shape
    newShape.replaceSubrange(axis...axis, with: batchShape + [size])
    let batchRank = batchShape.count
    let permutation =
      Array(axis..<(axis + batchRank)) + Array(0..<axis) + Array((axis + batchRank)..<newShape.count)
    return reshaped(to: newShape).transposed(permutation: permutation)
  }
}
