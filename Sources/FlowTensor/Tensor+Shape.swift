/// Reshaping, squeezing, transposition and broadcasting.
///
/// Ops that keep the row-major order of the scalars (reshape, squeeze,
/// expand) share the storage of their operand; the others copy into a fresh
/// contiguous tensor.
///
/// All are differentiable in both modes: the pullback of a reshape,
/// squeeze or expand reshapes back, of a transpose applies the inverse
/// permutation, of a broadcast sums over the broadcast axes
/// (``unbroadcast(to:)``). Tangents keep their leading batch axes in front.
extension Tensor {
  /// The same scalars, in row-major order, under a new shape.
  ///
  /// ```swift
  /// x.reshaped(to: [2, -1])  // x: [2, 3, 4] → [2, 12]
  /// ```
  /// - Parameters:
  ///   - newShape: sizes whose product is ``scalarCount``; at most one size
  ///     may be `-1`, inferred from the others (which then must not
  ///     multiply to 0). No other size is negative.
  /// - Returns: a tensor sharing this tensor's storage (copy-on-write).
  /// - Complexity: O(rank).
  public func reshaped(to newShape: [Int]) -> Tensor {
    let resolved = Shape.resolvedReshape(newShape, count: scalarCount, from: shape)
    return sharingStorage(as: resolved, operation: "reshaped(to: \(newShape))")
  }

  /// This tensor's scalars, in the same order, under `newShape` (of the
  /// same count), with the derivatives of a reshape: the cotangent is
  /// reshaped back, the tangent's primal part reshaped forward.
  @inline(__always)
  func sharingStorage(as newShape: [Int], operation: @autoclosure () -> String) -> Tensor {
    let result = Tensor(shape: newShape, storage: storage)
    guard autodiff != nil else { return result }
    let inputShape = shape
    return result.derived(
      from: self, operation: operation(),
      pullback: { $0.reshaped(to: inputShape) },
      tangent: { input, _, tangent in
        tangent.reshaped(to: Array(tangent.shape[..<tangentBatchRank(tangent, primal: input)]) + newShape)
      })
  }

  /// Removes the given size-1 axes, or every size-1 axis when none are given.
  /// - Parameters:
  ///   - axes: distinct axes, negative ones counting from the end; each has
  ///     size 1.
  /// - Returns: a tensor sharing this tensor's storage.
  /// - Complexity: O(rank).
  public func squeezingShape(at axes: Int...) -> Tensor {
    squeezingShape(at: axes)
  }

  /// Removes the given size-1 axes, or every size-1 axis when `axes` is empty.
  /// - Parameters:
  ///   - axes: distinct axes, negative ones counting from the end; each has
  ///     size 1.
  /// - Returns: a tensor sharing this tensor's storage.
  /// - Complexity: O(rank).
  public func squeezingShape(at axes: [Int]) -> Tensor {
    let operation = "squeezingShape(at: \(axes))"
    if axes.isEmpty { return sharingStorage(as: shape.filter { $0 != 1 }, operation: operation) }
    let removed = Shape.normalizedAxes(axes, rank: rank, operation: "squeezingShape(at: \(axes))")
    for axis in removed {
      precondition(
        shape[axis] == 1,
        "squeezingShape(at: \(axes)): axis \(axis) of shape \(shape) has size \(shape[axis]), not 1")
    }
    var newShape = shape
    for axis in removed.reversed() { newShape.remove(at: axis) }
    return sharingStorage(as: newShape, operation: operation)
  }

  /// Inserts size-1 axes (unsqueeze).
  ///
  /// ```swift
  /// x.expandingShape(at: 0, -1)  // x: [3, 4] → [1, 3, 4, 1]
  /// ```
  /// - Parameters:
  ///   - axes: distinct positions of the new axes in the result, whose rank
  ///     is `rank + axes.count`; negative ones count from the end of the
  ///     result.
  /// - Returns: a tensor sharing this tensor's storage.
  /// - Complexity: O(rank).
  public func expandingShape(at axes: Int...) -> Tensor {
    expandingShape(at: axes)
  }

