/// Joining tensors along an axis and splitting them apart again.
extension Tensor {
  /// Joins `tensors` end to end along `axis` (`np.concatenate`).
  ///
  /// ```swift
  /// Tensor(concatenating: [a, b], alongAxis: 1)  // [2, 3] and [2, 5] → [2, 8]
  /// ```
  /// - Parameters:
  ///   - tensors: at least one tensor; all of the same rank (at least 1)
  ///     and the same sizes on every axis but `axis`. Pieces of size 0
  ///     along `axis` are allowed.
  ///   - axis: negative counts from the end.
  /// - Returns: a fresh contiguous tensor whose `axis` is the sum of the
  ///   pieces' sizes; the single piece itself when there is only one.
  ///   Differentiable with respect to every piece.
  /// - Complexity: O(result size).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public init(concatenating tensors: [Tensor], alongAxis axis: Int) {
    precondition(!tensors.isEmpty, "Tensor(concatenating:alongAxis: \(axis)): no tensors")
    let first = tensors[0].shape
    let axis = Shape.normalizedAxis(
      axis, rank: first.count, operation: "Tensor(concatenating:alongAxis: \(axis)): shape \(first)")
    if tensors.count == 1 {
      self = tensors[0]
      return
    }
    let value = Tensor.concatenatedValue(tensors, alongAxis: axis)
    guard tensors.contains(where: { $0.autodiff != nil }) else {
      self = value
      return
    }
    let sizes = tensors.map { $0.shape[axis] }
    let needed = tensors.map(\.requiresGradient)
    self = value.derived(
      from: tensors, operation: "Tensor(concatenating:alongAxis: \(axis))",
      pullback: { cotangent in
        // Each piece's cotangent is its own stretch of the output's.
        var start = 0
        return Swift.zip(sizes, needed).map { size, isNeeded in
          defer { start += size }
          return isNeeded ? cotangent.sliced(alongAxis: axis, from: start, to: start + size) : nil
        }
      },
      tangent: { inputs, _, tangents in
        // Pieces without a tangent contribute zeros with the same batch axes.
        let known = tangents.firstIndex { $0 != nil }!
        let tangent = tangents[known]!
        let batch = Array(tangent.shape[..<tangentBatchRank(tangent, primal: inputs[known])])
        let pieces = Swift.zip(tangents, inputs).map { $0 ?? Tensor.zeros(shape: batch + $1.shape) }
        return Tensor(concatenating: pieces, alongAxis: axis + batch.count)
      })
  }

  /// The value of ``init(concatenating:alongAxis:)`` for two or more
  /// pieces and a normalised axis, without derivatives.
  @inline(__always)
  static func concatenatedValue(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
    let first = tensors[0].shape
    var total = 0
    for (index, piece) in tensors.enumerated() {
      let matches =
        piece.rank == first.count
        && piece.shape.indices.allSatisfy { $0 == axis || piece.shape[$0] == first[$0] }
      precondition(
        matches,
        "Tensor(concatenating:alongAxis: \(axis)): piece \(index) has shape \(piece.shape), "
          + "piece 0 has \(first); only axis \(axis) may differ")
      total += piece.shape[axis]
    }
    var newShape = first
    newShape[axis] = total
    let result = Tensor(uninitializedShape: newShape)
    guard result.scalarCount > 0 else { return result }
    let outer = first[..<axis].reduce(1, *)
    let inner = first[(axis + 1)...].reduce(1, *)
    let rowLength = total * inner
    // Each output row is the pieces' rows laid end to end.
    var pieces: [(base: UnsafePointer<Scalar>, length: Int, offset: Int)] = []
    var offset = 0
    for piece in tensors where piece.scalarCount > 0 {
      let length = piece.shape[axis] * inner
      pieces.append((UnsafePointer(piece.storage.base), length, offset))
      offset += length
    }
    let out = result.storage.base
    let grain = max(1, Parallel.elementwiseGrain / max(rowLength, 1))
    withExtendedLifetime(tensors) {
      pieces.withUnsafeBufferPointer { pieces in
        Parallel.forEachRange(count: outer, grain: grain) { rows in
          for row in rows {
            let output = out + row * rowLength
            for piece in pieces {
              (output + piece.offset).update(from: piece.base + row * piece.length, count: piece.length)
            }
          }
        }
      }
    }
    return result
  }

  /// Cuts this tensor along `axis` into consecutive pieces of the given
  /// sizes; the inverse of ``init(concatenating:alongAxis:)``.
  /// - Parameters:
  ///   - sizes: sizes at least 0 that add up to `shape[axis]`.
  ///   - axis: negative counts from the end.
  /// - Returns: one fresh contiguous tensor per size, each differentiable
  ///   as a slice of this tensor.
  /// - Complexity: O(n).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func split(sizes: [Int], alongAxis axis: Int) -> [Tensor] {
    let operation = "split(sizes: \(sizes), alongAxis: \(axis))"
    let axis = Shape.normalizedAxis(axis, rank: rank, operation: "\(operation): shape \(shape)")
    precondition(
      sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[axis],
      "\(operation): sizes must be at least 0 and add up to \(shape[axis]), the size of axis \(axis) of \(shape)")
    let ownStrides = strides
    var start = 0
    let pieces = sizes.map { size in
      var pieceShape = shape
      pieceShape[axis] = size
      defer { start += size }
      if size == 0 || scalarCount == 0 { return Tensor(uninitializedShape: pieceShape) }
      return Tensor.gather(
        from: UnsafePointer(storage.base + start * ownStrides[axis]), shape: pieceShape, strides: ownStrides)
    }
    guard autodiff != nil else { return pieces }
    // Each piece is a slice of this tensor, differentiated as one: its
    // cotangent goes back into zeros at its stretch of `axis`.
    let inputShape = shape
    start = 0
    return Swift.zip(sizes, pieces).enumerated().map { index, element in
      let (size, piece) = element
      var starts = [Int](repeating: 0, count: inputShape.count)
      starts[axis] = start
      start += size
      return piece.derived(
        from: self, operation: "\(operation), piece \(index)",
        pullback: { [starts] cotangent in
          cotangent.embedded(
            in: inputShape, starts: starts, steps: Array(repeating: 1, count: inputShape.count), fill: 0)
        },
        tangent: { input, _, tangent in
          let batchRank = tangentBatchRank(tangent, primal: input)
          return tangent.sliced(alongAxis: axis + batchRank, from: starts[axis], to: starts[axis] + size)
        })
    }
  }

  /// Cuts this tensor along `axis` into `count` pieces of equal size.
  /// - Parameters:
  ///   - count: at least 1, dividing `shape[axis]`.
  ///   - axis: negative counts from the end.
  /// - Returns: `count` fresh contiguous tensors.
  /// - Complexity: O(n).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func split(count: Int, alongAxis axis: Int) -> [Tensor] {
    let normalized = Shape.normalizedAxis(
      axis, rank: rank, operation: "split(count: \(count), alongAxis: \(axis)): shape \(shape)")
    precondition(
      count >= 1 && shape[normalized] % count == 0,
      "split(count: \(count), alongAxis: \(axis)): size \(shape[normalized]) of axis \(normalized) "
        + "of shape \(shape) is not divisible into \(count) equal pieces")
    return split(sizes: Array(repeating: shape[normalized] / count, count: count), alongAxis: normalized)
  }
}
