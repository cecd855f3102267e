/// What ``conjugateGradientSolve(_:tolerance:maximumIterations:applying:)``
/// returns: the solutions and, row by row, how the solve ended.
public struct ConjugateGradientSolution<Scalar: TensorScalar> {
  /// The approximate solutions, `[rows, n]` (no autodiff state).
  public var solution: Tensor<Scalar>
  /// The iterations each row ran (0 for a zero right-hand side).
  public var iterations: [Int]
  /// ‖r‖ / ‖b‖ per row when it stopped, r the recursively updated residual
  /// (0 for a zero right-hand side, NaN where the residual stopped being finite).
  public var relativeResiduals: [Scalar]
  /// Whether each row reached the tolerance (or an exactly zero residual).
  public var converged: [Bool]

  /// The largest iteration count over the rows: the number of operator
  /// applications the batched solve cost.
  public var iterationCount: Int { iterations.max() ?? 0 }

  /// Whether every row reached the tolerance.
  public var allConverged: Bool { converged.allSatisfy { $0 } }
}

/// Solves A_i u_i = b_i for each row i of `b` by conjugate gradients
/// (Hestenes & Stiefel 1952; Nocedal & Wright, "Numerical Optimization",
/// 2nd ed., Algorithm 5.2), unpreconditioned, from u = 0.
///
/// Each row is its own system: `operator` maps a batch of vectors to the
/// batch of products A_i p_i, and A_i must be symmetric positive definite.
/// It runs without recording, so that the products it calls (Jacobian-vector
/// products, say) leave no graph, and its result carries no derivative.
///
/// A row stops when ‖r‖ ≤ `tolerance`·‖b‖, when its residual is exactly 0,
/// or when a step would divide by a curvature pᵀAp that is 0 or not finite
/// (an operator that is singular in floating point, or overflow in `Float`):
/// that row keeps its last iterate and reports `converged == false`, instead
/// of turning into 0/0. Stopped rows are masked, not recomputed: the
/// operator is still applied to the whole batch until every row stops.
/// - Parameters:
///   - b: the right-hand sides, `[rows, n]`.
///   - tolerance: the relative residual to reach, ≥ 0.
///   - maximumIterations: the cap on iterations, ≥ 0 (exact arithmetic
///     converges within n).
///   - apply: the operator, `[rows, n]` → `[rows, n]`, row i multiplied by A_i.
/// - Returns: the solutions with per-row iteration counts, relative
///   residuals and convergence flags.
/// - Complexity: at most `maximumIterations` operator applications plus
///   O(rows·n) per iteration.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func conjugateGradientSolve<Scalar: TensorScalar>(
  _ b: Tensor<Scalar>, tolerance: Double, maximumIterations: Int,
  applying apply: (Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> ConjugateGradientSolution<Scalar> {
  precondition(b.rank == 2, "conjugateGradientSolve: right-hand side \(b.shape) is not [rows, n]")
  precondition(tolerance >= 0, "conjugateGradientSolve: tolerance \(tolerance) is negative")
  precondition(maximumIterations >= 0, "conjugateGradientSolve: maximumIterations \(maximumIterations) is negative")
  return try withoutRecording {
    let rows = b.shape[0]
    let rightHandSide = b.detached
    var solution = Tensor<Scalar>.zeros(shape: b.shape)
    var residual = rightHandSide
    var direction = residual
    var residualSquares = rowSquaredNorms(residual)
    let rightHandSideNorms = residualSquares.map { Scalar.sqrt($0) }
    var iterations = [Int](repeating: 0, count: rows)
    var relativeResiduals = [Scalar](repeating: 0, count: rows)
    var converged = [Bool](repeating: false, count: rows)
    var active = [Bool](repeating: false, count: rows)
    for row in 0..<rows {
      let norm = rightHandSideNorms[row]
      if norm == 0 {
        converged[row] = true
      } else if !norm.isFinite {
        relativeResiduals[row] = .nan
      } else {
        relativeResiduals[row] = 1
        active[row] = 1 > tolerance
        converged[row] = !active[row]
      }
    }
    var step = 0
    while step < maximumIterations && active.contains(true) {
      step += 1
      let product = try apply(direction).detached
      precondition(
        product.shape == b.shape,
        "conjugateGradientSolve: the operator returned \(product.shape) for input \(b.shape)")
      let curvatures = rowDotProducts(direction, product)
      var stepSizes = [Scalar](repeating: 0, count: rows)
      var moving = [Scalar](repeating: 0, count: rows)
      for row in 0..<rows where active[row] {
        let curvature = curvatures[row]
        let stepSize = residualSquares[row] / curvature
        if curvature > 0 && curvature.isFinite && stepSize.isFinite {
          stepSizes[row] = stepSize
          moving[row] = 1
        } else {
          active[row] = false
        }
      }
      let movingMask = Tensor(shape: [rows, 1], scalars: moving)
      let stepColumn = Tensor(shape: [rows, 1], scalars: stepSizes)
      solution = select(where: movingMask, solution + stepColumn * direction, else: solution)
      residual = select(where: movingMask, residual - stepColumn * product, else: residual)
      let newSquares = rowSquaredNorms(residual)
      var ratios = [Scalar](repeating: 0, count: rows)
      for row in 0..<rows where moving[row] == 1 {
        iterations[row] += 1
        let squares = newSquares[row]
        relativeResiduals[row] = Scalar.sqrt(squares) / rightHandSideNorms[row]
        if !squares.isFinite {
          relativeResiduals[row] = .nan
          active[row] = false
        } else if squares == 0 || Double(relativeResiduals[row]) <= tolerance {
          converged[row] = true
          active[row] = false
        } else {
          ratios[row] = squares / residualSquares[row]
        }
        residualSquares[row] = squares
      }
      let ratioColumn = Tensor(shape: [rows, 1], scalars: ratios)
      let activeMask = Tensor(shape: [rows, 1], scalars: active.map { $0 ? Scalar(1) : 0 })
      direction = select(where: activeMask, residual + ratioColumn * direction, else: Tensor.zeros(shape: b.shape))
    }
    return ConjugateGradientSolution(
      solution: solution, iterations: iterations, relativeResiduals: relativeResiduals, converged: converged)
  }
}

/// Σ_j a_ij·b_ij per row of two `[rows, n]` tensors.
@inline(__always)
private func rowDotProducts<Scalar: TensorScalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> [Scalar] {
  (a * b).sum(alongAxes: [1]).scalars
}

/// ‖a_i‖² per row of a `[rows, n]` tensor.
@inline(__always)
private func rowSquaredNorms<Scalar: TensorScalar>(_ a: Tensor<Scalar>) -> [Scalar] {
  rowDotProducts(a, a)
}
