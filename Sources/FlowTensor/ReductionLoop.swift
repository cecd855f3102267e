/// How a reduction walks its input: as a row-major `[outer, reduced, inner]`
/// block, where `reduced` is the product of the reduced axes.
///
/// Size-1 axes are dropped and adjacent axes of the same kind (reduced or
/// kept) merged, so reducing axes `[1, 2]` of `[3, 4, 5, 2]` is
/// `[3, 20, 2]`. When the reduced axes still form more than one block (axes
/// `[0, 2]` of a rank-3 tensor), the input is first gathered into
/// `[kept…, reduced…]` order: one strided copy, after which every reduction
/// reads contiguous rows. Either way output number `k` (row-major over the
/// kept axes) reduces the `reduced` scalars at
/// `(k / inner) · reduced · inner + k % inner + r · inner`.
@usableFromInline
struct ReductionLayout {
  @usableFromInline var outer: Int
  @usableFromInline var reduced: Int
  @usableFromInline var inner: Int
  /// The shape and source strides that gather the input into
  /// `[kept…, reduced…]` order, when the reduced axes are not one block.
  @usableFromInline var gather: (shape: [Int], strides: [Int])?

  /// - Parameters:
  ///   - axes: normalised, sorted, distinct axes of `shape`.
  @usableFromInline
  init(shape: [Int], reducedAxes axes: [Int]) {
    let (groups, isReduced) = Self.groups(shape: shape, reducedAxes: axes)
    let reducedGroups = groups.indices.filter { groups[$0].isReduced }
    if reducedGroups.count <= 1 {
      gather = nil
      if let index = reducedGroups.first {
        outer = groups[..<index].reduce(1) { $0 * $1.size }
        reduced = groups[index].size
        inner = groups[(index + 1)...].reduce(1) { $0 * $1.size }
      } else {
        // Nothing to reduce: one "row" of every scalar, which the column
        // kernels process as a single vectorised pass.
        outer = 1
        reduced = 1
        inner = shape.reduce(1, *)
      }
    } else {
      let strides = Shape.strides(of: shape)
      let order = shape.indices.filter { !isReduced[$0] } + shape.indices.filter { isReduced[$0] }
      gather = (order.map { shape[$0] }, order.map { strides[$0] })
      outer = shape.indices.filter { !isReduced[$0] }.reduce(1) { $0 * shape[$1] }
      reduced = axes.reduce(1) { $0 * shape[$1] }
      inner = 1
    }
  }
}

extension ReductionLayout {
  /// The shape without its size-1 axes, adjacent axes of the same kind
  /// (reduced or kept) merged, in order; and which axes are reduced.
  @usableFromInline
  static func groups(shape: [Int], reducedAxes axes: [Int]) -> (
    groups: [(size: Int, isReduced: Bool)], isReduced: [Bool]
  ) {
    var isReduced = [Bool](repeating: false, count: shape.count)
    for axis in axes { isReduced[axis] = true }
    var groups: [(size: Int, isReduced: Bool)] = []
    for axis in shape.indices where shape[axis] != 1 {
      if let last = groups.last, last.isReduced == isReduced[axis] {
        groups[groups.count - 1].size *= shape[axis]
      } else {
        groups.append((shape[axis], isReduced[axis]))
      }
    }
    return (groups, isReduced)
  }

  /// `(outer, kept, inner)` when, after dropping size-1 axes and merging
  /// neighbours of the same kind, the shape is reduced × kept × reduced
  /// (axes [0, 2, 3] of `[batch, channels, height, width]`); nil otherwise.
  @usableFromInline
  static func reducedAround(shape: [Int], reducedAxes axes: [Int]) -> (outer: Int, kept: Int, inner: Int)? {
    let groups = groups(shape: shape, reducedAxes: axes).groups
    guard groups.count == 3, groups[0].isReduced, !groups[1].isReduced, groups[2].isReduced else { return nil }
    return (groups[0].size, groups[1].size, groups[2].size)
  }
}

