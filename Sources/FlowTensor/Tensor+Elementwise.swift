/// The two loop shapes every elementwise op is written in: `map` over one
/// tensor and `zip` over two broadcast tensors. Both write a fresh
/// contiguous result and split large inputs across cores (``Parallel``).
///
/// An op passes a *chunk kernel*, a closure that receives one chunk and
/// calls `apply` on it with the per-scalar function:
///
/// ```swift
/// x.map { chunk in chunk.apply { Scalar.exp($0) } }
/// Tensor.zip(a, b, operation: "add") { chunk in chunk.apply { $0 + $1 } }
/// ```
///
/// Why not a per-scalar closure: a closure captured by the worker threads'
/// closure is called indirectly for every scalar, which stops inlining and
/// vectorisation (7x slower, measured). Written this way, the per-scalar
/// function is a literal inside the op's own kernel, `apply` is inlined into
/// it, and the only indirect call is one per chunk.
extension Tensor {
  /// Runs `kernel` over chunks of the scalars, writing a result of the same shape.
  /// - Complexity: O(n), split across cores above ``Parallel/elementwiseGrain``.
  @inline(__always) @usableFromInline
  func map(_ kernel: (UnaryChunk<Scalar>) -> Void) -> Tensor {
    let result = Tensor(uninitializedShape: shape)
    let source = UnsafePointer(storage.base)
    let destination = result.storage.base
    Parallel.forEachRange(count: scalarCount, grain: Parallel.elementwiseGrain) { range in
      kernel(UnaryChunk(
        source: source + range.lowerBound, destination: destination + range.lowerBound, count: range.count))
    }
    return result
  }

  /// Runs `kernel` over chunks of `lhs` and `rhs` after NumPy broadcasting.
  /// - Parameters:
  ///   - operation: the op's name, for the shape-mismatch message.
  /// - Complexity: O(n) in the broadcast result's size.
  @inline(__always) @usableFromInline
  static func zip(
    _ lhs: Tensor, _ rhs: Tensor, operation: @autoclosure () -> String,
    _ kernel: (BinaryChunk<Scalar>) -> Void
  ) -> Tensor {
    let a = UnsafePointer(lhs.storage.base)
    let b = UnsafePointer(rhs.storage.base)
    let shape = lhs.shape == rhs.shape ? lhs.shape : Shape.broadcast(lhs.shape, rhs.shape, operation: operation())
    let result = Tensor(uninitializedShape: shape)
    let out = result.storage.base
    let count = result.scalarCount
    // Flat cases: equal shapes, or one operand holding a single scalar.
    let flatStrides: (Int, Int)? =
      lhs.shape == rhs.shape ? (1, 1) : rhs.scalarCount == 1 ? (1, 0) : lhs.scalarCount == 1 ? (0, 1) : nil
    if let (strideA, strideB) = flatStrides {
      Parallel.forEachRange(count: count, grain: Parallel.elementwiseGrain) { range in
        kernel(BinaryChunk(
          lhs: a + range.lowerBound * strideA, rhs: b + range.lowerBound * strideB,
          destination: out + range.lowerBound, strideA: strideA, strideB: strideB, innerCount: range.count,
          rows: 0..<1, layout: nil))
      }
      return result
    }
    guard count > 0 else { return result }
    let layout = StridedLayout(
      shape: shape,
      strides: [Shape.broadcastStrides(of: lhs.shape, to: shape), Shape.broadcastStrides(of: rhs.shape, to: shape)])
    let inner = layout.innerCount
    let last = layout.shape.count - 1
    // A short inner loop (a trailing pair of (real, imaginary) parts, say)
    // would pay the row setup for every couple of scalars: iterate blocks
    // of the last two axes instead.
    let middle = inner < 32 && last >= 1 ? layout.shape[last - 1] : 1
    let blockSize = inner * middle
    let grain = max(1, Parallel.elementwiseGrain / max(blockSize, 1))
    Parallel.forEachRange(count: layout.outerCount / middle, grain: grain) { rows in
      kernel(BinaryChunk(
        lhs: a, rhs: b, destination: out, strideA: layout.strides[0][last],
        strideB: layout.strides[1][last], innerCount: inner, rows: rows, layout: layout,
        middleCount: middle, middleStrideA: middle > 1 ? layout.strides[0][last - 1] : 0,
        middleStrideB: middle > 1 ? layout.strides[1][last - 1] : 0))
    }
    return result
  }

