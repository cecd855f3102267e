import FlowTensor

/// log det of the Gram matrices JᵀJ of a rectangular flow, by Cholesky.
public enum GramLogDeterminant {
  /// The jitter of the first retry, as in the reference code of Caterini et
  /// al. 2021 (`_get_full_jac_transpose_jac` then `cholesky` with retries).
  public static let initialJitter = 1e-6
  /// The factor the jitter grows by on each retry.
  public static let jitterGrowth = 10.0
  /// Retries before giving up: the last adds 1e-6·10⁹ = 1000 to the
  /// diagonal, which only a non-finite matrix survives.
  public static let maximumRetries = 10

  /// log det A = 2·Σ log diag L for A = L·Lᵀ, differentiable (reverse mode
  /// through ``FlowTensor/choleskyFactorization(_:)``).
  ///
  /// A first factorisation runs on A itself; if it fails (A only positive
  /// semi-definite in floating point), ε·I is added to every matrix of the
  /// batch, ε = 1e-6, then 1e-5, 1e-4, …, until it succeeds.
  /// - Parameters:
  ///   - gram: `[batch, d, d]`, symmetric positive (semi-)definite.
  /// - Returns: log det per matrix, `[batch]`, and the jitter ε used (0 when none).
  /// - Throws: ``RectangularFlowError/nonFiniteGramMatrix(sample:)`` for a
  ///   matrix holding NaN or ±∞ (LAPACK implementations differ on whether
  ///   they notice), else the last ``LinearAlgebraError`` when every retry failed.
  /// - Complexity: O(batch·d³) per attempt.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func cholesky<Scalar: TensorScalar>(
    _ gram: Tensor<Scalar>
  ) throws -> (logDeterminant: Tensor<Scalar>, jitter: Double) {
    precondition(
      gram.rank == 3 && gram.shape[1] == gram.shape[2],
      "GramLogDeterminant.cholesky: \(gram.shape) is not [batch, d, d]")
    let d = gram.shape[1]
    if let offset = gram.scalars.firstIndex(where: { !$0.isFinite }) {
      throw RectangularFlowError.nonFiniteGramMatrix(sample: offset / max(1, d * d))
    }
    var jitter = 0.0
    var attempt = 0
    while true {
      let matrix = jitter == 0 ? gram : gram + Tensor<Scalar>.identity(size: d) * Scalar(jitter)
      do {
        let factor = try choleskyFactorization(matrix)
        let diagonal = (factor * Tensor<Scalar>.identity(size: d)).sum(alongAxes: [2])
        return (log(diagonal).sum(alongAxes: [1]) * Scalar(2), jitter)
      } catch {
        guard attempt < maximumRetries else { throw error }
        attempt += 1
        jitter = jitter == 0 ? initialJitter : jitter * jitterGrowth
      }
    }
  }
}
