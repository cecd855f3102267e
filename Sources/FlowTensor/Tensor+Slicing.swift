/// Strided slices, flips and constant padding.
///
/// Slices follow Python's rules (`x[start:end:step]`): negative bounds count
/// from the end, out-of-range bounds are clamped, a negative step walks
/// backwards, and an empty range gives a size-0 axis rather than an error.
///
/// All are differentiable in both modes. Slices and flips share one
/// primitive, ``slice(starts:counts:steps:operation:)``, whose pullback puts
/// the cotangent back at the positions read, zeros elsewhere; the pullback
/// of padding slices out the interior.
extension Tensor {
  /// The elements `start, start + step, …` short of `end` along one axis,
  /// as Python's `x[..., start:end:step, ...]`.
  ///
  /// ```swift
  /// x.sliced(alongAxis: 0, from: 1, to: 5, by: 2)  // rows 1 and 3
  /// x.sliced(alongAxis: -1, by: -1)                // last axis reversed
  /// ```
  /// - Parameters:
  ///   - axis: negative counts from the end.
  ///   - start: the first index; negative counts from the end; `nil` means
  ///     the first element in the direction of `step` (0, or the last index
  ///     when `step` is negative). Clamped as Python clamps.
  ///   - end: the excluded bound; negative counts from the end; `nil` means
  ///     past the last element in the direction of `step`. Clamped as
  ///     Python clamps, so `-size - 1` also reaches index 0 when stepping
  ///     backwards.
  ///   - step: nonzero.
  /// - Returns: a fresh contiguous tensor whose axis `axis` has
  ///   ⌈(end − start) / step⌉ elements (0 when that is negative).
  /// - Complexity: O(result size).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func sliced(alongAxis axis: Int, from start: Int? = nil, to end: Int? = nil, by step: Int = 1) -> Tensor {
    let bounds = [start, end].map { $0.map(String.init) ?? "nil" }
    let operation = "sliced(alongAxis: \(axis), from: \(bounds[0]), to: \(bounds[1]), by: \(step))"
    let axis = Shape.normalizedAxis(axis, rank: rank, operation: operation)
    precondition(step != 0, "\(operation): step is 0, shape \(shape)")
    let range = Shape.sliceRange(start: start, end: end, step: step, size: shape[axis])
    var starts = [Int](repeating: 0, count: rank)
    var counts = shape
    var steps = [Int](repeating: 1, count: rank)
    starts[axis] = range.start
    counts[axis] = range.count
    steps[axis] = step
    return slice(starts: starts, counts: counts, steps: steps, operation: operation)
  }

  /// A strided slice along every axis, as Python's
  /// `x[l0:u0:s0, l1:u1:s1, ...]`.
  /// - Parameters:
  ///   - lowerBounds: one start per axis; negative counts from the end;
  ///     clamped as Python clamps.
  ///   - upperBounds: one excluded end per axis; negative counts from the
  ///     end; clamped as Python clamps (an end of `-size - 1` reaches
  ///     index 0 with a negative step).
  ///   - strides: one nonzero step per axis; all 1 when omitted.
  /// - Returns: a fresh contiguous tensor of the same rank.
  /// - Complexity: O(result size).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func sliced(lowerBounds: [Int], upperBounds: [Int], strides steps: [Int]? = nil) -> Tensor {
    let steps = steps ?? [Int](repeating: 1, count: rank)
    let operation = "sliced(lowerBounds: \(lowerBounds), upperBounds: \(upperBounds), strides: \(steps))"
    precondition(
      lowerBounds.count == rank && upperBounds.count == rank && steps.count == rank,
      "\(operation): shape \(shape) of rank \(rank) needs one bound and one stride per axis")
    var starts = [Int](repeating: 0, count: rank)
    var counts = [Int](repeating: 0, count: rank)
    for axis in 0..<rank {
      precondition(steps[axis] != 0, "\(operation): stride on axis \(axis) is 0")
      let range = Shape.sliceRange(
        start: lowerBounds[axis], end: upperBounds[axis], step: steps[axis], size: shape[axis])
      starts[axis] = range.start
      counts[axis] = range.count
    }
    return slice(starts: starts, counts: counts, steps: steps, operation: operation)
  }

  /// Flips the order of the elements along each of `axes`.
  /// - Parameters:
  ///   - axes: distinct axes; negative ones count from the end.
  /// - Returns: a fresh contiguous tensor of the same shape; this tensor
  ///   itself when `axes` is empty.
  /// - Complexity: O(n).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func reversed(alongAxes axes: [Int]) -> Tensor {
    let flipped = Shape.normalizedAxes(axes, rank: rank, operation: "reversed(alongAxes: \(axes))")
    if flipped.isEmpty { return self }
    var starts = [Int](repeating: 0, count: rank)
    var steps = [Int](repeating: 1, count: rank)
    for axis in flipped {
      starts[axis] = shape[axis] - 1
      steps[axis] = -1
    }
    return slice(starts: starts, counts: shape, steps: steps, operation: "reversed(alongAxes: \(axes))")
  }

  /// Surrounds this tensor with `value`: `padding[i].before` elements in
  /// front of axis `i` and `padding[i].after` behind it
  /// (`np.pad(x, padding, constant_values: value)`).
  /// - Parameters:
  ///   - padding: one pair per axis, all sizes at least 0.
  ///   - value: the scalar written into the border.
  /// - Returns: a fresh tensor whose axis `i` has
  ///   `shape[i] + before + after` elements. Differentiable with respect
  ///   to this tensor (the border's derivative is 0).
  /// - Complexity: O(result size).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func padded(with padding: [(before: Int, after: Int)], value: Scalar = 0) -> Tensor {
    let operation = { "padded(with: \(padding.map { [$0.before, $0.after] }))" }
    precondition(
      padding.count == rank,
      "\(operation()): \(padding.count) pairs for shape \(shape) of rank \(rank)")
    var newShape = shape
    for axis in 0..<rank {
      precondition(
        padding[axis].before >= 0 && padding[axis].after >= 0,
        "\(operation()): negative padding on axis \(axis)")
      newShape[axis] += padding[axis].before + padding[axis].after
    }
    let starts = padding.map(\.before)
    let result = embedded(in: newShape, starts: starts, steps: Array(repeating: 1, count: rank), fill: value)
    guard autodiff != nil else { return result }
    let inputShape = shape
    return result.derived(
      from: self, operation: operation(),
      pullback: { $0.sliceValue(starts: starts, counts: inputShape, steps: Array(repeating: 1, count: inputShape.count)) },
      tangent: { input, _, tangent in
        // The border is constant: its tangent is 0.
        let batchRank = tangentBatchRank(tangent, primal: input)
        return tangent.padded(with: Array(repeating: (0, 0), count: batchRank) + padding, value: 0)
      })
  }

  /// A tensor of `shape` holding `fill`, with this tensor's scalars written
  /// into the box whose axis `i` starts at `starts[i]` and advances by
  /// `steps[i]` (negative walks backwards): the adjoint of
  /// ``slice(starts:counts:steps:operation:)`` when `fill` is 0, and
  /// constant padding when the steps are 1.
  /// - Complexity: O(result size).
  @inline(__always)
  func embedded(in shape: [Int], starts: [Int], steps: [Int], fill: Scalar) -> Tensor {
    let result = Tensor(repeating: fill, shape: shape)
    guard scalarCount > 0 else { return result }
    let resultStrides = result.strides
    var offset = 0
    var writeStrides = [Int](repeating: 0, count: rank)
    for axis in 0..<rank {
      offset += starts[axis] * resultStrides[axis]
      writeStrides[axis] = steps[axis] * resultStrides[axis]
    }
    // The source is contiguous, so row r of the merged layout starts at r·inner in it.
    let layout = StridedLayout(shape: self.shape, strides: [writeStrides])
    let inner = layout.innerCount
    let step = layout.strides[0][layout.shape.count - 1]
    let source = storage.base
    let out = result.storage.base + offset
    let grain = max(1, Parallel.elementwiseGrain / max(inner, 1))
    withExtendedLifetime(self) {
      Parallel.forEachRange(count: layout.outerCount, grain: grain) { rows in
        for row in rows {
          let input = source + row * inner
          let output = out + layout.offset(ofRow: row, operand: 0)
          if step == 1 {
            output.update(from: input, count: inner)
          } else {
            for j in 0..<inner { output[j * step] = input[j] }
          }
        }
      }
    }
    return result
  }

  /// The strided box of `counts[i]` elements from `starts[i]` by
  /// `steps[i]` on each axis (bounds already valid), with its derivatives:
  /// the primitive under both `sliced` forms and `reversed`. The pullback
  /// writes the cotangent back into zeros at the positions read
  /// (``embedded(in:starts:steps:fill:)``); the tangent is the same box of
  /// the tangent, whole along its batch axes.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func slice(starts: [Int], counts: [Int], steps: [Int], operation: @autoclosure () -> String) -> Tensor {
    let value = sliceValue(starts: starts, counts: counts, steps: steps)
    guard autodiff != nil else { return value }
    let inputShape = shape
    return value.derived(
      from: self, operation: operation(),
      pullback: { $0.embedded(in: inputShape, starts: starts, steps: steps, fill: 0) },
      tangent: { input, _, tangent in
        let batch = Array(tangent.shape[..<tangentBatchRank(tangent, primal: input)])
        let leading = [Int](repeating: 0, count: batch.count)
        return tangent.slice(
          starts: leading + starts, counts: batch + counts, steps: leading.map { _ in 1 } + steps,
          operation: operation())
      })
  }

  /// Copies the box of `counts[i]` elements from `starts[i]` by `steps[i]`
  /// on each axis; the bounds are already valid. No derivatives.
  @inline(__always)
  func sliceValue(starts: [Int], counts: [Int], steps: [Int]) -> Tensor {
    if counts.contains(0) { return Tensor(uninitializedShape: counts) }
    let ownStrides = strides
    var offset = 0
    var readStrides = [Int](repeating: 0, count: rank)
    for axis in 0..<rank {
      offset += starts[axis] * ownStrides[axis]
      readStrides[axis] = steps[axis] * ownStrides[axis]
    }
    return Tensor.gather(from: UnsafePointer(storage.base + offset), shape: counts, strides: readStrides)
  }
}