  /// Inserts size-1 axes (unsqueeze) at `axes`, positions in the result.
  /// - Parameters:
  ///   - axes: distinct positions of the new axes in the result, whose rank
  ///     is `rank + axes.count`; negative ones count from the end of the
  ///     result.
  /// - Returns: a tensor sharing this tensor's storage.
  /// - Complexity: O(rank).
  public func expandingShape(at axes: [Int]) -> Tensor {
    let resultRank = rank + axes.count
    let inserted = Shape.normalizedAxes(axes, rank: resultRank, operation: "expandingShape(at: \(axes))")
    var newShape = shape
    for axis in inserted { newShape.insert(1, at: axis) }
    return sharingStorage(as: newShape, operation: "expandingShape(at: \(axes))")
  }

  /// Permutes the axes: axis `i` of the result is axis `permutation[i]` of
  /// this tensor (NumPy's `transpose(x, axes)`).
  /// - Parameters:
  ///   - permutation: a permutation of `0..<rank`.
  /// - Returns: a fresh contiguous tensor of shape
  ///   `permutation.map { shape[$0] }`; this tensor itself (shared storage)
  ///   when the permutation is the identity.
  /// - Complexity: O(n). Batched matrix transposes (the fastest-varying
  ///   source axis moved outward) go through cache-sized tiles.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func transposed(permutation: [Int]) -> Tensor {
    precondition(
      Shape.isPermutation(permutation, rank: rank),
      "transposed(permutation: \(permutation)): not a permutation of 0..<\(rank) for shape \(shape)")
    if permutation.elementsEqual(0..<rank) { return self }
    let ownStrides = strides
    let newShape = permutation.map { shape[$0] }
    let newStrides = permutation.map { ownStrides[$0] }
    let source = UnsafePointer(storage.base)
    let value =
      Tensor.tiledTranspose(from: source, shape: newShape, strides: newStrides)
      ?? Tensor.gather(from: source, shape: newShape, strides: newStrides)
    guard autodiff != nil else { return value }
    var inverse = permutation
    for (axis, original) in permutation.enumerated() { inverse[original] = axis }
    return value.derived(
      from: self, operation: "transposed(permutation: \(permutation))",
      pullback: { $0.transposed(permutation: inverse) },
      tangent: { input, _, tangent in
        // The batch axes stay in front, the primal axes follow the permutation.
        let batchRank = tangentBatchRank(tangent, primal: input)
        return tangent.transposed(permutation: Array(0..<batchRank) + permutation.map { $0 + batchRank })
      })
  }

  /// Swaps the last two axes: the matrix transpose, batched over leading axes.
  /// - Parameters:
  ///   - self: `[..., m, n]`, rank at least 2.
  /// - Returns: `[..., n, m]`, a fresh contiguous tensor.
  /// - Complexity: O(n).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func transposed() -> Tensor {
    precondition(rank >= 2, "transposed(): shape \(shape) has rank \(rank), needs at least 2")
    var permutation = Array(0..<rank)
    permutation.swapAt(rank - 1, rank - 2)
    return transposed(permutation: permutation)
  }

  /// Repeats this tensor along broadcast axes to `targetShape`, by NumPy's
  /// rules (`np.broadcast_to`): shapes aligned at the last axis, each size
  /// equal to the target's or 1.
  /// - Parameters:
  ///   - targetShape: at least as many axes as `shape`.
  /// - Returns: a fresh contiguous tensor of `targetShape`; this tensor
  ///   itself when the shapes are equal.
  /// - Complexity: O(n) in the result's size.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func broadcast(to targetShape: [Int]) -> Tensor {
    if targetShape == shape { return self }
    _ = Shape.validatedCount(targetShape, operation: "broadcast(to: \(targetShape))")
    let broadcastStrides = Shape.broadcastStrides(of: shape, to: targetShape)
    let value = Tensor.gather(from: UnsafePointer(storage.base), shape: targetShape, strides: broadcastStrides)
    guard autodiff != nil else { return value }
    let inputShape = shape
    return value.derived(
      from: self, operation: "broadcast(to: \(targetShape))",
      pullback: { $0.unbroadcast(to: inputShape) },
      tangent: { input, _, tangent in
        // Size-1 axes between the batch axes and the primal ones first, so
        // that the batch axes do not align with the target's leading axes.
        let batchRank = tangentBatchRank(tangent, primal: input)
        let aligned = alignTangent(tangent, primalRank: input.rank, toRank: targetShape.count)
        return aligned.broadcast(to: Array(tangent.shape[..<batchRank]) + targetShape)
      })
  }

  /// Copies a batched matrix transpose tile by tile, or returns nil when the
  /// layout is not one.
  ///
  /// After merging, the read pattern is `[batch..., a, b]` with strides
  /// `[..., 1, a]`: each batch entry is the transpose of a contiguous
  /// `[b, a]` matrix. Row-by-row copying would then read with stride `a`
  /// and touch a new cache line per scalar; 32×32 tiles keep both the rows
  /// read and the rows written in L1.
  @inline(__always)
  static func tiledTranspose(from source: UnsafePointer<Scalar>, shape: [Int], strides: [Int]) -> Tensor? {
    let layout = StridedLayout(shape: shape, strides: [strides])
    let merged = layout.shape.count
    guard merged >= 2 else { return nil }
    let rows = layout.shape[merged - 2]
    let columns = layout.shape[merged - 1]
    guard layout.strides[0][merged - 2] == 1, layout.strides[0][merged - 1] == rows,
      rows * columns >= 256
    else { return nil }
    let result = Tensor(uninitializedShape: shape)
    let out = result.storage.base
    let tile = 32
    let rowTiles = (rows + tile - 1) / tile
    let batches = layout.outerCount / rows
    let grain = max(1, Parallel.elementwiseGrain / (tile * columns))
    Parallel.forEachRange(count: batches * rowTiles, grain: grain) { tasks in
      for task in tasks {
        let batch = task / rowTiles
        let rowStart = (task % rowTiles) * tile
        let rowEnd = min(rowStart + tile, rows)
        let input = source + layout.offset(ofRow: batch * rows, operand: 0)
        let output = out + batch * rows * columns
        var columnStart = 0
        while columnStart < columns {
          let columnEnd = min(columnStart + tile, columns)
          for row in rowStart..<rowEnd {
            let outputRow = output + row * columns
            for column in columnStart..<columnEnd { outputRow[column] = input[column * rows + row] }
          }
          columnStart = columnEnd
        }
      }
    }
    return result
  }
}