extension Tensor {
  /// Calls `body` with a pointer to the scalars laid out as `layout` says:
  /// this tensor's own storage, or a gathered `[kept…, reduced…]` copy.
  @inline(__always) @usableFromInline
  func withReductionSource<Result>(
    reducing axes: [Int], _ body: (UnsafePointer<Scalar>, ReductionLayout) -> Result
  ) -> Result {
    let layout = ReductionLayout(shape: shape, reducedAxes: axes)
    // The closure is called directly, with the lifetime extended after it:
    // calling it inside `withExtendedLifetime`'s closure miscompiled in
    // optimised builds (a jump through a garbage closure pointer, seen
    // with Swift 6.3.1 in the specialised `sum(alongAxes:)`).
    guard let gather = layout.gather else {
      let result = body(storage.base, layout)
      withExtendedLifetime(self) {}
      return result
    }
    let gathered = Tensor.gather(from: storage.base, shape: gather.shape, strides: gather.strides)
    let result = body(gathered.storage.base, layout)
    withExtendedLifetime(gathered) {}
    return result
  }
}

/// The loops under every reduction, softmax and argmax. All are
/// `@inline(__always)` so that each public op, specialised for `Float` and
/// `Double`, gets its own copy with its closures inlined.
///
/// Sums are pairwise in the scalar type itself, NumPy's choice: blocks of
/// ``block`` scalars summed with eight accumulators, blocks combined as a
/// binary tree. The error bound is O(ε log n) rather than the O(ε n) of a
/// running sum (Higham, *Accuracy and Stability of Numerical Algorithms*,
/// 2nd ed., §4.2), at the speed of a plain loop, whereas accumulating
/// `Float` in `Double` would halve the vector width.
@usableFromInline
enum ReductionKernel {
  /// Leaf size of the pairwise tree (NumPy's `PW_BLOCKSIZE`).
  @usableFromInline static let block = 128
  /// Scalars per parallel chunk of one long row: a power-of-two number of
  /// blocks, so that each chunk is a whole subtree of the pairwise tree and
  /// the parallel sum equals the sequential one bit for bit, whatever the
  /// number of threads.
  @usableFromInline static let chunk = block << 8
  /// Rows summed by a plain running sum before the pairwise tree takes
  /// over, when reducing across rows (the `inner > 1` layout).
  @usableFromInline static let columnBlock = 16
  /// Output columns processed together in the `inner > 1` layout, so the
  /// partial sums stay in cache.
  @usableFromInline static let columnTile = 512

  // MARK: Sums along contiguous rows

