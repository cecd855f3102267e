/// The matrix product of two tensors with NumPy `matmul` semantics:
/// matrices, stacks of matrices with broadcast batch axes, and vectors.
///
/// - Rank 2 × rank 2: `[m, k] × [k, n] → [m, n]`, one `gemm` call.
/// - Batched: `[..., m, k] × [..., k, n] → [..., m, n]`; the batch axes
///   (all but the last two) broadcast as in NumPy, and a rank-2 operand
///   broadcasts against every matrix of the other's batch.
/// - Vectors: a rank-1 left operand `[k]` acts as the row `[1, k]` and a
///   rank-1 right operand `[k]` as the column `[k, 1]`; the added axis is
///   removed from the result, so `[k] × [k]` gives a rank-0 tensor,
///   `[k] × [..., k, n]` gives `[..., n]` and `[..., m, k] × [k]` gives `[..., m]`.
///
/// Transposition swaps the last two axes of an operand of rank ≥ 2 and is
/// handed to `gemm` as its `op` flag, so it costs no copy. It leaves a
/// rank-1 operand unchanged, as NumPy's `v.T` does.
///
/// - Parameters:
///   - a: rank ≥ 1, `[..., m, k]` (`[..., k, m]` when `transposingA`).
///   - b: rank ≥ 1, `[..., k, n]` (`[..., n, k]` when `transposingB`); the
///     inner dimensions `k` agree and the batch shapes broadcast.
///   - transposingA: multiply by the transpose of each matrix of `a`.
///   - transposingB: multiply by the transpose of each matrix of `b`.
/// - Returns: `[broadcast batch..., m, n]`, without the axes of vector operands.
///   A zero inner dimension (`k = 0`) gives zeros.
/// - Complexity: O(batch·m·n·k) on OpenBLAS's threads. A batched `a`
///   (not transposed) times a single matrix `b` is one `gemm` with the batch
///   folded into `m`; other batches call `gemm` once per matrix, serially,
///   each threaded by OpenBLAS.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func matmul<Scalar: TensorScalar>(
  _ a: Tensor<Scalar>, _ b: Tensor<Scalar>, transposingA: Bool = false, transposingB: Bool = false
) -> Tensor<Scalar> {
  let value = matrixProductValue(a, b, transposingA: transposingA, transposingB: transposingB)
  guard a.autodiff != nil || b.autodiff != nil else { return value }
  return value.derived(
    from: a, b, operation: "matmul",
    pullback: { [a = a.detached, b = b.detached, needA = a.requiresGradient, needB = b.requiresGradient] cotangent in
      matrixProductPullback(
        cotangent, a, b, transposingA: transposingA, transposingB: transposingB, needA: needA, needB: needB)
    },
    tangent: { a, b, output, da, db in
      matrixProductTangent(a, b, output, da, db, transposingA: transposingA, transposingB: transposingB)
    })
}

/// The value of ``matmul(_:_:transposingA:transposingB:)``, without derivatives.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func matrixProductValue<Scalar: TensorScalar>(
  _ a: Tensor<Scalar>, _ b: Tensor<Scalar>, transposingA: Bool, transposingB: Bool
) -> Tensor<Scalar> {
  let plan = MatrixProductPlan(
    a.shape, b.shape, transposingA: transposingA, transposingB: transposingB)
  let result = Tensor<Scalar>(uninitializedShape: plan.resultShape)
  guard result.scalarCount > 0 else { return result }
  let output = result.storage.base
  guard plan.k > 0 else {
    output.initialize(repeating: 0, count: result.scalarCount)
    return result
  }
  let aBase = UnsafePointer(a.storage.base)
  let bBase = UnsafePointer(b.storage.base)
  let matrixA = plan.m * plan.k
  let matrixB = plan.k * plan.n
  let matrixC = plan.m * plan.n
  let transposeA: BLASTranspose = plan.transposeA ? .transposed : .notTransposed
  let transposeB: BLASTranspose = plan.transposeB ? .transposed : .notTransposed

  if plan.batchCountB == 1 && !plan.transposeA && plan.batchCountA == plan.batchCount {
    // The matrices of `a` lie back to back, so they read as one
    // [batch·m, k] matrix sharing the single `b`: one large gemm.
    Scalar.gemm(
      .notTransposed, transposeB, m: plan.batchCount * plan.m, n: plan.n, k: plan.k,
      alpha: 1, a: aBase, leadingDimensionA: plan.leadingDimensionA,
      b: bBase, leadingDimensionB: plan.leadingDimensionB,
      beta: 0, c: output, leadingDimensionC: max(1, plan.n))
    return result
  }
  let stridesA = Shape.broadcastStrides(of: plan.batchShapeA, to: plan.batchShape)
  let stridesB = Shape.broadcastStrides(of: plan.batchShapeB, to: plan.batchShape)
  for batch in 0..<plan.batchCount {
    // The batch index's offsets in matrices, through the broadcast strides.
    var remainder = batch
    var offsetA = 0
    var offsetB = 0
    for axis in stride(from: plan.batchShape.count - 1, through: 0, by: -1) {
      let size = plan.batchShape[axis]
      let index = remainder % size
      remainder /= size
      offsetA += index * stridesA[axis]
      offsetB += index * stridesB[axis]
    }
    Scalar.gemm(
      transposeA, transposeB, m: plan.m, n: plan.n, k: plan.k,
      alpha: 1, a: aBase + offsetA * matrixA, leadingDimensionA: plan.leadingDimensionA,
      b: bBase + offsetB * matrixB, leadingDimensionB: plan.leadingDimensionB,
      beta: 0, c: output + batch * matrixC, leadingDimensionC: max(1, plan.n))
  }
  return result
}

