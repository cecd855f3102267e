/// Indexed reads along an axis and their adjoints, the indexed
/// accumulations.
///
/// Two forms, as in PyTorch: `gathering(atIndices:alongAxis:)` picks whole
/// slices (`index_select`, `np.take`), `gathering(indices:alongAxis:)`
/// picks one element per index position (`torch.gather`,
/// `np.take_along_axis`). Each `scatteringAdd` is the transpose of the
/// matching gather as a linear map, ⟨gather(x), y⟩ = ⟨x, scatterAdd(y)⟩,
/// which is what reverse-mode differentiation of a gather needs.
///
/// All four are differentiable in both modes: a gather's pullback is the
/// matching scatter-add into zeros; a scatter-add's pullback passes the
/// cotangent to the base unchanged and gathers it for the values. Indices
/// are integers and have no derivative.
extension Tensor {
  /// The slices at `indices` along `axis`, in that order, repeats allowed
  /// (`torch.index_select`, `np.take(x, indices, axis)`).
  /// - Parameters:
  ///   - indices: each in `0..<shape[axis]`; negative indices are not
  ///     accepted.
  ///   - axis: negative counts from the end.
  /// - Returns: a fresh tensor of this shape with `shape[axis]` replaced
  ///   by `indices.count`.
  /// - Complexity: O(result size).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func gathering(atIndices indices: [Int], alongAxis axis: Int) -> Tensor {
    let axis = Shape.normalizedAxis(
      axis, rank: rank, operation: "gathering(atIndices:alongAxis: \(axis)): shape \(shape)")
    let size = shape[axis]
    Shape.checkIndices(indices, size: size, operation: "gathering(atIndices:alongAxis: \(axis))", shape: shape)
    let value = gatheredSlices(atIndices: indices, alongAxis: axis)
    guard autodiff != nil else { return value }
    let inputShape = shape
    return value.derived(
      from: self, operation: "gathering(atIndices:alongAxis: \(axis))",
      pullback: { Tensor.zeros(shape: inputShape).scatteringAdd($0, atIndices: indices, alongAxis: axis) },
      tangent: { input, _, tangent in
        tangent.gathering(atIndices: indices, alongAxis: axis + tangentBatchRank(tangent, primal: input))
      })
  }

  /// The value of ``gathering(atIndices:alongAxis:)`` for checked indices
  /// and a normalised axis, without derivatives.
  @inline(__always)
  func gatheredSlices(atIndices indices: [Int], alongAxis axis: Int) -> Tensor {
    let size = shape[axis]
    var newShape = shape
    newShape[axis] = indices.count
    let result = Tensor(uninitializedShape: newShape)
    guard result.scalarCount > 0 else { return result }
    let outer = shape[..<axis].reduce(1, *)
    let inner = shape[(axis + 1)...].reduce(1, *)
    let picked = indices.count
    let source = storage.base
    let out = result.storage.base
    indices.withUnsafeBufferPointer { indices in
      let grain = max(1, Parallel.elementwiseGrain / inner)
      Parallel.forEachRange(count: outer * picked, grain: grain) { rows in
        for row in rows {
          let (block, slot) = row.quotientAndRemainder(dividingBy: picked)
          let input = source + (block * size + indices[slot]) * inner
          // Picking single scalars (the last axis) is too short for a copy call.
          if inner == 1 { out[row] = input[0] } else { (out + row * inner).update(from: input, count: inner) }
        }
      }
    }
    return result
  }

  /// Adds the slices of `values` into this tensor at `indices` along
  /// `axis`; repeated indices accumulate. The adjoint of
  /// ``gathering(atIndices:alongAxis:)``:
  /// `Tensor.zeros(shape: x.shape).scatteringAdd(y, atIndices: i, alongAxis: a)`
  /// is the gradient of ⟨x.gathering(atIndices: i, alongAxis: a), y⟩.
  /// - Parameters:
  ///   - values: this shape with `shape[axis]` replaced by `indices.count`.
  ///   - indices: each in `0..<shape[axis]`.
  ///   - axis: negative counts from the end.
  /// - Returns: a fresh tensor of this shape.
  /// - Complexity: O(n + values.scalarCount).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func scatteringAdd(_ values: Tensor, atIndices indices: [Int], alongAxis axis: Int) -> Tensor {
    let operation = "scatteringAdd(_:atIndices:alongAxis: \(axis))"
    let axis = Shape.normalizedAxis(axis, rank: rank, operation: "\(operation): shape \(shape)")
    let size = shape[axis]
    Shape.checkIndices(indices, size: size, operation: operation, shape: shape)
    var expected = shape
    expected[axis] = indices.count
    precondition(
      values.shape == expected,
      "\(operation): values have shape \(values.shape), expected \(expected) "
        + "for \(indices.count) indices into \(shape)")
    let value = scatteredSlices(values, atIndices: indices, alongAxis: axis)
    guard autodiff != nil || values.autodiff != nil else { return value }
    let (needBase, needValues) = (requiresGradient, values.requiresGradient)
    return value.derived(
      from: self, values, operation: operation,
      pullback: { cotangent in
        (needBase ? cotangent : nil,
         needValues ? cotangent.gathering(atIndices: indices, alongAxis: axis) : nil)
      },
      tangent: { base, values, _, baseTangent, valuesTangent in
        // Linear in (base, values): the same scatter of the tangents.
        guard let valuesTangent else { return baseTangent! }
        let batch = Array(valuesTangent.shape[..<tangentBatchRank(valuesTangent, primal: values)])
        return (baseTangent ?? Tensor.zeros(shape: batch + base.shape))
          .scatteringAdd(valuesTangent, atIndices: indices, alongAxis: axis + batch.count)
      })
  }

  /// The value of ``scatteringAdd(_:atIndices:alongAxis:)`` for checked
  /// operands and a normalised axis, without derivatives.
  @inline(__always)
  func scatteredSlices(_ values: Tensor, atIndices indices: [Int], alongAxis axis: Int) -> Tensor {
    let size = shape[axis]
    let result = Tensor(shape: shape, storage: TensorStorage.make(copying: storage))
    guard values.scalarCount > 0 else { return result }
    let outer = shape[..<axis].reduce(1, *)
    let inner = shape[(axis + 1)...].reduce(1, *)
    let picked = indices.count
    let source = values.storage.base
    let out = result.storage.base
    // Threads split the outer blocks, which write disjoint parts of the
    // result; repeated indices within a block stay on one thread.
    indices.withUnsafeBufferPointer { indices in
      let grain = max(1, Parallel.elementwiseGrain / (picked * inner))
      Parallel.forEachRange(count: outer, grain: grain) { blocks in
        for block in blocks {
          for slot in 0..<picked {
            let input = source + (block * picked + slot) * inner
            let output = out + (block * size + indices[slot]) * inner
            for j in 0..<inner { output[j] += input[j] }
          }
        }
      }
    }
    return result
  }

  /// One element per index position, picked along `axis`
  /// (`torch.gather`, `np.take_along_axis`):
  /// `result[i₀, …, j, …] = self[i₀, …, indices[i₀, …, j, …], …]`.
  /// - Parameters:
  ///   - indices: the same rank as this tensor; on every axis but `axis`
  ///     no larger than this tensor's size; each value in `0..<shape[axis]`.
  ///   - axis: negative counts from the end.
  /// - Returns: a fresh tensor of `indices.shape`.
  /// - Complexity: O(indices.indices.count).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func gathering(indices: IndexTensor, alongAxis axis: Int) -> Tensor {
    let operation = "gathering(indices:alongAxis: \(axis))"
    let axis = Shape.checkElementIndices(indices, into: shape, axis: axis, operation: operation)
    let value = gatheredElements(indices: indices, alongAxis: axis)
    guard autodiff != nil else { return value }
    let inputShape = shape
    return value.derived(
      from: self, operation: operation,
      pullback: { Tensor.zeros(shape: inputShape).scatteringAdd($0, indices: indices, alongAxis: axis) },
      tangent: { input, _, tangent in
        let batch = Array(tangent.shape[..<tangentBatchRank(tangent, primal: input)])
        return tangent.gathering(indices: indices.repeated(over: batch), alongAxis: axis + batch.count)
      })
  }

  /// The value of ``gathering(indices:alongAxis:)`` for checked indices
  /// and a normalised axis, without derivatives.
  @inline(__always)
  func gatheredElements(indices: IndexTensor, alongAxis axis: Int) -> Tensor {
    let result = Tensor(uninitializedShape: indices.shape)
    guard result.scalarCount > 0 else { return result }
    let source = storage.base
    let out = result.storage.base
    let ownStrides = strides
    indices.indices.withUnsafeBufferPointer { picks in
      Parallel.forEachRange(count: result.scalarCount, grain: Parallel.elementwiseGrain) { range in
        Shape.forEachOffset(in: range, shape: indices.shape, strides: ownStrides, skipping: axis) { position, offset in
          out[position] = source[offset + picks[position] * ownStrides[axis]]
        }
      }
    }
    return result
  }

  /// Adds each element of `values` into this tensor at the position that
  /// ``gathering(indices:alongAxis:)`` would read it from
  /// (`torch.scatter_add`); repeated positions accumulate. Its adjoint.
  /// - Parameters:
  ///   - values: the shape of `indices`.
  ///   - indices: as for ``gathering(indices:alongAxis:)``.
  ///   - axis: negative counts from the end.
  /// - Returns: a fresh tensor of this shape.
  /// - Complexity: O(n + values.scalarCount).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func scatteringAdd(_ values: Tensor, indices: IndexTensor, alongAxis axis: Int) -> Tensor {
    let operation = "scatteringAdd(_:indices:alongAxis: \(axis))"
    let axis = Shape.checkElementIndices(indices, into: shape, axis: axis, operation: operation)
    precondition(
      values.shape == indices.shape,
      "\(operation): values have shape \(values.shape), indices \(indices.shape)")
    let value = scatteredElements(values, indices: indices, alongAxis: axis)
    guard autodiff != nil || values.autodiff != nil else { return value }
    let (needBase, needValues) = (requiresGradient, values.requiresGradient)
    return value.derived(
      from: self, values, operation: operation,
      pullback: { cotangent in
        (needBase ? cotangent : nil,
         needValues ? cotangent.gathering(indices: indices, alongAxis: axis) : nil)
      },
      tangent: { base, values, _, baseTangent, valuesTangent in
        guard let valuesTangent else { return baseTangent! }
        let batch = Array(valuesTangent.shape[..<tangentBatchRank(valuesTangent, primal: values)])
        return (baseTangent ?? Tensor.zeros(shape: batch + base.shape))
          .scatteringAdd(valuesTangent, indices: indices.repeated(over: batch), alongAxis: axis + batch.count)
      })
  }

  /// The value of ``scatteringAdd(_:indices:alongAxis:)`` for checked
  /// operands and a normalised axis, without derivatives.
  @inline(__always)
  func scatteredElements(_ values: Tensor, indices: IndexTensor, alongAxis axis: Int) -> Tensor {
    let result = Tensor(shape: shape, storage: TensorStorage.make(copying: storage))
    guard values.scalarCount > 0 else { return result }
    let source = values.storage.base
    let out = result.storage.base
    let ownStrides = strides
    // Positions that differ on an axis before `axis` write disjoint parts
    // of the result, so threads split those leading blocks only.
    let blocks = indices.shape[..<axis].reduce(1, *)
    let blockLength = values.scalarCount / blocks
    indices.indices.withUnsafeBufferPointer { picks in
      let grain = max(1, Parallel.elementwiseGrain / blockLength)
      Parallel.forEachRange(count: blocks, grain: grain) { range in
        let positions = (range.lowerBound * blockLength)..<(range.upperBound * blockLength)
        Shape.forEachOffset(in: positions, shape: indices.shape, strides: ownStrides, skipping: axis) {
          position, offset in
          out[offset + picks[position] * ownStrides[axis]] += source[position]
        }
      }
    }
    return result
  }
}