  /// The sum of `f(x[i])` for `i < count ≤ block`, with eight
  /// accumulators: lane k adds up `f(x[8·i + k])`, and the lanes are
  /// combined as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)).
  @inline(__always) @usableFromInline
  static func blockSum<Scalar: TensorScalar>(
    _ x: UnsafePointer<Scalar>, count: Int, _ f: (Scalar) -> Scalar
  ) -> Scalar {
    if count < 8 {
      var sum: Scalar = 0
      for index in 0..<count { sum += f(x[index]) }
      return sum
    }
    // The accumulators as one SIMD8 value: written as eight scalar
    // variables, the optimiser assembled them into vectors lane by lane and
    // spilled them to the stack (perf annotate of the Float sum). Same
    // lanes, same order, same result.
    if Scalar.self == Float.self {
      let sum = laneBlockSum(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), count: count) {
        unsafeBitCast(f(unsafeBitCast($0, to: Scalar.self)), to: Float.self)
      }
      return unsafeBitCast(sum, to: Scalar.self)
    }
    if Scalar.self == Double.self {
      let sum = laneBlockSum(UnsafeRawPointer(x).assumingMemoryBound(to: Double.self), count: count) {
        unsafeBitCast(f(unsafeBitCast($0, to: Scalar.self)), to: Double.self)
      }
      return unsafeBitCast(sum, to: Scalar.self)
    }
    var r0 = f(x[0]), r1 = f(x[1]), r2 = f(x[2]), r3 = f(x[3])
    var r4 = f(x[4]), r5 = f(x[5]), r6 = f(x[6]), r7 = f(x[7])
    var index = 8
    while index + 8 <= count {
      r0 += f(x[index]); r1 += f(x[index + 1]); r2 += f(x[index + 2]); r3 += f(x[index + 3])
      r4 += f(x[index + 4]); r5 += f(x[index + 5]); r6 += f(x[index + 6]); r7 += f(x[index + 7])
      index += 8
    }
    var sum = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while index < count {
      sum += f(x[index])
      index += 1
    }
    return sum
  }

  /// ``blockSum(_:count:_:)`` for a SIMD scalar type; `count ≥ 8`.
  @inline(__always) @usableFromInline
  static func laneBlockSum<Lane: BinaryFloatingPoint & SIMDScalar>(
    _ x: UnsafePointer<Lane>, count: Int, _ f: (Lane) -> Lane
  ) -> Lane {
    @inline(__always) func lanes(_ p: UnsafePointer<Lane>) -> SIMD8<Lane> {
      SIMD8(f(p[0]), f(p[1]), f(p[2]), f(p[3]), f(p[4]), f(p[5]), f(p[6]), f(p[7]))
    }
    var accumulator = lanes(x)
    var index = 8
    while index + 8 <= count {
      accumulator += lanes(x + index)
      index += 8
    }
    var sum = ((accumulator[0] + accumulator[1]) + (accumulator[2] + accumulator[3]))
      + ((accumulator[4] + accumulator[5]) + (accumulator[6] + accumulator[7]))
    while index < count {
      sum += f(x[index])
      index += 1
    }
    return sum
  }

  /// Pushes `value`, the sum of leaf number `leaf - 1`, onto a binary-counter
  /// stack of subtree sums, merging the subtrees it completes.
  @inline(__always) @usableFromInline
  static func push<Scalar: TensorScalar>(
    _ value: Scalar, leaf: Int, onto stack: UnsafeMutablePointer<Scalar>, depth: inout Int
  ) {
    var value = value
    for _ in 0..<leaf.trailingZeroBitCount {
      depth -= 1
      value = stack[depth] + value
    }
    stack[depth] = value
    depth += 1
  }

  /// Adds up what is left on the stack, top first.
  @inline(__always) @usableFromInline
  static func collapse<Scalar: TensorScalar>(_ stack: UnsafeMutablePointer<Scalar>, depth: Int) -> Scalar {
    var depth = depth - 1
    var total = stack[depth]
    while depth > 0 {
      depth -= 1
      total = stack[depth] + total
    }
    return total
  }

  /// The pairwise sum of `f(x[i])` for `i < count`.
  @inline(__always) @usableFromInline
  static func pairwiseSum<Scalar: TensorScalar>(
    _ x: UnsafePointer<Scalar>, count: Int, _ f: (Scalar) -> Scalar
  ) -> Scalar {
    if count <= block { return blockSum(x, count: count, f) }
    return withUnsafeTemporaryAllocation(of: Scalar.self, capacity: Int.bitWidth) { buffer in
      let stack = buffer.baseAddress!
      var depth = 0
      var start = 0
      var leaf = 0
      while start < count {
        let length = Swift.min(block, count - start)
        leaf += 1
        push(blockSum(x + start, count: length, f), leaf: leaf, onto: stack, depth: &depth)
        start += length
      }
      return collapse(stack, depth: depth)
    }
  }

  /// ``pairwiseSum(_:count:_:)`` of `term(x[i], output)` over one long row,
  /// its ``chunk``s summed on all cores; the same value as the sequential
  /// sum.
  @inline(__always) @usableFromInline
  static func parallelPairwiseSum<Term: ReductionTerm>(
    _ x: UnsafePointer<Term.Scalar>, count: Int, term: Term, output: Int
  ) -> Term.Scalar {
    let chunks = (count + chunk - 1) / chunk
    var partials = [Term.Scalar](repeating: 0, count: chunks)
    partials.withUnsafeMutableBufferPointer { buffer in
      let partial = buffer.baseAddress!
      Parallel.forEachRange(count: chunks, grain: 1) { range in
        for index in range {
          let start = index * chunk
          partial[index] = pairwiseSum(x + start, count: Swift.min(chunk, count - start)) { term($0, output) }
        }
      }
    }
    return withUnsafeTemporaryAllocation(of: Term.Scalar.self, capacity: Int.bitWidth) { buffer in
      let stack = buffer.baseAddress!
      var depth = 0
      for index in 0..<chunks { push(partials[index], leaf: index + 1, onto: stack, depth: &depth) }
      return collapse(stack, depth: depth)
    }
  }

  // MARK: Sums across rows

  /// `out[j] = Σ_r f(x[r·stride + j], j)` for `j < columns`: running sums
  /// over blocks of ``columnBlock`` rows, combined pairwise.
  @inline(__always) @usableFromInline
  static func columnSum<Scalar: TensorScalar>(
    _ x: UnsafePointer<Scalar>, rows: Int, stride: Int, columns: Int,
    into out: UnsafeMutablePointer<Scalar>, _ f: (Scalar, Int) -> Scalar
  ) {
    if rows <= columnBlock {
      accumulateRows(x, rows: rows, stride: stride, columns: columns, into: out, f)
      return
    }
    let leaves = (rows + columnBlock - 1) / columnBlock
    let levels = Int.bitWidth - leaves.leadingZeroBitCount + 1
    // A heap buffer: the stack allocation this replaced corrupted the
    // caller's frame in optimised builds (Swift 6.3.1; a dynamically
    // sized temporary allocation inlined into closures that run per tile).
    var storage = [Scalar](repeating: 0, count: levels * columns)
    storage.withUnsafeMutableBufferPointer { buffer in
      let stack = buffer.baseAddress!
      var depth = 0
      var row = 0
      var leaf = 0
      while row < rows {
        let count = Swift.min(columnBlock, rows - row)
        precondition(depth < levels, "columnSum: pairwise stack depth \(depth) reached its \(levels) levels")
        var top = stack + depth * columns
        accumulateRows(x + row * stride, rows: count, stride: stride, columns: columns, into: top, f)
        leaf += 1
        for _ in 0..<leaf.trailingZeroBitCount {
          depth -= 1
          let below = stack + depth * columns
          for j in 0..<columns { below[j] = below[j] + top[j] }
          top = below
        }
        depth += 1
        row += count
      }
      depth -= 1
      let top = stack + depth * columns
      while depth > 0 {
        depth -= 1
        let below = stack + depth * columns
        for j in 0..<columns { top[j] = below[j] + top[j] }
      }
      out.update(from: top, count: columns)
    }
  }

  /// `out[j] = Σ_r f(x[r·stride + j], j)` as a running sum; `rows ≥ 1`.
  @inline(__always) @usableFromInline
  static func accumulateRows<Scalar: TensorScalar>(
    _ x: UnsafePointer<Scalar>, rows: Int, stride: Int, columns: Int,
    into out: UnsafeMutablePointer<Scalar>, _ f: (Scalar, Int) -> Scalar
  ) {
    for j in 0..<columns { out[j] = f(x[j], j) }
    for row in 1..<Swift.max(rows, 1) {
      let source = x + row * stride
      for j in 0..<columns { out[j] += f(source[j], j) }
    }
  }

  /// Splits outputs `range` of an `inner > 1` layout into tiles of at most
  /// ``columnTile`` adjacent outputs that share an outer index, and calls
  /// `body(sourceOffset, firstOutput, columns)` for each.
  @inline(__always) @usableFromInline
  static func forEachTile(
    of range: Range<Int>, layout: ReductionLayout, _ body: (Int, Int, Int) -> Void
  ) {
    let inner = layout.inner
    var output = range.lowerBound
    while output < range.upperBound {
      let (outerIndex, column) = output.quotientAndRemainder(dividingBy: inner)
      let columns = Swift.min(range.upperBound - output, inner - column, columnTile)
      body(outerIndex * layout.reduced * inner + column, output, columns)
      output += columns
    }
  }

  /// Output `k` becomes `Σ_r term(x_r, k)` over the scalars it reduces; sums
  /// are pairwise and split across cores. `reduced ≥ 1`.
  @inline(__always) @usableFromInline
  static func sum<Term: ReductionTerm>(
    _ source: UnsafePointer<Term.Scalar>, layout: ReductionLayout,
    into out: UnsafeMutablePointer<Term.Scalar>, term: Term
  ) {
    let (outer, reduced, inner) = (layout.outer, layout.reduced, layout.inner)
    if inner == 1 {
      if outer < Parallel.threadCount && reduced >= 2 * chunk {
        for row in 0..<outer {
          out[row] = parallelPairwiseSum(source + row * reduced, count: reduced, term: term, output: row)
        }
        return
      }
      Parallel.forEachRange(count: outer, grain: Swift.max(1, Parallel.elementwiseGrain / reduced)) { rows in
        for row in rows {
          out[row] = pairwiseSum(source + row * reduced, count: reduced) { term($0, row) }
        }
      }
      return
    }
    Parallel.forEachRange(count: outer * inner, grain: Swift.max(1, Parallel.elementwiseGrain / reduced)) { range in
      forEachTile(of: range, layout: layout) { offset, first, columns in
        columnSum(source + offset, rows: reduced, stride: inner, columns: columns, into: out + first) {
          term($0, first + $1)
        }
      }
    }
  }

  /// `out[k] = Σ_a Σ_i x[(a·kept + k)·inner + i]` for `k < kept`: each
  /// contiguous row of `inner` summed pairwise where it lies (rows split
  /// across cores), then each output's `outer` row sums pairwise.
  @inline(__always) @usableFromInline
  static func sumAround<Scalar: TensorScalar>(
    _ x: UnsafePointer<Scalar>, outer: Int, kept: Int, inner: Int, into out: UnsafeMutablePointer<Scalar>
  ) {
    // Row sums transposed to [kept, outer], so each output's are contiguous.
    var rowSums = [Scalar](repeating: 0, count: outer * kept)
    rowSums.withUnsafeMutableBufferPointer { buffer in
      let sums = buffer.baseAddress!
      Parallel.forEachRange(count: outer * kept, grain: Swift.max(1, Parallel.elementwiseGrain / inner)) { rows in
        for row in rows {
          let (a, k) = row.quotientAndRemainder(dividingBy: kept)
          sums[k * outer + a] = pairwiseSum(x + row * inner, count: inner) { $0 }
        }
      }
      for k in 0..<kept { out[k] = pairwiseSum(sums + k * outer, count: outer) { $0 } }
    }
  }

  // MARK: Extrema

  /// Output `k` becomes the best of the scalars it reduces, where
  /// `isBetter(candidate, current)` decides; the first wins ties. `reduced ≥ 1`.
  @inline(__always) @usableFromInline
  static func extremum<Scalar: TensorScalar>(
    _ source: UnsafePointer<Scalar>, layout: ReductionLayout,
    into out: UnsafeMutablePointer<Scalar>, isBetter: (Scalar, Scalar) -> Bool
  ) {
    let (outer, reduced, inner) = (layout.outer, layout.reduced, layout.inner)
    if inner == 1 {
      if outer < Parallel.threadCount && reduced >= 2 * chunk {
        for row in 0..<outer {
          let x = source + row * reduced
          let chunks = (reduced + chunk - 1) / chunk
          var partials = [Scalar](repeating: 0, count: chunks)
          partials.withUnsafeMutableBufferPointer { buffer in
            let partial = buffer.baseAddress!
            Parallel.forEachRange(count: chunks, grain: 1) { range in
              for index in range {
                let start = index * chunk
                partial[index] = rowExtremum(x + start, count: Swift.min(chunk, reduced - start), isBetter)
              }
            }
          }
          out[row] = partials.withUnsafeBufferPointer { rowExtremum($0.baseAddress!, count: chunks, isBetter) }
        }
        return
      }
      Parallel.forEachRange(count: outer, grain: Swift.max(1, Parallel.elementwiseGrain / reduced)) { rows in
        for row in rows { out[row] = rowExtremum(source + row * reduced, count: reduced, isBetter) }
      }
      return
    }
    Parallel.forEachRange(count: outer * inner, grain: Swift.max(1, Parallel.elementwiseGrain / reduced)) { range in
      forEachTile(of: range, layout: layout) { offset, first, columns in
        columnExtremum(source + offset, rows: reduced, stride: inner, columns: columns, into: out + first, isBetter)
      }
    }
  }

  /// The best of `x[0..<count]`; `count ≥ 1`.
  @inline(__always) @usableFromInline
  static func rowExtremum<Scalar: TensorScalar>(
    _ x: UnsafePointer<Scalar>, count: Int, _ isBetter: (Scalar, Scalar) -> Bool
  ) -> Scalar {
    var best = x[0]
    for index in 1..<Swift.max(count, 1) where isBetter(x[index], best) { best = x[index] }
    return best
  }

  /// `out[j]` = the best of `x[r·stride + j]` over `r < rows`; `rows ≥ 1`.
  @inline(__always) @usableFromInline
  static func columnExtremum<Scalar: TensorScalar>(
    _ x: UnsafePointer<Scalar>, rows: Int, stride: Int, columns: Int,
    into out: UnsafeMutablePointer<Scalar>, _ isBetter: (Scalar, Scalar) -> Bool
  ) {
    out.update(from: x, count: columns)
    for row in 1..<Swift.max(rows, 1) {
      let source = x + row * stride
      for j in 0..<columns where isBetter(source[j], out[j]) { out[j] = source[j] }
    }
  }

  /// Output `k` becomes the position along the reduced axis of the best of
  /// the scalars it reduces; the first wins ties. `reduced ≥ 1`.
  @inline(__always) @usableFromInline
  static func argExtremum<Scalar: TensorScalar>(
    _ source: UnsafePointer<Scalar>, layout: ReductionLayout,
    into out: UnsafeMutablePointer<Int>, isBetter: (Scalar, Scalar) -> Bool
  ) {
    let (outer, reduced, inner) = (layout.outer, layout.reduced, layout.inner)
    if inner == 1 {
      Parallel.forEachRange(count: outer, grain: Swift.max(1, Parallel.elementwiseGrain / reduced)) { rows in
        for row in rows {
          let x = source + row * reduced
          var best = x[0]
          var position = 0
          for index in 1..<Swift.max(reduced, 1) where isBetter(x[index], best) {
            best = x[index]
            position = index
          }
          out[row] = position
        }
      }
      return
    }
    Parallel.forEachRange(count: outer * inner, grain: Swift.max(1, Parallel.elementwiseGrain / reduced)) { range in
      forEachTile(of: range, layout: layout) { offset, first, columns in
        // A heap buffer, as in `columnSum`: dynamically sized stack
        // allocations in these per-tile closures miscompiled under -O.
        var bestValues = [Scalar](repeating: 0, count: columns)
        bestValues.withUnsafeMutableBufferPointer { buffer in
          let best = buffer.baseAddress!
          let x = source + offset
          let position = out + first
          best.update(from: x, count: columns)
          position.update(repeating: 0, count: columns)
          for row in 1..<Swift.max(reduced, 1) {
            let values = x + row * inner
            for j in 0..<columns where isBetter(values[j], best[j]) {
              best[j] = values[j]
              position[j] = row
            }
          }
        }
      }
    }
  }
}

