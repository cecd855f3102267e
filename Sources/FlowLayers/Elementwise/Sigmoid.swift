import FlowTensor

/// The logistic sigmoid y = σ(x) = 1/(1 + e⁻ˣ), elementwise over events of
/// any shape: the inverse direction of ``Logit`` with α = 0, mapping the
/// real line onto (0, 1) (a flow's last layer toward bounded data).
///
/// log|dy/dx| = log σ(x) + log σ(−x), from ``logSigmoid(_:)`` so that it
/// stays finite (≈ −|x|) where σ(x)·(1 − σ(x)) underflows. The inverse is
/// the logit x = log y − log(1 − y), with log(1 − y) as `log1p(−y)`;
/// its log-derivative is −log y − log(1 − y).
public struct Sigmoid<Scalar: TensorScalar>: Bijector {
  public init() {}

  /// - Parameters:
  ///   - x: `[batch, event...]`, any real values. In `Double`, |x| beyond
  ///     about 36 rounds σ(x) to 1, which the inverse cannot undo.
  /// - Returns: σ(x) of `x`'s shape and log|det ∂y/∂x| (`[batch]`).
  /// - Complexity: O(n).
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    (sigmoid(x), elementwiseEventSum(logSigmoid(x) + logSigmoid(-x)))
  }

  /// - Parameters:
  ///   - y: `[batch, event...]`, values in (0, 1).
  /// - Returns: logit(y) of `y`'s shape and log|det ∂x/∂y| (`[batch]`).
  /// - Complexity: O(n).
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let logY = log(y)
    let logComplement = log1p(-y)
    return (logY - logComplement, elementwiseEventSum(-(logY + logComplement)))
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {}
}
