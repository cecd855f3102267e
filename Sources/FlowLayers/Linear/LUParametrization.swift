import FlowTensor

/// Glow's LU parametrisation of an invertible matrix (Kingma & Dhariwal,
/// "Glow", 2018, §3.2, eq. 10): W = P·L·(U + diag(sign·exp(logScale))),
/// with P a fixed permutation matrix, L unit lower triangular, U strictly
/// upper triangular and `sign` a fixed vector of ±1, so that
/// log|det W| = Σ logScale.
///
/// The trainable `lower` and `upper` are full `[n, n]` tensors of which
/// only the strictly lower, respectively strictly upper, entries are used
/// (they are multiplied by fixed 0/1 masks), so any values of them, noise
/// included, give a valid factorisation; the masked entries get zero
/// gradient. Shared by ``LUInvertibleLinear`` and ``LUInvertibleConvolution1x1``.
struct LUParametrization<Scalar: TensorScalar> {
  /// P, `[n, n]`.
  let permutation: Tensor<Scalar>
  /// The signs of the diagonal of the upper factor, `[n]`, each ±1.
  let sign: Tensor<Scalar>
  /// 1 strictly below the diagonal, 0 elsewhere, `[n, n]`.
  let lowerMask: Tensor<Scalar>
  /// 1 strictly above the diagonal, 0 elsewhere, `[n, n]`.
  let upperMask: Tensor<Scalar>

  /// The fixed parts, from the permutation matrix and signs.
  init(permutation: Tensor<Scalar>, sign: Tensor<Scalar>, operation: String) {
    checkSquareWeight(permutation, operation: operation)
    let n = permutation.shape[0]
    precondition(sign.shape == [n], "\(operation): sign \(sign.shape) is not [\(n)] for permutation \(permutation.shape)")
    precondition(
      sign.scalars.allSatisfy { $0 == 1 || $0 == -1 }, "\(operation): sign \(sign.scalars) has entries other than ±1")
    let entries = permutation.scalars
    let isPermutationMatrix =
      entries.allSatisfy { $0 == 0 || $0 == 1 }
      && (0..<n).allSatisfy { row in (0..<n).filter { entries[row * n + $0] == 1 }.count == 1 }
      && (0..<n).allSatisfy { column in (0..<n).filter { entries[$0 * n + column] == 1 }.count == 1 }
    precondition(isPermutationMatrix, "\(operation): \(permutation) is not a permutation matrix")
    self.permutation = permutation
    self.sign = sign
    var lower = [Scalar](repeating: 0, count: n * n)
    var upper = lower
    for row in 0..<n {
      for column in 0..<n where row != column {
        if row > column { lower[row * n + column] = 1 } else { upper[row * n + column] = 1 }
      }
    }
    lowerMask = Tensor(shape: [n, n], scalars: lower)
    upperMask = Tensor(shape: [n, n], scalars: upper)
  }

  /// The factors of `weight` by LU with partial pivoting, weight = P·L·U:
  /// the fixed parts (P and the signs of U's diagonal) and the initial
  /// parameters (`lower` = L and `upper` = U with their diagonals zeroed,
  /// `logScale` = log|diag U|).
  /// - Throws: ``FlowTensor/LinearAlgebraError/singular(pivot:matrix:)`` when
  ///   `weight` is exactly singular.
  static func factoring(
    _ weight: Tensor<Scalar>, operation: String
  ) throws -> (parametrization: LUParametrization, lower: Tensor<Scalar>, upper: Tensor<Scalar>, logScale: Tensor<Scalar>) {
    checkSquareWeight(weight, operation: operation)
    let n = weight.shape[0]
    let factors = try luFactorization(stopGradient(weight))
    let upperFactor = factors.upper
    let diagonal = (0..<n).map { upperFactor[$0, $0] }
    let parametrization = LUParametrization(
      permutation: factors.permutation,
      sign: Tensor(shape: [n], scalars: diagonal.map { $0 < 0 ? -1 : 1 }),
      operation: operation)
    return (
      parametrization,
      factors.lower * parametrization.lowerMask,
      upperFactor * parametrization.upperMask,
      Tensor(shape: [n], scalars: diagonal.map { Scalar.log(abs($0)) })
    )
  }

  /// L = lower ⊙ mask + I, unit lower triangular.
  func lowerFactor(_ lower: Tensor<Scalar>) -> Tensor<Scalar> {
    lower * lowerMask + Tensor.identity(size: lowerMask.shape[0])
  }

  /// U + diag(sign·exp(logScale)), upper triangular with a nonzero diagonal.
  func upperFactor(_ upper: Tensor<Scalar>, logScale: Tensor<Scalar>) -> Tensor<Scalar> {
    // I·v scales column j of the identity by v[j]: diag(v), differentiably.
    upper * upperMask + Tensor.identity(size: upperMask.shape[0]) * (sign * exp(logScale))
  }

  /// W = P·L·(U + diag(sign·exp(logScale))), `[n, n]`; differentiable.
  /// - Complexity: O(n³).
  func weight(lower: Tensor<Scalar>, upper: Tensor<Scalar>, logScale: Tensor<Scalar>) -> Tensor<Scalar> {
    matmul(permutation, matmul(lowerFactor(lower), upperFactor(upper, logScale: logScale)))
  }

  /// W⁻¹·b = U'⁻¹·L⁻¹·Pᵀ·b by two triangular solves; differentiable.
  /// - Parameters:
  ///   - b: `[n, k]`, one right-hand side per column.
  ///   - operation: names the layer in the message of the precondition that
  ///     the diagonal sign·exp(logScale) has not underflowed to zero.
  /// - Complexity: O(n²·k).
  func solve(
    _ b: Tensor<Scalar>, lower: Tensor<Scalar>, upper: Tensor<Scalar>, logScale: Tensor<Scalar>, operation: String
  ) -> Tensor<Scalar> {
    guard b.scalarCount > 0 else { return b }
    let permuted = matmul(permutation, b, transposingA: true)
    // A unit-diagonal triangular solve reads no diagonal and never throws.
    let intermediate = try! triangularSolve(lowerFactor(lower), permuted, lower: true, unitDiagonal: true)
    do {
      return try triangularSolve(upperFactor(upper, logScale: logScale), intermediate, lower: false)
    } catch {
      preconditionFailure(
        "\(operation): the diagonal sign·exp(logScale) has an entry that is exactly 0 "
          + "(logScale too negative for \(Scalar.self)): \(error)")
    }
  }
}
