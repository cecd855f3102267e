import RealModule

/// Reductions over any set of axes: sum, mean, variance, max, min,
/// log-sum-exp, and argmax/argmin along one axis.
///
/// Axes may be negative (-1 is the last) and come in any order; repeating
/// one is a precondition failure. An empty axis list reduces nothing, as
/// NumPy's `axis=()`. With `keepingDimensions` the reduced axes stay as size
/// 1, so the result broadcasts against the input. Sums are pairwise in the
/// scalar type (see ``ReductionKernel``) and split across cores.
///
/// Every reduction but argmax/argmin is differentiable in both modes (rules
/// in `Tensor+Reduction+Derivatives.swift`); the forms without axes reduce
/// over all axes through the axis forms.
extension Tensor {
  // MARK: Sum and mean

  /// The sum of every scalar, as a rank-0 tensor (0 when empty).
  /// - Complexity: O(n).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func sum() -> Tensor {
    sum(alongAxes: Array(shape.indices))
  }

  /// Sums over `axes`.
  ///
  /// A sum over an empty axis is 0.
  /// - Parameters:
  ///   - axes: distinct axes in `-rank..<rank`.
  ///   - keepingDimensions: keep the reduced axes as size 1.
  /// - Returns: `x`'s shape without the reduced axes, or with them as 1.
  /// - Complexity: O(n), pairwise (error O(ε log n)).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
    let plan = ReductionPlan(shape, axes: axes, keepingDimensions: keepingDimensions, operation: "sum")
    let value = sumValue(plan)
    guard autodiff != nil else { return value }
    let inputShape = shape
    let keptShape = plan.keptShape
    return value.derived(
      from: self, operation: "sum(alongAxes: \(axes))",
      pullback: { $0.reshaped(to: keptShape).broadcast(to: inputShape) },
      tangent: { input, _, tangent in
        tangent.sum(alongAxes: plan.tangentAxes(tangent, primal: input), keepingDimensions: keepingDimensions)
      })
  }

  /// The value of `sum(alongAxes:keepingDimensions:)`, without derivatives.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func sumValue(_ plan: ReductionPlan) -> Tensor {
    let result = Tensor(uninitializedShape: plan.resultShape)
    guard result.scalarCount > 0 else { return result }
    let out = result.storage.base
    guard plan.reducedCount > 0 else {
      out.update(repeating: 0, count: result.scalarCount)
      return result
    }
    sumOfReducedScalars(plan, into: out)
    return result
  }

  /// `out[k]` = the pairwise sum of the scalars output k reduces.
  ///
  /// Reducing the outer and inner axes around kept middle ones (a
  /// bias's or ActNorm's sums over axes [0, 2, 3] of `[batch, channels,
  /// height, width]`) sums each contiguous inner row where it lies and then
  /// each output's row sums, both pairwise, instead of gathering the whole
  /// tensor into `[kept…, reduced…]` order first (a copy that cost as much
  /// as the sum).
  @inline(__always)
  func sumOfReducedScalars(_ plan: ReductionPlan, into out: UnsafeMutablePointer<Scalar>) {
    if let (outer, kept, inner) = ReductionLayout.reducedAround(shape: shape, reducedAxes: plan.axes) {
      ReductionKernel.sumAround(storage.base, outer: outer, kept: kept, inner: inner, into: out)
      withExtendedLifetime(self) {}
      return
    }
    withReductionSource(reducing: plan.axes) { source, layout in
      ReductionKernel.sum(source, layout: layout, into: out, term: PlainTerm())
    }
  }

  /// The mean of every scalar, as a rank-0 tensor (NaN when empty).
  /// - Complexity: O(n).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func mean() -> Tensor {
    mean(alongAxes: Array(shape.indices))
  }

  /// Means over `axes`: the pairwise sum divided by the number of scalars
  /// reduced. A mean over an empty axis is NaN, as NumPy's.
  /// - Parameters:
  ///   - axes: distinct axes in `-rank..<rank`.
  ///   - keepingDimensions: keep the reduced axes as size 1.
  /// - Returns: `x`'s shape without the reduced axes, or with them as 1.
  /// - Complexity: O(n).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
    let plan = ReductionPlan(shape, axes: axes, keepingDimensions: keepingDimensions, operation: "mean")
    let value = meanValue(plan)
    guard autodiff != nil else { return value }
    let (inputShape, keptShape, count) = (shape, plan.keptShape, Scalar(plan.reducedCount))
    return value.derived(
      from: self, operation: "mean(alongAxes: \(axes))",
      pullback: { ($0.reshaped(to: keptShape) / count).broadcast(to: inputShape) },
      tangent: { input, _, tangent in
        tangent.mean(alongAxes: plan.tangentAxes(tangent, primal: input), keepingDimensions: keepingDimensions)
      })
  }

  /// The value of `mean(alongAxes:keepingDimensions:)`, without derivatives.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func meanValue(_ plan: ReductionPlan) -> Tensor {
    let result = Tensor(uninitializedShape: plan.resultShape)
    guard result.scalarCount > 0 else { return result }
    let out = result.storage.base
    guard plan.reducedCount > 0 else {
      out.update(repeating: .nan, count: result.scalarCount)
      return result
    }
    let count = Scalar(plan.reducedCount)
    sumOfReducedScalars(plan, into: out)
    for index in 0..<result.scalarCount { out[index] /= count }
    return result
  }

  // MARK: Variance

  /// The variance of every scalar, as a rank-0 tensor.
  /// - Parameters:
  ///   - correction: subtracted from the count in the divisor, as torch's:
  ///     0 is the population variance, 1 the unbiased sample variance; ≥ 0.
  /// - Complexity: O(n), two passes.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func variance(correction: Int = 0) -> Tensor {
    variance(alongAxes: Array(shape.indices), correction: correction)
  }

  /// Variances over `axes`: `Σ (x − mean)² / (n − correction)`.
  ///
  /// Two passes, the mean first, then the pairwise sum of squared
  /// deviations; the one-pass `E[x²] − E[x]²` loses every digit when the
  /// mean is large beside the spread (Chan, Golub & LeVeque, "Algorithms for
  /// computing the sample variance", 1983). Over an empty axis, or when
  /// `n ≤ correction`, the divisor is 0 and the result NaN or infinity, as
  /// NumPy's `ddof`.
  /// - Parameters:
  ///   - axes: distinct axes in `-rank..<rank`.
  ///   - keepingDimensions: keep the reduced axes as size 1.
  ///   - correction: subtracted from the count in the divisor; ≥ 0.
  /// - Returns: `x`'s shape without the reduced axes, or with them as 1.
  /// - Complexity: O(n), two passes.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func variance(alongAxes axes: [Int], keepingDimensions: Bool = false, correction: Int = 0) -> Tensor {
    precondition(correction >= 0, "variance: correction \(correction) is negative")
    let plan = ReductionPlan(shape, axes: axes, keepingDimensions: keepingDimensions, operation: "variance")
    let value = varianceValue(plan, correction: correction)
    guard autodiff != nil else { return value }
    return value.derived(
      from: self, operation: "variance(alongAxes: \(axes), correction: \(correction))",
      pullback: variancePullback(plan, correction: correction, input: detached),
      tangent: { input, _, tangent in
        varianceTangent(plan, correction: correction, input: input, tangent: tangent)
      })
  }

  /// The value of `variance(alongAxes:keepingDimensions:correction:)`, without derivatives.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func varianceValue(_ plan: ReductionPlan, correction: Int) -> Tensor {
    let result = Tensor(uninitializedShape: plan.resultShape)
    guard result.scalarCount > 0 else { return result }
    let out = result.storage.base
    guard plan.reducedCount > 0 else {
      out.update(repeating: .nan, count: result.scalarCount)
      return result
    }
    let count = Scalar(plan.reducedCount)
    let divisor = Scalar(Swift.max(0, plan.reducedCount - correction))
    let means = Tensor(uninitializedShape: [result.scalarCount])
    let mean = means.storage.base
    withReductionSource(reducing: plan.axes) { source, layout in
      ReductionKernel.sum(source, layout: layout, into: mean, term: PlainTerm())
      for index in 0..<result.scalarCount { mean[index] /= count }
      ReductionKernel.sum(source, layout: layout, into: out, term: SquaredDeviationTerm(mean: mean))
    }
    withExtendedLifetime(means) {}
    for index in 0..<result.scalarCount { out[index] /= divisor }
    return result
  }

  // MARK: Extrema

  /// The largest scalar, as a rank-0 tensor; NaN if any is NaN.
  /// - Precondition: the tensor holds at least one scalar.
  /// - Complexity: O(n).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func max() -> Tensor {
    max(alongAxes: Array(shape.indices))
  }

  /// Maxima over `axes`; NaN wherever a reduced scalar is NaN, as NumPy's
  /// `max`.
  ///
  /// Differentiable: each output's gradient goes to the positions holding
  /// the maximum, split evenly among ties (torch's `amax`): `[1, 3, 3]`
  /// sends `[0, ½, ½]` back, whereas `argmax` names only the first.
  /// - Parameters:
  ///   - axes: distinct axes in `-rank..<rank`; their product is nonzero
  ///     unless the result is empty (NumPy raises there too).
  ///   - keepingDimensions: keep the reduced axes as size 1.
  /// - Returns: `x`'s shape without the reduced axes, or with them as 1.
  /// - Complexity: O(n).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func max(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
    extremum(alongAxes: axes, keepingDimensions: keepingDimensions, operation: "max", isBetter: isGreaterPropagatingNaN)
  }

  /// The smallest scalar, as a rank-0 tensor; NaN if any is NaN.
  /// - Precondition: the tensor holds at least one scalar.
  /// - Complexity: O(n).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func min() -> Tensor {
    min(alongAxes: Array(shape.indices))
  }

  /// Minima over `axes`; NaN wherever a reduced scalar is NaN, as NumPy's
  /// `min`.
  ///
  /// Differentiable: each output's gradient goes to the positions holding
  /// the minimum, split evenly among ties (torch's `amin`).
  /// - Parameters:
  ///   - axes: distinct axes in `-rank..<rank`; their product is nonzero
  ///     unless the result is empty.
  ///   - keepingDimensions: keep the reduced axes as size 1.
  /// - Returns: `x`'s shape without the reduced axes, or with them as 1.
  /// - Complexity: O(n).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func min(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
    extremum(alongAxes: axes, keepingDimensions: keepingDimensions, operation: "min", isBetter: isLessPropagatingNaN)
  }

  @inline(__always)
  func extremum(
    alongAxes axes: [Int], keepingDimensions: Bool, operation: String, isBetter: (Scalar, Scalar) -> Bool
  ) -> Tensor {
    let plan = ReductionPlan(shape, axes: axes, keepingDimensions: keepingDimensions, operation: operation)
    let value = extremumValue(plan, isBetter: isBetter)
    guard autodiff != nil else { return value }
    return value.derived(
      from: self, operation: "\(operation)(alongAxes: \(axes))",
      pullback: extremumPullback(plan, input: detached, output: value),
      tangent: { input, output, tangent in
        extremumTangent(plan, input: input, output: output, tangent: tangent)
      })
  }

  /// The value of `max` or `min` over the axes of `plan`, without derivatives.
  @inline(__always)
  func extremumValue(_ plan: ReductionPlan, isBetter: (Scalar, Scalar) -> Bool) -> Tensor {
    let result = Tensor(uninitializedShape: plan.resultShape)
    guard result.scalarCount > 0 else { return result }
    plan.requireNonempty()
    let out = result.storage.base
    withReductionSource(reducing: plan.axes) { source, layout in
      ReductionKernel.extremum(source, layout: layout, into: out, isBetter: isBetter)
    }
    return result
  }

  // MARK: Log-sum-exp

  /// `log Σ exp(x)` over every scalar, as a rank-0 tensor.
  /// - Complexity: O(n), two passes.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func logSumExp() -> Tensor {
    logSumExp(alongAxes: Array(shape.indices))
  }

  /// `log Σ exp(x)` over `axes`, without overflow: `m + log Σ exp(x − m)`
  /// with `m` the maximum, so every exponent is at most 0 and the largest
  /// term is 1.
  ///
  /// As SciPy's `logsumexp`: a slice that is all −∞, or empty, gives −∞;
  /// one holding +∞ gives +∞; one holding NaN gives NaN.
  /// - Parameters:
  ///   - axes: distinct axes in `-rank..<rank`.
  ///   - keepingDimensions: keep the reduced axes as size 1.
  /// - Returns: `x`'s shape without the reduced axes, or with them as 1.
  /// - Complexity: O(n), two passes and one `exp` per scalar.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func logSumExp(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
    let plan = ReductionPlan(shape, axes: axes, keepingDimensions: keepingDimensions, operation: "logSumExp")
    let value = logSumExpValue(plan)
    guard autodiff != nil else { return value }
    return value.derived(
      from: self, operation: "logSumExp(alongAxes: \(axes))",
      pullback: logSumExpPullback(plan, input: detached, output: value),
      tangent: { input, output, tangent in
        logSumExpTangent(plan, input: input, output: output, tangent: tangent)
      })
  }

  /// The value of `logSumExp(alongAxes:keepingDimensions:)`, without derivatives.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func logSumExpValue(_ plan: ReductionPlan) -> Tensor {
    let result = Tensor(uninitializedShape: plan.resultShape)
    guard result.scalarCount > 0 else { return result }
    let out = result.storage.base
    guard plan.reducedCount > 0 else {
      out.update(repeating: -.infinity, count: result.scalarCount)
      return result
    }
    let maxima = Tensor(uninitializedShape: [result.scalarCount])
    let maximum = maxima.storage.base
    withReductionSource(reducing: plan.axes) { source, layout in
      ReductionKernel.extremum(source, layout: layout, into: maximum, isBetter: isGreaterPropagatingNaN)
      // A non-finite maximum is the answer itself; shift by 0 there so the
      // sum below stays free of ∞ − ∞.
      for index in 0..<result.scalarCount where !maximum[index].isFinite { out[index] = 0 }
      for index in 0..<result.scalarCount where maximum[index].isFinite { out[index] = maximum[index] }
      let shift = UnsafePointer(out)
      // The sum goes into `maximum`, whose values `shift` now holds.
      ReductionKernel.sum(source, layout: layout, into: maximum, term: ShiftedExponentialTerm(shift: shift))
    }
    for index in 0..<result.scalarCount {
      // `out` holds the shift, `maximum` the sum. A finite maximum makes
      // the sum finite and at least 1; −∞ makes it 0, +∞ makes it +∞ and
      // NaN makes it NaN.
      let sum = maximum[index]
      let shift = out[index]
      out[index] = sum == 0 ? -.infinity : (sum.isFinite ? shift + Scalar.log(sum) : sum)
    }
    withExtendedLifetime(maxima) {}
    return result
  }

  // MARK: Argmax and argmin

  /// The position of the largest scalar along `axis`: the first one on
  /// ties, the first NaN if any (NumPy's rule).
  /// - Parameters:
  ///   - axis: in `-rank..<rank`; its size is nonzero unless the result is
  ///     empty.
  ///   - keepingDimensions: keep `axis` as size 1.
  /// - Returns: indices in `0..<shape[axis]`, of `x`'s shape without `axis`
  ///   (or with it as 1).
  /// - Complexity: O(n).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func argmax(alongAxis axis: Int, keepingDimensions: Bool = false) -> IndexTensor {
    argExtremum(
      alongAxis: axis, keepingDimensions: keepingDimensions, operation: "argmax", isBetter: isGreaterPropagatingNaN)
  }

  /// The position of the smallest scalar along `axis`: the first one on
  /// ties, the first NaN if any (NumPy's rule).
  /// - Parameters:
  ///   - axis: in `-rank..<rank`; its size is nonzero unless the result is
  ///     empty.
  ///   - keepingDimensions: keep `axis` as size 1.
  /// - Returns: indices in `0..<shape[axis]`, of `x`'s shape without `axis`
  ///   (or with it as 1).
  /// - Complexity: O(n).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func argmin(alongAxis axis: Int, keepingDimensions: Bool = false) -> IndexTensor {
    argExtremum(
      alongAxis: axis, keepingDimensions: keepingDimensions, operation: "argmin", isBetter: isLessPropagatingNaN)
  }

  @inline(__always)
  func argExtremum(
    alongAxis axis: Int, keepingDimensions: Bool, operation: String, isBetter: (Scalar, Scalar) -> Bool
  ) -> IndexTensor {
    let plan = ReductionPlan(shape, axes: [axis], keepingDimensions: keepingDimensions, operation: operation)
    let count = plan.resultShape.reduce(1, *)
    guard count > 0 else { return IndexTensor(shape: plan.resultShape, indices: []) }
    plan.requireNonempty()
    let indices = [Int](unsafeUninitializedCapacity: count) { buffer, initialized in
      let out = buffer.baseAddress!
      withReductionSource(reducing: plan.axes) { source, layout in
        ReductionKernel.argExtremum(source, layout: layout, into: out, isBetter: isBetter)
      }
      initialized = count
    }
    return IndexTensor(shape: plan.resultShape, indices: indices)
  }
}

