import RealModule

/// Multi-head causal self-attention over packed projections, fused: each
/// head's softmax(q·kᵀ/√d)·v with query i seeing keys j ≤ i (Vaswani et
/// al. 2017, GPT's causal mask), read from and written to the layouts the
/// projections already have.
///
/// The same numbers as splitting `projections` into heads (reshape to
/// `[batch, length, 3, heads, d]`, move the heads before the positions),
/// then `matmul(causalSoftmax(matmul(q/√d, k, transposingB: true)), v)` and
/// merging the heads back, but without the two transposed copies, the three
/// slices and their zero-padded cotangents: every product reads its
/// operand where it lies, through `gemm`'s leading dimensions, the heads run
/// across cores, and the rows go in blocks of 64 queries, each multiplying
/// only the keys it sees (about 5/8 of the products' work at length 256; the
/// masked blocks above the diagonal are never computed). The pullback is one
/// fused pass as well (`Tensor+SelfAttention+Derivatives.swift`).
///
/// - Parameters:
///   - projections: `[batch, length, 3·width]`: queries, keys and values side
///     by side, each `[heads, d]` with `width = heads·d` (a `Dense(width →
///     3·width)` output).
///   - headCount: ≥ 1, dividing `width`.
/// - Returns: `[batch, length, width]`, the heads side by side.
/// - Complexity: O(batch·length²·width) (about half of it with the mask),
///   the batch's heads split across cores; keeps the `[batch·heads, length,
///   length]` attention weights for the pullback when a gradient is recorded.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func causalSelfAttention<Scalar: TensorScalar>(_ projections: Tensor<Scalar>, headCount: Int) -> Tensor<Scalar> {
  let plan = SelfAttentionPlan(shape: projections.shape, headCount: headCount)
  let recording = projections.autodiff?.node != nil && Recording.isActive
  let (value, weights) = selfAttentionValue(projections, plan: plan, keepingWeights: recording)
  guard projections.autodiff != nil else { return value }
  let input = projections.detached
  return value.derived(
    from: projections, operation: "causalSelfAttention(headCount: \(headCount))",
    pullback: { cotangent in
      guard let weights else {
        preconditionFailure("causalSelfAttention: pullback without the attention weights of the forward pass")
      }
      return selfAttentionPullback(cotangent, projections: input, weights: weights, plan: plan)
    },
    tangent: { input, _, tangent in selfAttentionTangent(input, tangent: tangent, plan: plan) })
}

/// The sizes of one ``causalSelfAttention(_:headCount:)``, checked.
struct SelfAttentionPlan {
  let batch: Int
  let length: Int
  let width: Int
  let heads: Int
  let headSize: Int
  /// Queries per block: a block of rows multiplies only the keys its last row sees.
  let block: Int

  init(shape: [Int], headCount: Int) {
    precondition(
      shape.count == 3 && headCount >= 1 && shape[2] % (3 * headCount) == 0 && shape[2] > 0,
      "causalSelfAttention: projections \(shape) with \(headCount) heads: need [batch, length, 3·width] "
        + "with width a positive multiple of the head count")
    batch = shape[0]
    length = shape[1]
    width = shape[2] / 3
    heads = headCount
    headSize = width / headCount
    block = Swift.min(Swift.max(length, 1), 64)
  }

  /// Rows of the packed projections between consecutive positions.
  var projectionStride: Int { 3 * width }
  var matrices: Int { batch * heads }
  var scale: Double { 1 / Double.sqrt(Double(headSize)) }

  /// Matrices per chunk of the parallel loop: at least ~2^18 multiply-adds.
  var grain: Int { Swift.max(1, (1 << 18) / Swift.max(1, length * length * headSize)) }

  /// The scalar offsets of matrix `index`'s query block in the projections
  /// (keys at `+ width`, values at `+ 2·width`) and of its head in the output.
  @inline(__always)
  func offsets(of index: Int) -> (projections: Int, output: Int) {
    let (sample, head) = index.quotientAndRemainder(dividingBy: heads)
    return (sample * length * projectionStride + head * headSize, sample * length * width + head * headSize)
  }
}

/// The value of ``causalSelfAttention(_:headCount:)`` and, when asked, the
/// attention weights `[batch·heads, length, length]` (row i holds the
/// softmax over keys 0…i and zeros up to the end of its block of queries;
/// the rest is never written or read).
@inline(__always)
func selfAttentionValue<Scalar: TensorScalar>(
  _ projections: Tensor<Scalar>, plan: SelfAttentionPlan, keepingWeights: Bool
) -> (Tensor<Scalar>, Tensor<Scalar>?) {
  let result = Tensor<Scalar>(uninitializedShape: [plan.batch, plan.length, plan.width])
  let weights = keepingWeights ? Tensor<Scalar>(uninitializedShape: [plan.matrices, plan.length, plan.length]) : nil
  guard result.scalarCount > 0 else { return (result, weights) }
  let (length, size, stride) = (plan.length, plan.headSize, plan.projectionStride)
  let source = UnsafePointer(projections.storage.base)
  let destination = result.storage.base
  let kept = weights?.storage.base
  let scale = Scalar(plan.scale)
  withExtendedLifetime((projections, weights)) {
    Parallel.forEachRange(count: plan.matrices, grain: plan.grain) { range in
      // Without a gradient to record, one matrix of weights per thread.
      withUnsafeTemporaryAllocation(of: Scalar.self, capacity: kept == nil ? length * length : 0) { scratch in
        for index in range {
          let (input, output) = plan.offsets(of: index)
          let (queries, keys, values) = (source + input, source + input + plan.width, source + input + 2 * plan.width)
          let matrix = kept.map { $0 + index * length * length } ?? scratch.baseAddress!
          for start in Swift.stride(from: 0, to: length, by: plan.block) {
            let end = Swift.min(length, start + plan.block)
            Scalar.gemm(
              .notTransposed, .transposed, m: end - start, n: end, k: size,
              alpha: scale, a: queries + start * stride, leadingDimensionA: stride,
              b: keys, leadingDimensionB: stride, beta: 0, c: matrix + start * length, leadingDimensionC: length)
            for row in start..<end {
              causalSoftmaxRow(matrix + row * length, visible: row + 1, blockEnd: end)
            }
            Scalar.gemm(
              .notTransposed, .notTransposed, m: end - start, n: size, k: end,
              alpha: 1, a: UnsafePointer(matrix + start * length), leadingDimensionA: length,
              b: values, leadingDimensionB: stride, beta: 0, c: destination + output + start * plan.width,
              leadingDimensionC: plan.width)
          }
        }
      }
    }
  }
  return (result, weights)
}

/// Softmax in place over the first `visible` scores of a row, zeros from
/// there to `blockEnd`.
@inline(__always)
func causalSoftmaxRow<Scalar: TensorScalar>(_ line: UnsafeMutablePointer<Scalar>, visible: Int, blockEnd: Int) {
  let shift = ReductionKernel.rowExtremum(UnsafePointer(line), count: visible, isGreaterPropagatingNaN)
  for key in 0..<visible { line[key] -= shift }
  ElementwiseKernels.exp(UnsafePointer(line), line, count: visible)
  let reciprocal = 1 / ReductionKernel.pairwiseSum(UnsafePointer(line), count: visible) { $0 }
  for key in 0..<visible { line[key] *= reciprocal }
  for key in visible..<blockEnd { line[key] = 0 }
}