extension IndexTensor {
  /// These indices repeated for every position of `batch` leading axes:
  /// shape `batch + shape`, how an element-wise gather or scatter reads a
  /// forward-mode tangent with batch axes.
  func repeated(over batch: [Int]) -> IndexTensor {
    guard !batch.isEmpty else { return self }
    let copies = batch.reduce(1, *)
    var all: [Int] = []
    all.reserveCapacity(copies * indices.count)
    for _ in 0..<copies { all.append(contentsOf: indices) }
    return IndexTensor(shape: batch + shape, indices: all)
  }
}

extension Shape {
  /// Stops at a precondition naming the first index outside `0..<size`.
  static func checkIndices(_ indices: [Int], size: Int, operation: @autoclosure () -> String, shape: [Int]) {
    for (position, index) in indices.enumerated() where index < 0 || index >= size {
      preconditionFailure(
        "\(operation()): index \(index) at position \(position) out of range 0..<\(size) for shape \(shape)")
    }
  }

  /// Validates `indices` for an element-wise gather into `shape` along
  /// `axis` and returns the normalised axis.
  static func checkElementIndices(
    _ indices: IndexTensor, into shape: [Int], axis: Int, operation: @autoclosure () -> String
  ) -> Int {
    let axis = normalizedAxis(axis, rank: shape.count, operation: "\(operation()): shape \(shape)")
    precondition(
      indices.rank == shape.count
        && indices.shape.indices.allSatisfy { $0 == axis || indices.shape[$0] <= shape[$0] },
      "\(operation()): indices of shape \(indices.shape) do not fit \(shape): same rank needed, "
        + "and no larger on any axis but \(axis)")
    checkIndices(indices.indices, size: shape[axis], operation: operation(), shape: shape)
    return axis
  }