extension Shape {
  /// The first index and the element count of Python's
  /// `slice(start, end, step).indices(size)`.
  ///
  /// Mirrors CPython's `PySlice_AdjustIndices`: negative bounds gain `size`,
  /// then are clamped to `[0, size]` for a positive step and to
  /// `[-1, size - 1]` for a negative one. `start` is an index of the axis
  /// only when `count` is positive.
  /// - Parameters:
  ///   - start: `nil` for Python's omitted start.
  ///   - end: `nil` for Python's omitted end.
  ///   - step: nonzero.
  ///   - size: the axis's size, at least 0.
  /// - Returns: the first index read and the number of elements.
  /// - Complexity: O(1).
  public static func sliceRange(start: Int?, end: Int?, step: Int, size: Int) -> (start: Int, count: Int) {
    precondition(step != 0, "slice: step is 0")
    let lower = step > 0 ? 0 : -1
    let upper = step > 0 ? size : size - 1
    func clamp(_ bound: Int?, default value: Int) -> Int {
      guard var bound else { return value }
      if bound < 0 {
        bound += size
        if bound < lower { bound = lower }
      } else if bound > upper {
        bound = upper
      }
      return bound
    }
    let first = clamp(start, default: step > 0 ? lower : upper)
    let last = clamp(end, default: step > 0 ? upper : lower)
    let count: Int
    if step > 0 {
      count = last > first ? (last - first - 1) / step + 1 : 0
    } else {
      count = last < first ? (first - last - 1) / (-step) + 1 : 0
    }
    return (first, count)
  }
}
