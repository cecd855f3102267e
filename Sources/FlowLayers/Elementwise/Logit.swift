import FlowTensor

/// RealNVP's preprocessing of data in (0, 1): y = logit(α + (1 − 2α)·x),
/// elementwise over events of any shape.
///
/// Dinh, Sohl-Dickstein & Bengio, "Density estimation using Real NVP"
/// (ICLR 2017), §4.1, model logit(α + (1 − α)·x) with α = 0.05; the
/// symmetric form α + (1 − 2α)·x used here maps (0, 1) onto (α, 1 − α), so
/// that x and 1 − x are treated alike (y(1 − x) = −y(x)), and keeps the
/// logit away from ±∞ at the edges of dequantised pixels.
///
/// The forward direction (data to base) is the logit. With p = α + (1 − 2α)x
/// and q = 1 − p = α + (1 − 2α)(1 − x), computed directly rather than as
/// 1 − p so that it keeps its relative precision near x = 1:
///
///   y = log p − log q,   log|dy/dx| = log(1 − 2α) − log p − log q.
///
/// The inverse is x = (σ(y) − α)/(1 − 2α), with log-derivative
/// log σ(y) + log σ(−y) − log(1 − 2α), from ``logSigmoid(_:)``, finite
/// for any finite y. The log-determinant is summed over the event.
public struct Logit<Scalar: TensorScalar>: Bijector {
  /// The margin kept from 0 and 1, in [0, ½).
  public let alpha: Scalar

  /// - Parameters:
  ///   - alpha: in [0, ½); 0 gives the plain logit, RealNVP uses 0.05
  ///     (CIFAR-10), MNIST models often 1e-6.
  public init(alpha: Scalar = 0.05) {
    precondition(alpha >= 0 && alpha < 0.5, "Logit(alpha: \(alpha)): alpha must lie in [0, 0.5)")
    self.alpha = alpha
  }

  /// log(1 − 2α), per element of the event.
  private var logSlope: Scalar { Scalar.log(onePlus: -2 * alpha) }

  /// - Parameters:
  ///   - x: `[batch, event...]`, values in (0, 1) (the ends are allowed
  ///     when α > 0).
  /// - Returns: y of `x`'s shape and log|det ∂y/∂x| (`[batch]`).
  /// - Complexity: O(n).
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let eventSize = elementwiseEventSize(x)
    let slope = 1 - 2 * alpha
    let logP = log(x * slope + alpha)
    let logQ = log((1 - x) * slope + alpha)
    let logDeterminant = elementwiseEventSum(-(logP + logQ)) + Scalar(eventSize) * logSlope
    return (logP - logQ, logDeterminant)
  }

  /// - Parameters:
  ///   - y: `[batch, event...]`, any real values.
  /// - Returns: x of `y`'s shape (in (0, 1) exactly when y lies between
  ///   logit α and logit(1 − α)) and log|det ∂x/∂y| (`[batch]`).
  /// - Complexity: O(n).
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let eventSize = elementwiseEventSize(y)
    let x = (sigmoid(y) - alpha) / (1 - 2 * alpha)
    let logDeterminant = elementwiseEventSum(logSigmoid(y) + logSigmoid(-y)) - Scalar(eventSize) * logSlope
    return (x, logDeterminant)
  }

  /// No parameters: α is a constant of the preprocessing.
  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {}
}