/// NumPy's order for `max` and `argmax`: NaN above everything (the first NaN
/// wins), otherwise strictly greater.
@inline(__always) @usableFromInline
func isGreaterPropagatingNaN<Scalar: FloatingPoint>(_ candidate: Scalar, _ current: Scalar) -> Bool {
  candidate > current || (candidate.isNaN && !current.isNaN)
}

/// NumPy's order for `min` and `argmin`: NaN below everything (the first
/// NaN wins), otherwise strictly less.
@inline(__always) @usableFromInline
func isLessPropagatingNaN<Scalar: FloatingPoint>(_ candidate: Scalar, _ current: Scalar) -> Bool {
  candidate < current || (candidate.isNaN && !current.isNaN)
}

/// What a sum adds up: `term(x, k)` for each scalar x that output k
/// reduces. A type rather than a closure: a closure argument captured by
/// the parallel regions' closures was called indirectly once per scalar
/// (perf annotate: an indirect call per element; the CD training step on
/// [4096, 256] Float, two full sums, took 3.1 ms before this change and
/// 2.1 ms after), whereas a term's
/// type is known in each specialised copy, so its call inlines and the
/// block sums vectorise.
@usableFromInline
protocol ReductionTerm {
  associatedtype Scalar: TensorScalar
  func callAsFunction(_ value: Scalar, _ output: Int) -> Scalar
}

