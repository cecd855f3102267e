import FlowTensor

/// CDFlow's invertible linear map of the features, y = W·x per sample, with
/// W = D₁·C₁·D₂·…·C_{m−1}·D_m a product of diagonal and circulant matrices
/// (Feng & Liao, "CDFlow", NeurIPS 2025, Eq. 10; see
/// ``CirculantDiagonalFactors`` for the parametrisation).
///
/// Inputs are `[batch, n]`. The forward and the inverse cost
/// O(m·n log n) per sample (an FFT pair per circulant, CDFlow §3.2);
/// log|det J| = log|det W| costs O(mn) and does not depend on the input
/// (§3.1). W is real and invertible for every parameter value.
///
/// Parameters: `diagonals.j.logMagnitude` (`[n]`, j = 0…m−1),
/// `circulants.j.logMagnitude` (`[n/2 + 1]`) and `circulants.j.phase`
/// (`[(n − 1)/2]`, j = 0…m−2). The signs are fixed at initialisation and
/// not held by a checkpoint.
public struct CirculantDiagonalLinear<Scalar: TensorScalar>: Bijector {
  /// The factors of W.
  public var factors: CirculantDiagonalFactors<Scalar>

  /// The number of features, n.
  public var size: Int { factors.size }

  /// The map y = W·x with W the product of `factors`.
  public init(factors: CirculantDiagonalFactors<Scalar>) {
    self.factors = factors
  }

  /// The map with m diagonal and m − 1 circulant factors of order n.
  /// - Parameters:
  ///   - size: n ≥ 1.
  ///   - diagonalCount: m ≥ 1; CDFlow uses 2.
  ///   - initialization: identity, or a random orthogonal W (|det W| = 1).
  ///   - generator: the source of the random signs and phases.
  /// - Complexity: O(mn).
  public init(
    size: Int, diagonalCount: Int = 2, initialization: CirculantDiagonalInitialization = .random,
    using generator: inout SeededGenerator
  ) {
    factors = CirculantDiagonalFactors(
      size: size, diagonalCount: diagonalCount, initialization: initialization, using: &generator)
  }

  /// Maps each sample x to W·x.
  /// - Parameters:
  ///   - x: `[batch, n]`.
  /// - Returns: `[batch, n]`, and log|det W| for every sample (`[batch]`).
  /// - Complexity: O(batch·m·n log n) plus O(mn) for the determinant.
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    checkFeatures(x, operation: "CirculantDiagonalLinear.forward")
    return (factors.transformRows(x), factors.logAbsoluteDeterminant().broadcast(to: [x.shape[0]]))
  }

  /// Maps each sample y to W⁻¹·y.
  /// - Parameters:
  ///   - y: `[batch, n]`.
  /// - Returns: `[batch, n]`, and −log|det W| for every sample (`[batch]`).
  /// - Complexity: O(batch·m·n log n) plus O(mn) for the determinant.
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    checkFeatures(y, operation: "CirculantDiagonalLinear.inverse")
    return (factors.inverseTransformRows(y), (-factors.logAbsoluteDeterminant()).broadcast(to: [y.shape[0]]))
  }

  /// log|det W|, rank 0; see ``CirculantDiagonalFactors/logAbsoluteDeterminant()``.
  /// - Complexity: O(mn).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func logAbsoluteDeterminant() -> Tensor<Scalar> {
    factors.logAbsoluteDeterminant()
  }

  /// An upper bound on ‖W‖₂, rank 0; see ``CirculantDiagonalFactors/spectralNormBound()``.
  /// - Complexity: O(mn).
  public func spectralNormBound() -> Tensor<Scalar> {
    factors.spectralNormBound()
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    factors.visitParameters(with: visitor)
  }

  private func checkFeatures(_ x: Tensor<Scalar>, operation: String) {
    precondition(x.rank == 2 && x.shape[1] == size, "\(operation): input \(x.shape) is not [batch, \(size)]")
  }
}