  /// `output[j] = input[j·step]` for `j < count`; a fill when `step` is 0.
  @inline(__always)
  static func copyRow(
    from input: UnsafePointer<Scalar>, step: Int, into output: UnsafeMutablePointer<Scalar>, count: Int
  ) {
    switch step {
    case 1: output.update(from: input, count: count)
    case 0: output.update(repeating: input[0], count: count)
    default: for j in 0..<count { output[j] = input[j * step] }
    }
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
    if layout.outerCount == 1 {
      // One long row (a scalar broadcast to a whole tensor, as a sum's
      // pullback makes): split the row itself across threads.
      let input = source + layout.offset(ofRow: 0, operand: 0)
      Parallel.forEachRange(count: inner, grain: Parallel.elementwiseGrain) { range in
        copyRow(from: input + range.lowerBound * step, step: step, into: out + range.lowerBound, count: range.count)
      }
      return result
    }
    let grain = max(1, Parallel.elementwiseGrain / max(inner, 1))
    Parallel.forEachRange(count: layout.outerCount, grain: grain) { rows in
      for row in rows {
        copyRow(
          from: source + layout.offset(ofRow: row, operand: 0), step: step, into: out + row * inner, count: inner)
      }
    }
    return result
  }
}

/// One chunk of a unary elementwise loop: `count` contiguous scalars.
@usableFromInline
struct UnaryChunk<Scalar> {
  @usableFromInline let source: UnsafePointer<Scalar>
  @usableFromInline let destination: UnsafeMutablePointer<Scalar>
  @usableFromInline let count: Int

  @inlinable
  init(source: UnsafePointer<Scalar>, destination: UnsafeMutablePointer<Scalar>, count: Int) {
    self.source = source
    self.destination = destination
    self.count = count
  }

  /// Writes `transform(source[i])` to `destination[i]` for the whole chunk.
  @inline(__always) @usableFromInline
  func apply(_ transform: (Scalar) -> Scalar) {
    for index in 0..<count { destination[index] = transform(source[index]) }
  }
}

/// One chunk of a binary elementwise loop: either one flat run (`layout`
/// nil, `innerCount` scalars, operand strides 1 or 0) or a range of rows of
/// a broadcast layout, each row `innerCount` long.
@usableFromInline
struct BinaryChunk<Scalar> {
  @usableFromInline let lhs: UnsafePointer<Scalar>
  @usableFromInline let rhs: UnsafePointer<Scalar>
  @usableFromInline let destination: UnsafeMutablePointer<Scalar>
  @usableFromInline let strideA: Int
  @usableFromInline let strideB: Int
  @usableFromInline let innerCount: Int
  @usableFromInline let rows: Range<Int>
  @usableFromInline let layout: StridedLayout?

  /// Inner loops per row (block mode when above 1), and the operands'
  /// strides between them.
  @usableFromInline let middleCount: Int
  @usableFromInline let middleStrideA: Int
  @usableFromInline let middleStrideB: Int

  @inlinable
  init(
    lhs: UnsafePointer<Scalar>, rhs: UnsafePointer<Scalar>, destination: UnsafeMutablePointer<Scalar>,
    strideA: Int, strideB: Int, innerCount: Int, rows: Range<Int>, layout: StridedLayout?,
    middleCount: Int = 1, middleStrideA: Int = 0, middleStrideB: Int = 0
  ) {
    self.lhs = lhs
    self.rhs = rhs
    self.destination = destination
    self.strideA = strideA
    self.strideB = strideB
    self.innerCount = innerCount
    self.rows = rows
    self.layout = layout
    self.middleCount = middleCount
    self.middleStrideA = middleStrideA
    self.middleStrideB = middleStrideB
  }

  /// Writes `combine(lhs, rhs)` for every scalar of the chunk.
  @inline(__always) @usableFromInline
  func apply(_ combine: (Scalar, Scalar) -> Scalar) {
    let inner = innerCount
    if middleCount > 1, let layout {
      // Block mode: each row is `middleCount` short inner loops.
      let (middle, sa, sb, ma, mb) = (middleCount, strideA, strideB, middleStrideA, middleStrideB)
      for block in rows {
        let a = lhs + layout.offset(ofRow: block, operand: 0, trailingAxes: 2)
        let b = rhs + layout.offset(ofRow: block, operand: 1, trailingAxes: 2)
        var out = destination + block * middle * inner
        for i in 0..<middle {
          let rowA = a + i * ma
          let rowB = b + i * mb
          for j in 0..<inner { out[j] = combine(rowA[j * sa], rowB[j * sb]) }
          out += inner
        }
      }
      return
    }
    for row in rows {
      let a = layout.map { lhs + $0.offset(ofRow: row, operand: 0) } ?? lhs
      let b = layout.map { rhs + $0.offset(ofRow: row, operand: 1) } ?? rhs
      let out = destination + (layout == nil ? 0 : row * inner)
      // Separate loops for the common stride pairs, so each vectorises.
      switch (strideA, strideB) {
      case (1, 1): for j in 0..<inner { out[j] = combine(a[j], b[j]) }
      case (1, 0): let v = b[0]; for j in 0..<inner { out[j] = combine(a[j], v) }
      case (0, 1): let v = a[0]; for j in 0..<inner { out[j] = combine(v, b[j]) }
      default: for j in 0..<inner { out[j] = combine(a[j * strideA], b[j * strideB]) }
      }
    }
  }
}