extension Shape {
  /// `newShape` with its `-1` (if any) replaced so that it holds `count`
  /// scalars; stops at a precondition naming both shapes otherwise.
  static func resolvedReshape(_ newShape: [Int], count: Int, from shape: [Int]) -> [Int] {
    let message = { "reshaped(to: \(newShape)): shape \(shape)" }
    var inferred: Int? = nil
    var known = 1
    for (axis, size) in newShape.enumerated() {
      if size == -1 {
        precondition(inferred == nil, "\(message()): more than one size is -1")
        inferred = axis
      } else {
        precondition(size >= 0, "\(message()): negative size \(size)")
        known *= size
      }
    }
    var resolved = newShape
    if let axis = inferred {
      precondition(known != 0, "\(message()): cannot infer the -1 when the other sizes multiply to 0")
      precondition(
        count % known == 0,
        "\(message()) holds \(count) scalars, not a multiple of \(known)")
      resolved[axis] = count / known
    } else {
      precondition(known == count, "\(message()) holds \(count) scalars, the new shape \(known)")
    }
    return resolved
  }

  /// True when `permutation` holds each of `0..<rank` exactly once.
  static func isPermutation(_ permutation: [Int], rank: Int) -> Bool {
    guard permutation.count == rank else { return false }
    var seen = [Bool](repeating: false, count: rank)
    for axis in permutation {
      guard axis >= 0 && axis < rank && !seen[axis] else { return false }
      seen[axis] = true
    }
    return true
  }
}