/// The scalar itself: a plain sum.
@usableFromInline
struct PlainTerm<Scalar: TensorScalar>: ReductionTerm {
  @usableFromInline init() {}
  @usableFromInline @inline(__always)
  func callAsFunction(_ value: Scalar, _ output: Int) -> Scalar { value }
}

/// (x − mean[k])²: the sum of squared deviations behind a variance.
@usableFromInline
struct SquaredDeviationTerm<Scalar: TensorScalar>: ReductionTerm {
  @usableFromInline let mean: UnsafePointer<Scalar>
  @usableFromInline init(mean: UnsafePointer<Scalar>) { self.mean = mean }
  @usableFromInline @inline(__always)
  func callAsFunction(_ value: Scalar, _ output: Int) -> Scalar {
    let deviation = value - mean[output]
    return deviation * deviation
  }
}

/// exp(x − shift[k]): the shifted exponentials behind a log-sum-exp.
@usableFromInline
struct ShiftedExponentialTerm<Scalar: TensorScalar>: ReductionTerm {
  @usableFromInline let shift: UnsafePointer<Scalar>
  @usableFromInline init(shift: UnsafePointer<Scalar>) { self.shift = shift }
  @usableFromInline @inline(__always)
  func callAsFunction(_ value: Scalar, _ output: Int) -> Scalar { Scalar.exp(value - shift[output]) }
}
