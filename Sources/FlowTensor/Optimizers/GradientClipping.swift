/// Scales `gradients` down so that their global norm is at most
/// `maximumNorm`, and returns the norm they had.
///
/// The global norm is the 2-norm of all gradients' scalars together,
/// √(Σ‖gᵢ‖²). Above `maximumNorm` every gradient is multiplied by
/// `maximumNorm / norm`, which keeps the direction of the whole gradient;
/// at or below it nothing changes. (PyTorch's `clip_grad_norm_` divides by
/// norm + 10⁻⁶ instead, leaving the clipped norm 10⁻⁶ short.)
///
/// The norm is computed without overflow or underflow: the scalars are
/// first scaled by a power of two (exact) or by 1/max|gᵢ|, so that the
/// largest is about 1, then squared and summed in `Double` in fixed blocks
/// (the result does not depend on the number of threads). For `Float`
/// gradients whose norm exceeds `Float`'s range the returned norm is +∞, yet
/// the gradients are still clipped correctly; a norm beyond `Double`'s
/// range counts as non-finite.
///
/// When a gradient holds NaN or an infinity the norm is not finite: it is
/// returned (NaN if any scalar is NaN, else +∞) and the gradients are left
/// unchanged, so the caller can skip the step.
/// - Parameters:
///   - gradients: by parameter name; rewritten in place when clipped, and
///     stripped of autodiff state then.
///   - maximumNorm: the largest norm let through; greater than 0
///     (+∞ disables clipping).
/// - Returns: the global norm before clipping.
/// - Complexity: O(n) in the total number of scalars, two passes.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
@discardableResult
public func clipByGlobalNorm<Scalar: TensorScalar>(
  _ gradients: inout [String: Tensor<Scalar>], maximumNorm: Scalar
) -> Scalar {
  precondition(maximumNorm > 0, "clipByGlobalNorm: maximum norm \(maximumNorm) must be greater than 0")
  let norm = globalNorm(gradients)
  guard norm.isFinite else { return Scalar(norm) }
  guard norm > Double(maximumNorm) else { return Scalar(norm) }
  let factor = Scalar(Double(maximumNorm) / norm)
  for name in Array(gradients.keys) {
    gradients[name]!.withUnsafeMutableBufferPointer { buffer in
      let base = buffer.baseAddress!
      Parallel.forEachRange(count: buffer.count, grain: Parallel.elementwiseGrain) { range in
        for i in range { base[i] *= factor }
      }
    }
  }
  return Scalar(norm)
}

/// √(Σ g²) over every scalar of `gradients`, in `Double`; NaN when a
/// scalar is NaN, +∞ when one is infinite.
func globalNorm<Scalar: TensorScalar>(_ gradients: [String: Tensor<Scalar>]) -> Double {
  // The order is fixed (sorted names, fixed blocks), so the sum is
  // reproducible.
  let tensors = gradients.keys.sorted().map { gradients[$0]! }
  var largest: Scalar = 0
  for tensor in tensors {
    let blockLargest = blockReduce(tensor) { base, range in largestMagnitude(base, range) }
    for value in blockLargest {
      if value.isNaN { return .nan }
      largest = Swift.max(largest, value)
    }
  }
  if largest.isInfinite { return .infinity }
  if largest == 0 { return 0 }
  let magnitude = Double(largest)
  let sumOfSquares: Double
  if magnitude.exponent >= Double.leastNormalMagnitude.exponent {
    // A power of two near 1/max: the scaling itself rounds nothing.
    let scale = Double(sign: .plus, exponent: -magnitude.exponent, significand: 1)
    sumOfSquares = tensors.reduce(0) { total, tensor in
      blockReduce(tensor) { base, range in scaledSquares(base, range) { Double($0) * scale } }.reduce(total, +)
    }
    return sumOfSquares.squareRoot() / scale
  } else {
    // Subnormal maximum, whose reciprocal overflows: divide instead.
    sumOfSquares = tensors.reduce(0) { total, tensor in
      blockReduce(tensor) { base, range in scaledSquares(base, range) { Double($0) / magnitude } }.reduce(total, +)
    }
    return sumOfSquares.squareRoot() * magnitude
  }
}

/// `body` applied to fixed blocks of the tensor's scalars, concurrently for
/// large tensors; one result per block, in order.
@inline(__always)
func blockReduce<Scalar: TensorScalar, Result: Numeric>(
  _ tensor: Tensor<Scalar>, _ body: (UnsafePointer<Scalar>, Range<Int>) -> Result
) -> [Result] {
  let count = tensor.scalarCount
  let block = Parallel.elementwiseGrain
  let blocks = (count + block - 1) / block
  var results = [Result](repeating: 0, count: blocks)
  withExtendedLifetime(tensor) {
    let base = UnsafePointer(tensor.storage.base)
    results.withUnsafeMutableBufferPointer { results in
      let out = results.baseAddress!
      Parallel.forEachRange(count: blocks, grain: 1) { blockRange in
        for index in blockRange {
          out[index] = body(base, (index * block)..<Swift.min(count, (index + 1) * block))
        }
      }
    }
  }
  return results
}

/// max |xᵢ| over `range`, NaN if any xᵢ is NaN.
@inline(__always)
func largestMagnitude<Scalar: TensorScalar>(_ x: UnsafePointer<Scalar>, _ range: Range<Int>) -> Scalar {
  var largest: Scalar = 0
  var sawNaN = false
  for i in range {
    let magnitude = abs(x[i])
    sawNaN = sawNaN || magnitude.isNaN
    largest = magnitude > largest ? magnitude : largest
  }
  return sawNaN ? .nan : largest
}

/// Σ scale(xᵢ)² over `range`, with four accumulators so the additions
/// overlap.
@inline(__always)
func scaledSquares<Scalar: TensorScalar>(
  _ x: UnsafePointer<Scalar>, _ range: Range<Int>, _ scale: (Scalar) -> Double
) -> Double {
  var sums: (Double, Double, Double, Double) = (0, 0, 0, 0)
  var i = range.lowerBound
  while i + 4 <= range.upperBound {
    let (a, b, c, d) = (scale(x[i]), scale(x[i + 1]), scale(x[i + 2]), scale(x[i + 3]))
    sums.0 += a * a
    sums.1 += b * b
    sums.2 += c * c
    sums.3 += d * d
    i += 4
  }
  while i < range.upperBound {
    let a = scale(x[i])
    sums.0 += a * a
    i += 1
  }
  return (sums.0 + sums.1) + (sums.2 + sums.3)
}
