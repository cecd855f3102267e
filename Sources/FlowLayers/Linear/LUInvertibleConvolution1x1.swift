import FlowTensor

/// Glow's invertible 1×1 convolution with its weight in the LU
/// parametrisation (Kingma & Dhariwal, "Glow", 2018, §3.2, eq. 10):
/// W = P·L·(U + diag(sign·exp(logScale))) applied to the channels of every
/// pixel; ``LUInvertibleLinear`` applied per pixel.
///
/// Inputs are `[batch, channels, height, width]`. log|det J| =
/// height·width·Σ logScale per sample, O(channels) instead of O(channels³).
/// The forward map is one ``FlowTensor/conv2d(_:filter:bias:strides:padding:)``
/// with the 1×1 kernel W; the inverse lays the pixels out as the columns
/// of a `[channels, batch·height·width]` matrix and applies two triangular
/// solves and the transposed permutation to them, without forming W⁻¹.
///
/// Parameters: `lower` (`[c, c]`, only its strictly lower triangle used),
/// `upper` (`[c, c]`, only its strictly upper triangle used) and `logScale`
/// (`[c]`). P and `sign` are fixed at initialisation.
///
/// P and `sign` are not parameters, so a checkpoint does not hold them:
/// rebuild the layer as it was made (the same seed or weight), or with
/// ``init(permutation:sign:lower:upper:logScale:)``, before loading one.
public struct LUInvertibleConvolution1x1<Scalar: TensorScalar>: Bijector {
  /// L's entries below the diagonal, `[channels, channels]`; the rest is ignored.
  public var lower: Tensor<Scalar>
  /// U's entries above the diagonal, `[channels, channels]`; the rest is ignored.
  public var upper: Tensor<Scalar>
  /// log|diagonal| of the upper factor, `[channels]`.
  public var logScale: Tensor<Scalar>
  let parametrization: LUParametrization<Scalar>

  /// P, `[channels, channels]`: the fixed permutation matrix.
  public var permutation: Tensor<Scalar> { parametrization.permutation }
  /// The fixed signs (±1) of the upper factor's diagonal, `[channels]`.
  public var sign: Tensor<Scalar> { parametrization.sign }
  /// The number of channels.
  public var channels: Int { logScale.shape[0] }

  /// The parametrisation of `weight`, from its LU factorisation with
  /// partial pivoting: ``weight`` then equals `weight` up to rounding.
  /// - Parameters:
  ///   - weight: `[channels, channels]`.
  /// - Throws: ``FlowTensor/LinearAlgebraError/singular(pivot:matrix:)``
  ///   when `weight` is exactly singular.
  /// - Complexity: O(channels³).
  public init(weight: Tensor<Scalar>) throws {
    (parametrization, lower, upper, logScale) = try LUParametrization.factoring(
      weight, operation: "LUInvertibleConvolution1x1(weight:)")
  }

  /// The layer with all its parts given.
  /// - Parameters:
  ///   - permutation: P, `[channels, channels]`, a permutation matrix.
  ///   - sign: `[channels]`, each entry −1 or +1.
  ///   - lower: `[channels, channels]`; only its strictly lower triangle is used.
  ///   - upper: `[channels, channels]`; only its strictly upper triangle is used.
  ///   - logScale: `[channels]`.
  public init(
    permutation: Tensor<Scalar>, sign: Tensor<Scalar>, lower: Tensor<Scalar>, upper: Tensor<Scalar>,
    logScale: Tensor<Scalar>
  ) {
    parametrization = LUParametrization(
      permutation: permutation, sign: sign, operation: "LUInvertibleConvolution1x1(permutation:sign:lower:upper:logScale:)")
    let n = sign.shape[0]
    precondition(
      lower.shape == [n, n] && upper.shape == [n, n] && logScale.shape == [n],
      "LUInvertibleConvolution1x1(permutation:sign:lower:upper:logScale:): lower \(lower.shape), upper \(upper.shape) "
        + "and logScale \(logScale.shape) are not [\(n), \(n)], [\(n), \(n)] and [\(n)]")
    (self.lower, self.upper, self.logScale) = (lower, upper, logScale)
  }

  /// The parametrisation of a random orthogonal matrix (Haar-distributed),
  /// Glow's initialisation.
  /// - Parameters:
  ///   - channels: ≥ 0.
  /// - Complexity: O(channels³).
  public init(channels: Int, using generator: inout SeededGenerator) {
    // An orthogonal matrix has |det| = 1 and condition number 1: partial
    // pivoting cannot meet an exactly zero pivot.
    try! self.init(weight: randomOrthogonalMatrix(size: channels, using: &generator))
  }

  /// W = P·L·(U + diag(sign·exp(logScale))), `[channels, channels]`;
  /// differentiable in the parameters.
  /// - Complexity: O(channels³).
  public var weight: Tensor<Scalar> {
    parametrization.weight(lower: lower, upper: upper, logScale: logScale)
  }

  /// Applies W to the channels of every pixel.
  /// - Parameters:
  ///   - x: `[batch, channels, height, width]`.
  /// - Returns: the images, shaped as `x`, and height·width·Σ logScale for
  ///   every sample (`[batch]`).
  /// - Complexity: O(channels³) to form W plus O(batch·height·width·channels²).
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let pixels = imagePixelCount(x, channels: channels, operation: "LUInvertibleConvolution1x1.forward")
    let y = conv2d(x, filter: weight.reshaped(to: [channels, channels, 1, 1]))
    return (y, (logScale.sum() * Scalar(pixels)).broadcast(to: [x.shape[0]]))
  }

  /// Applies W⁻¹ to the channels of every pixel, by two triangular solves.
  /// - Parameters:
  ///   - y: `[batch, channels, height, width]`.
  /// - Returns: the images, shaped as `y`, and −height·width·Σ logScale for
  ///   every sample (`[batch]`).
  /// - Complexity: O(batch·height·width·channels²), plus two transposing copies.
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let pixels = imagePixelCount(y, channels: channels, operation: "LUInvertibleConvolution1x1.inverse")
    let columns = parametrization.solve(
      pixelColumns(y), lower: lower, upper: upper, logScale: logScale,
      operation: "LUInvertibleConvolution1x1.inverse")
    return (images(fromPixelColumns: columns, shape: y.shape), (logScale.sum() * Scalar(-pixels)).broadcast(to: [y.shape[0]]))
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("lower", &lower)
    visitor.visit("upper", &upper)
    visitor.visit("logScale", &logScale)
  }
}