  /// Calls `body(position, offset)` for each row-major position in `range`
  /// of `shape`, where `offset` is the position's dot product with
  /// `strides` leaving out axis `skipped`.
  ///
  /// An odometer keeps the multi-index, so each step costs O(1) amortised.
  @inline(__always)
  static func forEachOffset(
    in range: Range<Int>, shape: [Int], strides: [Int], skipping skipped: Int,
    _ body: (_ position: Int, _ offset: Int) -> Void
  ) {
    guard !range.isEmpty else { return }
    let rank = shape.count
    var index = [Int](repeating: 0, count: rank)
    var offset = 0
    var remainder = range.lowerBound
    for axis in stride(from: rank - 1, through: 0, by: -1) {
      index[axis] = remainder % shape[axis]
      remainder /= shape[axis]
      if axis != skipped { offset += index[axis] * strides[axis] }
    }
    let last = rank - 1
    let lastStride = last == skipped ? 0 : strides[last]
    for position in range {
      body(position, offset)
      index[last] += 1
      offset += lastStride
      var axis = last
      while index[axis] == shape[axis] && axis > 0 {
        index[axis] = 0
        offset -= shape[axis] * (axis == skipped ? 0 : strides[axis])
        axis -= 1
        index[axis] += 1
        if axis != skipped { offset += strides[axis] }
      }
    }
  }
}