/// The shape bookkeeping of one reduction: its normalised axes, the result
/// shape and the number of scalars each output reduces.
@usableFromInline
struct ReductionPlan {
  @usableFromInline let operation: String
  @usableFromInline let shape: [Int]
  @usableFromInline let keepingDimensions: Bool
  /// Normalised, sorted, distinct.
  @usableFromInline let axes: [Int]
  @usableFromInline let resultShape: [Int]
  /// The product of the reduced axes' sizes.
  @usableFromInline let reducedCount: Int

  @usableFromInline
  init(_ shape: [Int], axes: [Int], keepingDimensions: Bool, operation: String) {
    self.operation = operation
    self.shape = shape
    self.keepingDimensions = keepingDimensions
    let normalized = Shape.normalizedAxes(
      axes, rank: shape.count, operation: "\(operation) over axes \(axes) of shape \(shape)")
    self.axes = normalized
    var resultShape: [Int] = []
    var reducedCount = 1
    for axis in shape.indices {
      if normalized.contains(axis) {
        reducedCount *= shape[axis]
        if keepingDimensions { resultShape.append(1) }
      } else {
        resultShape.append(shape[axis])
      }
    }
    self.resultShape = resultShape
    self.reducedCount = reducedCount
  }

  /// Stops when a reduction without an identity (max, argmax) meets an
  /// empty slice.
  @usableFromInline
  func requireNonempty() {
    precondition(reducedCount > 0, ReductionPlan.emptyMessage(operation: operation, shape: shape, axes: axes))
  }

