import FlowTensor

/// Glow's invertible 1×1 convolution (Kingma & Dhariwal, "Glow", 2018,
/// §3.2): the same invertible `[c, c]` matrix W applied to the channels of
/// every pixel, y[:, h, w] = W·x[:, h, w]; ``InvertibleLinear`` applied per pixel.
///
/// Inputs are `[batch, channels, height, width]`; log|det J| =
/// height·width·log|det W| per sample (Glow, Table 1), with log|det W| from
/// LAPACK's LU factorisation (``FlowTensor/slogdet(_:)``).
///
/// Both directions are one ``FlowTensor/conv2d(_:filter:bias:strides:padding:)``
/// with a 1×1 kernel, which needs no im2col copy: the forward one with W,
/// the inverse one with W⁻¹ (``FlowTensor/inverse(_:)``, LU with partial
/// pivoting). Inverting the `[c, c]` matrix once, rather than solving for
/// the batch·height·width pixel columns, keeps the NCHW layout without
/// transposing the images; for the well-conditioned W that the orthogonal
/// initialisation starts from, the round trip is as accurate. An exactly
/// singular W cannot be inverted; that is a precondition failure of
/// ``inverse(_:)``.
///
/// ``LUInvertibleConvolution1x1`` is the LU-parametrised form.
///
/// Parameters: `weight`, W, `[channels, channels]`.
public struct InvertibleConvolution1x1<Scalar: TensorScalar>: Bijector {
  /// W, `[channels, channels]`: output channel i is Σⱼ W[i, j]·(input channel j).
  public var weight: Tensor<Scalar>

  /// The number of channels.
  public var channels: Int { weight.shape[0] }

  /// The convolution with `weight` as its 1×1 kernel.
  /// - Parameters:
  ///   - weight: `[channels, channels]`, invertible for ``inverse(_:)`` to apply.
  public init(weight: Tensor<Scalar>) {
    checkSquareWeight(weight, operation: "InvertibleConvolution1x1(weight:)")
    self.weight = weight
  }

  /// A random orthogonal W (Haar-distributed, log|det W| = 0), Glow's initialisation.
  /// - Parameters:
  ///   - channels: ≥ 0.
  /// - Complexity: O(channels³).
  public init(channels: Int, using generator: inout SeededGenerator) {
    weight = randomOrthogonalMatrix(size: channels, using: &generator)
  }

  /// Applies W to the channels of every pixel.
  /// - Parameters:
  ///   - x: `[batch, channels, height, width]`.
  /// - Returns: the images, shaped as `x`, and height·width·log|det W| for
  ///   every sample (`[batch]`).
  /// - Complexity: O(channels³) for the determinant plus
  ///   O(batch·height·width·channels²).
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let pixels = imagePixelCount(x, channels: channels, operation: "InvertibleConvolution1x1.forward")
    let y = conv2d(x, filter: weight.reshaped(to: [channels, channels, 1, 1]))
    return (y, (slogdet(weight).logAbsDeterminant * Scalar(pixels)).broadcast(to: [x.shape[0]]))
  }

  /// Applies W⁻¹ to the channels of every pixel.
  /// - Parameters:
  ///   - y: `[batch, channels, height, width]`; W must be nonsingular.
  /// - Returns: the images, shaped as `y`, and −height·width·log|det W| for
  ///   every sample (`[batch]`).
  /// - Complexity: O(channels³) for the inverse and the determinant plus
  ///   O(batch·height·width·channels²).
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let pixels = imagePixelCount(y, channels: channels, operation: "InvertibleConvolution1x1.inverse")
    let logDeterminant = (slogdet(weight).logAbsDeterminant * Scalar(-pixels)).broadcast(to: [y.shape[0]])
    guard y.scalarCount > 0 else { return (y, logDeterminant) }
    let inverseWeight: Tensor<Scalar>
    do {
      inverseWeight = try FlowTensor.inverse(weight)
    } catch {
      preconditionFailure("InvertibleConvolution1x1.inverse: the weight \(weight.shape) is singular (\(error))")
    }
    return (conv2d(y, filter: inverseWeight.reshaped(to: [channels, channels, 1, 1])), logDeterminant)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("weight", &weight)
  }
}
