import FlowTensor

/// A dense invertible linear map of the features, y = W·x per sample: the
/// flat-data form of Glow's invertible 1×1 convolution (Kingma & Dhariwal,
/// "Glow", 2018, §3.2), a learned generalisation of a permutation.
///
/// Inputs are `[batch, n]`; log|det J| = log|det W| for every sample, by
/// LAPACK's LU factorisation (``FlowTensor/slogdet(_:)``), which is
/// differentiable (its gradient is W⁻ᵀ).
///
/// The inverse solves W·x = y for the batch (``FlowTensor/solve(_:_:)``,
/// LU with partial pivoting) rather than multiplying by a computed W⁻¹:
/// it costs the same O(n³ + n²·batch) and is backward stable, so the round
/// trip stays accurate when W drifts away from orthogonal during training.
/// An exactly singular W cannot be inverted; that is a precondition
/// failure of ``inverse(_:)`` (its forward log-determinant is then −∞).
///
/// ``LUInvertibleLinear`` parametrises the same map so that the
/// log-determinant costs O(n) and W stays invertible by construction.
///
/// Parameters: `weight`, W, `[n, n]`.
public struct InvertibleLinear<Scalar: TensorScalar>: Bijector {
  /// W, `[n, n]`: output feature i is Σⱼ W[i, j]·x[j].
  public var weight: Tensor<Scalar>

  /// The number of features, n.
  public var size: Int { weight.shape[0] }

  /// The map y = W·x.
  /// - Parameters:
  ///   - weight: `[n, n]`, invertible for ``inverse(_:)`` to apply.
  public init(weight: Tensor<Scalar>) {
    checkSquareWeight(weight, operation: "InvertibleLinear(weight:)")
    self.weight = weight
  }

  /// A random orthogonal W (Haar-distributed, log|det W| = 0), as Glow
  /// initialises its 1×1 convolutions.
  /// - Parameters:
  ///   - size: n ≥ 0.
  /// - Complexity: O(n³).
  public init(size: Int, using generator: inout SeededGenerator) {
    weight = randomOrthogonalMatrix(size: size, using: &generator)
  }

  /// Maps each sample x to W·x.
  /// - Parameters:
  ///   - x: `[batch, n]`.
  /// - Returns: `[batch, n]`, and log|det W| for every sample (`[batch]`).
  /// - Complexity: O(n³) for the determinant plus O(batch·n²).
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    checkFeatures(x, operation: "InvertibleLinear.forward")
    let y = matmul(x, weight, transposingB: true)
    return (y, slogdet(weight).logAbsDeterminant.broadcast(to: [x.shape[0]]))
  }

  /// Maps each sample y to W⁻¹·y, by solving W·x = y.
  /// - Parameters:
  ///   - y: `[batch, n]`; W must be nonsingular.
  /// - Returns: `[batch, n]`, and −log|det W| for every sample (`[batch]`).
  /// - Complexity: O(n³ + batch·n²).
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    checkFeatures(y, operation: "InvertibleLinear.inverse")
    let logDeterminant = -slogdet(weight).logAbsDeterminant.broadcast(to: [y.shape[0]])
    guard y.scalarCount > 0 else { return (y, logDeterminant) }
    let x: Tensor<Scalar>
    do {
      // The samples are the columns of the right-hand side: W·Xᵀ = Yᵀ.
      x = try solve(weight, y.transposed()).transposed()
    } catch {
      preconditionFailure("InvertibleLinear.inverse: the weight \(weight.shape) is singular (\(error))")
    }
    return (x, logDeterminant)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("weight", &weight)
  }

  private func checkFeatures(_ x: Tensor<Scalar>, operation: String) {
    precondition(x.rank == 2 && x.shape[1] == size, "\(operation): input \(x.shape) is not [batch, \(size)]")
  }
}