  /// The failure message for a reduction without identity over an empty slice.
  @usableFromInline
  static func emptyMessage(operation: String, shape: [Int], axes: [Int]) -> String {
    "\(operation): axes \(axes) of shape \(shape) hold no scalars, and \(operation) of nothing is undefined"
  }
}

/// Forwarders to the standard library's `max(_:_:)` and `min(_:_:)`.
///
/// Inside `extension Tensor`, an unqualified `max(a, b)` would otherwise
/// find the reductions ``Tensor/max()`` and ``Tensor/max(alongAxes:keepingDimensions:)``
/// first and fail to compile ("use of 'max' refers to instance method rather
/// than global function"), in every file of the module that extends
/// `Tensor`. These overloads, instance and static, keep such code as it was.
extension Tensor {
  @usableFromInline @inline(__always)
  static func max<Value: Comparable>(_ x: Value, _ y: Value) -> Value { Swift.max(x, y) }

  @usableFromInline @inline(__always)
  static func min<Value: Comparable>(_ x: Value, _ y: Value) -> Value { Swift.min(x, y) }

  @usableFromInline @inline(__always)
  func max<Value: Comparable>(_ x: Value, _ y: Value) -> Value { Swift.max(x, y) }

  @usableFromInline @inline(__always)
  func min<Value: Comparable>(_ x: Value, _ y: Value) -> Value { Swift.min(x, y) }
}
