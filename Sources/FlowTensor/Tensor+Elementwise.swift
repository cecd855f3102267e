/// The two loop shapes every elementwise op is written in: `map` over one
/// tensor and `zip` over two broadcast tensors. Both write a fresh
/// contiguous result and split large inputs across cores (``Parallel``).
///
/// They are `@inline(__always)` so that each public op, itself specialised
/// for `Float` and `Double`, gets its own loop with the closure inlined.
extension Tensor {
  /// Applies `transform` to every scalar.
  /// - Complexity: O(n), split across cores above ``Parallel/elementwiseGrain``.
  @inline(__always) @usableFromInline
  func map(_ transform: (Scalar) -> Scalar) -> Tensor {
    let result = Tensor(uninitializedShape: shape)
    let source = storage.base
    let destination = result.storage.base
    Parallel.forEachRange(count: scalarCount, grain: Parallel.elementwiseGrain) { range in
      for index in range { destination[index] = transform(source[index]) }
    }
    return result
  }

  /// Combines `lhs` and `rhs` scalar by scalar after NumPy broadcasting.
  /// - Parameters:
  ///   - operation: the op's name, for the shape-mismatch message.
  /// - Complexity: O(n) in the broadcast result's size.
  @inline(__always) @usableFromInline
  static func zip(
    _ lhs: Tensor, _ rhs: Tensor, operation: @autoclosure () -> String,
    _ combine: (Scalar, Scalar) -> Scalar
  ) -> Tensor {
    let a = lhs.storage.base
    let b = rhs.storage.base
    if lhs.shape == rhs.shape {
      let result = Tensor(uninitializedShape: lhs.shape)
      let out = result.storage.base
      Parallel.forEachRange(count: result.scalarCount, grain: Parallel.elementwiseGrain) { range in
        for index in range { out[index] = combine(a[index], b[index]) }
      }
      return result
    }
    let shape = Shape.broadcast(lhs.shape, rhs.shape, operation: operation())
    let result = Tensor(uninitializedShape: shape)
    let out = result.storage.base
    if rhs.scalarCount == 1 {
      let value = b[0]
      Parallel.forEachRange(count: result.scalarCount, grain: Parallel.elementwiseGrain) { range in
        for index in range { out[index] = combine(a[index], value) }
      }
      return result
    }
    if lhs.scalarCount == 1 {
      let value = a[0]
      Parallel.forEachRange(count: result.scalarCount, grain: Parallel.elementwiseGrain) { range in
        for index in range { out[index] = combine(value, b[index]) }
      }
      return result
    }
    let layout = StridedLayout(
      shape: shape,
      strides: [
        Shape.broadcastStrides(of: lhs.shape, to: shape),
        Shape.broadcastStrides(of: rhs.shape, to: shape),
        Shape.strides(of: shape),
      ])
    let inner = layout.innerCount
    let strideA = layout.strides[0][layout.shape.count - 1]
    let strideB = layout.strides[1][layout.shape.count - 1]
    let grain = max(1, Parallel.elementwiseGrain / max(inner, 1))
    Parallel.forEachRange(count: layout.outerCount, grain: grain) { rows in
      for row in rows {
        let rowA = a + layout.offset(ofRow: row, operand: 0)
        let rowB = b + layout.offset(ofRow: row, operand: 1)
        let rowOut = out + row * inner
        switch (strideA, strideB) {
        case (1, 1): for j in 0..<inner { rowOut[j] = combine(rowA[j], rowB[j]) }
        case (1, 0): let v = rowB[0]; for j in 0..<inner { rowOut[j] = combine(rowA[j], v) }
        case (0, 1): let v = rowA[0]; for j in 0..<inner { rowOut[j] = combine(v, rowB[j]) }
        default: for j in 0..<inner { rowOut[j] = combine(rowA[j * strideA], rowB[j * strideB]) }
        }
      }
    }
    return result
  }

  /// Copies scalars read through `strides` (one per axis of `shape`, 0 on
  /// broadcast axes) from `source` into a fresh contiguous tensor of `shape`.
  /// The engine of transposition and broadcasting.
  @usableFromInline
  static func gather(from source: UnsafePointer<Scalar>, shape: [Int], strides: [Int]) -> Tensor {
    let result = Tensor(uninitializedShape: shape)
    guard result.scalarCount > 0 else { return result }
    let out = result.storage.base
    let layout = StridedLayout(shape: shape, strides: [strides])
    let inner = layout.innerCount
    let step = layout.strides[0][layout.shape.count - 1]
    let grain = max(1, Parallel.elementwiseGrain / max(inner, 1))
    Parallel.forEachRange(count: layout.outerCount, grain: grain) { rows in
      for row in rows {
        let input = source + layout.offset(ofRow: row, operand: 0)
        let output = out + row * inner
        if step == 1 {
          output.update(from: input, count: inner)
        } else {
          for j in 0..<inner { output[j] = input[j * step] }
        }
      }
    }
    return result
  }
}