/// The shapes, sizes and `gemm` arguments of one ``matmul(_:_:transposingA:transposingB:)``,
/// worked out from the operand shapes alone; every precondition lives here.
struct MatrixProductPlan: Equatable {
  /// `op(A)` is m×k and `op(B)` is k×n, for every matrix of the batch.
  var m: Int
  var n: Int
  var k: Int
  /// Whether `gemm` reads each stored matrix transposed.
  var transposeA: Bool
  var transposeB: Bool
  /// Stored row lengths of the operands' matrices, at least 1.
  var leadingDimensionA: Int
  var leadingDimensionB: Int
  /// The operands' batch shapes (all but the last two axes) and their broadcast.
  var batchShapeA: [Int]
  var batchShapeB: [Int]
  var batchShape: [Int]
  var resultShape: [Int]

  var batchCountA: Int { batchShapeA.reduce(1, *) }
  var batchCountB: Int { batchShapeB.reduce(1, *) }
  var batchCount: Int { batchShape.reduce(1, *) }

  init(_ shapeA: [Int], _ shapeB: [Int], transposingA: Bool, transposingB: Bool) {
    let operation = MatrixProductPlan.describe(shapeA, shapeB, transposingA: transposingA, transposingB: transposingB)
    precondition(
      shapeA.count >= 1 && shapeB.count >= 1,
      "\(operation): operands need rank ≥ 1, got ranks \(shapeA.count) and \(shapeB.count)")
    // A vector becomes a one-row (left) or one-column (right) matrix;
    // transposing it changes nothing.
    let vectorA = shapeA.count == 1
    let vectorB = shapeB.count == 1
    let matrixA = vectorA ? [1, shapeA[0]] : shapeA
    let matrixB = vectorB ? [shapeB[0], 1] : shapeB
    transposeA = transposingA && !vectorA
    transposeB = transposingB && !vectorB
    let rowsA = matrixA[matrixA.count - 2]
    let columnsA = matrixA[matrixA.count - 1]
    let rowsB = matrixB[matrixB.count - 2]
    let columnsB = matrixB[matrixB.count - 1]
    m = transposeA ? columnsA : rowsA
    let innerA = transposeA ? rowsA : columnsA
    let innerB = transposeB ? columnsB : rowsB
    n = transposeB ? rowsB : columnsB
    precondition(innerA == innerB, "\(operation): inner dimensions \(innerA) and \(innerB) differ")
    k = innerA
    leadingDimensionA = max(1, columnsA)
    leadingDimensionB = max(1, columnsB)
    batchShapeA = Array(matrixA.dropLast(2))
    batchShapeB = Array(matrixB.dropLast(2))
    batchShape = Shape.broadcast(batchShapeA, batchShapeB, operation: "\(operation): batch dimensions")
    var shape = batchShape
    if !vectorA { shape.append(m) }
    if !vectorB { shape.append(n) }
    resultShape = shape
  }

  /// "matmul: [3, 4] × [5, 6]ᵀ", the prefix of every message.
  static func describe(_ shapeA: [Int], _ shapeB: [Int], transposingA: Bool, transposingB: Bool) -> String {
    "matmul: \(shapeA)\(transposingA ? "ᵀ" : "") × \(shapeB)\(transposingB ? "ᵀ" : "")"
  }
}
