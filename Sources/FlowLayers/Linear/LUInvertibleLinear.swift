import FlowTensor

/// An invertible linear map of the features, y = W·x per sample, with W
/// in Glow's LU parametrisation (Kingma & Dhariwal, "Glow", 2018, §3.2):
/// W = P·L·(U + diag(sign·exp(logScale))), P a fixed permutation, L unit
/// lower triangular, U strictly upper triangular, `sign` fixed ±1.
///
/// Inputs are `[batch, n]`. log|det J| = Σ logScale per sample: O(n)
/// instead of the O(n³) determinant of ``InvertibleLinear``, and W is
/// invertible for every parameter value. The inverse is two triangular
/// solves and the transposed permutation, O(n²) per sample.
///
/// Parameters: `lower` (`[n, n]`, only its strictly lower triangle used),
/// `upper` (`[n, n]`, only its strictly upper triangle used) and `logScale`
/// (`[n]`). P and `sign` are fixed at initialisation.
///
/// P and `sign` are not parameters, so a checkpoint does not hold them:
/// rebuild the layer as it was made (the same seed or weight), or with
/// ``init(permutation:sign:lower:upper:logScale:)``, before loading one.
public struct LUInvertibleLinear<Scalar: TensorScalar>: Bijector {
  /// L's entries below the diagonal, `[n, n]`; the rest is ignored.
  public var lower: Tensor<Scalar>
  /// U's entries above the diagonal, `[n, n]`; the rest is ignored.
  public var upper: Tensor<Scalar>
  /// log|diagonal| of the upper factor, `[n]`.
  public var logScale: Tensor<Scalar>
  let parametrization: LUParametrization<Scalar>

  /// P, `[n, n]`: the fixed permutation matrix.
  public var permutation: Tensor<Scalar> { parametrization.permutation }
  /// The fixed signs (±1) of the upper factor's diagonal, `[n]`.
  public var sign: Tensor<Scalar> { parametrization.sign }
  /// The number of features, n.
  public var size: Int { logScale.shape[0] }

  /// The parametrisation of `weight`, from its LU factorisation with
  /// partial pivoting: ``weight`` then equals `weight` up to rounding.
  /// - Parameters:
  ///   - weight: `[n, n]`.
  /// - Throws: ``FlowTensor/LinearAlgebraError/singular(pivot:matrix:)``
  ///   when `weight` is exactly singular.
  /// - Complexity: O(n³).
  public init(weight: Tensor<Scalar>) throws {
    (parametrization, lower, upper, logScale) = try LUParametrization.factoring(
      weight, operation: "LUInvertibleLinear(weight:)")
  }

  /// The layer with all its parts given.
  /// - Parameters:
  ///   - permutation: P, `[n, n]`, a permutation matrix.
  ///   - sign: `[n]`, each entry −1 or +1.
  ///   - lower: `[n, n]`; only its strictly lower triangle is used.
  ///   - upper: `[n, n]`; only its strictly upper triangle is used.
  ///   - logScale: `[n]`.
  public init(
    permutation: Tensor<Scalar>, sign: Tensor<Scalar>, lower: Tensor<Scalar>, upper: Tensor<Scalar>,
    logScale: Tensor<Scalar>
  ) {
    parametrization = LUParametrization(
      permutation: permutation, sign: sign, operation: "LUInvertibleLinear(permutation:sign:lower:upper:logScale:)")
    let n = sign.shape[0]
    precondition(
      lower.shape == [n, n] && upper.shape == [n, n] && logScale.shape == [n],
      "LUInvertibleLinear(permutation:sign:lower:upper:logScale:): lower \(lower.shape), upper \(upper.shape) "
        + "and logScale \(logScale.shape) are not [\(n), \(n)], [\(n), \(n)] and [\(n)]")
    (self.lower, self.upper, self.logScale) = (lower, upper, logScale)
  }

  /// The parametrisation of a random orthogonal matrix (Haar-distributed),
  /// as Glow initialises it.
  /// - Parameters:
  ///   - size: n ≥ 0.
  /// - Complexity: O(n³).
  public init(size: Int, using generator: inout SeededGenerator) {
    // An orthogonal matrix has |det| = 1 and condition number 1: partial
    // pivoting cannot meet an exactly zero pivot.
    try! self.init(weight: randomOrthogonalMatrix(size: size, using: &generator))
  }

  /// W = P·L·(U + diag(sign·exp(logScale))), `[n, n]`; differentiable in the parameters.
  /// - Complexity: O(n³).
  public var weight: Tensor<Scalar> {
    parametrization.weight(lower: lower, upper: upper, logScale: logScale)
  }

  /// Maps each sample x to W·x.
  /// - Parameters:
  ///   - x: `[batch, n]`.
  /// - Returns: `[batch, n]`, and Σ logScale for every sample (`[batch]`).
  /// - Complexity: O(n³) to form W plus O(batch·n²).
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    checkFeatures(x, operation: "LUInvertibleLinear.forward")
    return (matmul(x, weight, transposingB: true), logScale.sum().broadcast(to: [x.shape[0]]))
  }

  /// Maps each sample y to W⁻¹·y = U'⁻¹·L⁻¹·Pᵀ·y (U' the upper factor).
  /// - Parameters:
  ///   - y: `[batch, n]`.
  /// - Returns: `[batch, n]`, and −Σ logScale for every sample (`[batch]`).
  /// - Complexity: O(batch·n²).
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    checkFeatures(y, operation: "LUInvertibleLinear.inverse")
    let columns = parametrization.solve(
      y.transposed(), lower: lower, upper: upper, logScale: logScale, operation: "LUInvertibleLinear.inverse")
    return (columns.transposed(), (-logScale.sum()).broadcast(to: [y.shape[0]]))
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("lower", &lower)
    visitor.visit("upper", &upper)
    visitor.visit("logScale", &logScale)
  }

  private func checkFeatures(_ x: Tensor<Scalar>, operation: String) {
    precondition(x.rank == 2 && x.shape[1] == size, "\(operation): input \(x.shape) is not [batch, \(size)]")
  }
}
