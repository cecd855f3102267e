import RealModule

/// The softmax along one axis: `exp(x − m) / Σ exp(x − m)`, with `m` the
/// maximum of each slice so no exponent is positive and nothing overflows.
///
/// Non-finite inputs follow SciPy's `softmax` and torch's: −∞ beside a
/// finite value gives 0, while a slice holding NaN or +∞, or only −∞, is NaN
/// throughout (`x − m` is then NaN somewhere, and so is the sum).
///
/// - Parameters:
///   - x: any shape; the slices along `axis` are normalised independently.
///   - axis: in `-rank..<rank`; the last by default.
/// Differentiable: the pullback is `y ⊙ (g − Σ g ⊙ y)` along `axis`, never
/// forming the Jacobian.
///
/// - Returns: `x`'s shape, each slice summing to 1.
/// - Complexity: O(n): three passes over each slice, one `exp` per scalar.
///   Along the last axis each slice is one contiguous row.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func softmax<Scalar: TensorScalar>(_ x: Tensor<Scalar>, alongAxis axis: Int = -1) -> Tensor<Scalar> {
  let value = normalizedExponentials(x, alongAxis: axis, logarithm: false, operation: "softmax")
  guard x.autodiff != nil else { return value }
  let axis = Shape.normalizedAxis(axis, rank: x.rank, operation: "softmax")
  return value.derived(
    from: x, operation: "softmax(alongAxis: \(axis))",
    // J = diag(y) − y·yᵀ on each slice, symmetric: gᵀJ = y ⊙ (g − ⟨g, y⟩).
    pullback: { cotangent in value * (cotangent - (cotangent * value).sum(alongAxes: [axis], keepingDimensions: true)) },
    tangent: { input, output, tangent in
      let axis = axis + tangentBatchRank(tangent, primal: input)
      return output * (tangent - (tangent * output).sum(alongAxes: [axis], keepingDimensions: true))
    })
}

/// The logarithm of the softmax along one axis: `(x − m) − log Σ exp(x − m)`,
/// with `m` the maximum of each slice, accurate where `log(softmax(x))`
/// would underflow to −∞.
///
/// Non-finite inputs give the logarithm of what ``softmax(_:alongAxis:)``
/// gives, as torch's: `logSoftmax([−∞, 0]) = [−∞, 0]`, and a slice holding
/// NaN or +∞, or only −∞, is NaN throughout. (SciPy's `log_softmax` instead
/// shifts by 0 when the maximum is not finite, which makes
/// `[+∞, 1]` → `[NaN, −∞]`, not the logarithm of its `softmax`, `[NaN, NaN]`.)
///
/// - Parameters:
///   - x: any shape; the slices along `axis` are normalised independently.
///   - axis: in `-rank..<rank`; the last by default.
/// Differentiable: the pullback is `g − softmax(x) · Σ g` along `axis`.
///
/// - Returns: `x`'s shape; `exp` of each slice sums to 1.
/// - Complexity: O(n): three passes over each slice, one `exp` per scalar.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func logSoftmax<Scalar: TensorScalar>(_ x: Tensor<Scalar>, alongAxis axis: Int = -1) -> Tensor<Scalar> {
  let value = normalizedExponentials(x, alongAxis: axis, logarithm: true, operation: "logSoftmax")
  guard x.autodiff != nil else { return value }
  let axis = Shape.normalizedAxis(axis, rank: x.rank, operation: "logSoftmax")
  return value.derived(
    from: x, operation: "logSoftmax(alongAxis: \(axis))",
    // J = I − 1·softmaxᵀ on each slice: gᵀJ = g − softmax·Σg, J·ẋ = ẋ − ⟨softmax, ẋ⟩.
    pullback: { cotangent in cotangent - exp(value) * cotangent.sum(alongAxes: [axis], keepingDimensions: true) },
    tangent: { input, output, tangent in
      let axis = axis + tangentBatchRank(tangent, primal: input)
      return tangent - (tangent * exp(output)).sum(alongAxes: [axis], keepingDimensions: true)
    })
}

/// The shared body of ``softmax(_:alongAxis:)`` (`logarithm` false) and
/// ``logSoftmax(_:alongAxis:)`` (true).
@inline(__always) @usableFromInline
func normalizedExponentials<Scalar: TensorScalar>(
  _ x: Tensor<Scalar>, alongAxis axis: Int, logarithm: Bool, operation: String
) -> Tensor<Scalar> {
  let axis = Shape.normalizedAxis(axis, rank: x.rank, operation: "\(operation) along axis \(axis) of shape \(x.shape)")
  let result = Tensor<Scalar>(uninitializedShape: x.shape)
  guard result.scalarCount > 0 else { return result }
  let layout = ReductionLayout(shape: x.shape, reducedAxes: [axis])
  let (outer, count, inner) = (layout.outer, layout.reduced, layout.inner)
  let source = x.storage.base
  let out = result.storage.base
  let grain = max(1, Parallel.elementwiseGrain / count)
  withExtendedLifetime(x) {
    if inner == 1 {
      Parallel.forEachRange(count: outer, grain: grain) { rows in
        for row in rows {
          let input = source + row * count
          let output = out + row * count
          let shift = ReductionKernel.rowExtremum(input, count: count, isGreaterPropagatingNaN)
          if logarithm {
            let logSum = Scalar.log(ReductionKernel.pairwiseSum(input, count: count) { Scalar.exp($0 - shift) })
            for index in 0..<count { output[index] = (input[index] - shift) - logSum }
          } else {
            for index in 0..<count { output[index] = Scalar.exp(input[index] - shift) }
            let sum = ReductionKernel.pairwiseSum(UnsafePointer(output), count: count) { $0 }
            for index in 0..<count { output[index] /= sum }
          }
        }
      }
      return
    }
    // Slices run down columns: work on tiles of adjacent slices, row by row.
    Parallel.forEachRange(count: outer * inner, grain: grain) { range in
      ReductionKernel.forEachTile(of: range, layout: layout) { offset, _, columns in
        withUnsafeTemporaryAllocation(of: Scalar.self, capacity: 2 * columns) { buffer in
          let shift = buffer.baseAddress!
          let total = shift + columns
          let input = source + offset
          let output = out + offset
          ReductionKernel.columnExtremum(
            input, rows: count, stride: inner, columns: columns, into: shift, isGreaterPropagatingNaN)
          if logarithm {
            ReductionKernel.columnSum(input, rows: count, stride: inner, columns: columns, into: total) {
              Scalar.exp($0 - shift[$1])
            }
            for j in 0..<columns { total[j] = Scalar.log(total[j]) }
            for row in 0..<count {
              let rowIn = input + row * inner
              let rowOut = output + row * inner
              for j in 0..<columns { rowOut[j] = (rowIn[j] - shift[j]) - total[j] }
            }
          } else {
            for row in 0..<count {
              let rowIn = input + row * inner
              let rowOut = output + row * inner
              for j in 0..<columns { rowOut[j] = Scalar.exp(rowIn[j] - shift[j]) }
            }
            ReductionKernel.columnSum(
              UnsafePointer(output), rows: count, stride: inner, columns: columns, into: total
            ) { value, _ in value }
            for row in 0..<count {
              let rowOut = output + row * inner
              for j in 0..<columns { rowOut[j] /= total[j] }
            }
          }
        }
      }
    }
  }
  return result
}
