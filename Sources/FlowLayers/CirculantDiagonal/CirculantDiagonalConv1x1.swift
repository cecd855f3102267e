import FlowTensor

/// CDFlow's CD-convolution (Feng & Liao, "CDFlow", NeurIPS 2025, §2.2 and
/// App. B): the circulant-diagonal matrix W = D₁·C₁·D₂·…·C_{m−1}·D_m of
/// order `channels` applied to the channels of every pixel, as a 1×1
/// convolution; ``CirculantDiagonalLinear`` applied per pixel.
///
/// Inputs are `[batch, channels, height, width]`. log|det J| =
/// height·width·log|det W| per sample (Glow's convention for 1×1
/// convolutions, Kingma & Dhariwal 2018, Table 1; CDFlow does not state
/// it), with log|det W| in O(m·channels), independent of the input.
///
/// The images are laid out as `[batch·height·width, channels]` rows (CDFlow,
/// App. B) so that every FFT runs over contiguous channels.
///
/// Parameters: as ``CirculantDiagonalLinear``, of order `channels`.
public struct CirculantDiagonalConv1x1<Scalar: TensorScalar>: Bijector {
  /// The factors of W, of order `channels`.
  public var factors: CirculantDiagonalFactors<Scalar>

  /// The number of channels, the order of W.
  public var channels: Int { factors.size }

  /// The convolution with W the product of `factors`.
  public init(factors: CirculantDiagonalFactors<Scalar>) {
    self.factors = factors
  }

  /// The convolution with m diagonal and m − 1 circulant factors over the channels.
  /// - Parameters:
  ///   - channels: ≥ 1.
  ///   - diagonalCount: m ≥ 1; CDFlow uses 2.
  ///   - initialization: identity, or a random orthogonal W (|det W| = 1).
  ///   - generator: the source of the random signs and phases.
  /// - Complexity: O(m·channels).
  public init(
    channels: Int, diagonalCount: Int = 2, initialization: CirculantDiagonalInitialization = .random,
    using generator: inout SeededGenerator
  ) {
    factors = CirculantDiagonalFactors(
      size: channels, diagonalCount: diagonalCount, initialization: initialization, using: &generator)
  }

  /// Applies W to the channels of every pixel.
  /// - Parameters:
  ///   - x: `[batch, channels, height, width]`.
  /// - Returns: the images, shaped as `x`, and height·width·log|det W| for
  ///   every sample (`[batch]`).
  /// - Complexity: O(batch·height·width·m·channels·log channels).
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let pixels = imagePixelCount(x, channels: channels, operation: "CirculantDiagonalConv1x1.forward")
    let y = images(fromRows: factors.transformRows(rows(of: x)), shape: x.shape)
    return (y, (factors.logAbsoluteDeterminant() * Scalar(pixels)).broadcast(to: [x.shape[0]]))
  }

  /// Applies W⁻¹ to the channels of every pixel.
  /// - Parameters:
  ///   - y: `[batch, channels, height, width]`.
  /// - Returns: the images, shaped as `y`, and −height·width·log|det W|
  ///   for every sample (`[batch]`).
  /// - Complexity: O(batch·height·width·m·channels·log channels).
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let pixels = imagePixelCount(y, channels: channels, operation: "CirculantDiagonalConv1x1.inverse")
    let x = images(fromRows: factors.inverseTransformRows(rows(of: y)), shape: y.shape)
    return (x, (factors.logAbsoluteDeterminant() * Scalar(-pixels)).broadcast(to: [y.shape[0]]))
  }

  /// The log-determinant of the map on whole images,
  /// height·width·log|det W|, rank 0. The per-pixel log|det W| is
  /// ``CirculantDiagonalFactors/logAbsoluteDeterminant()`` of ``factors``.
  /// - Parameters:
  ///   - height: ≥ 0.
  ///   - width: ≥ 0.
  /// - Complexity: O(m·channels).
  public func logAbsoluteDeterminant(height: Int, width: Int) -> Tensor<Scalar> {
    precondition(
      height >= 0 && width >= 0,
      "CirculantDiagonalConv1x1.logAbsoluteDeterminant: height \(height) and width \(width) are not both ≥ 0")
    return factors.logAbsoluteDeterminant() * Scalar(height * width)
  }

  /// An upper bound on ‖W‖₂, rank 0, which is also the spectral norm of
  /// the map on whole images (W acts on each pixel separately); see
  /// ``CirculantDiagonalFactors/spectralNormBound()``.
  /// - Complexity: O(m·channels).
  public func spectralNormBound() -> Tensor<Scalar> {
    factors.spectralNormBound()
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    factors.visitParameters(with: visitor)
  }

  /// `[batch, channels, height, width]` → `[batch·height·width, channels]`.
  private func rows(of x: Tensor<Scalar>) -> Tensor<Scalar> {
    x.transposed(permutation: [0, 2, 3, 1]).reshaped(to: [x.shape[0] * x.shape[2] * x.shape[3], x.shape[1]])
  }

  /// The inverse of ``rows(of:)``, back to images of `shape`.
  private func images(fromRows rows: Tensor<Scalar>, shape: [Int]) -> Tensor<Scalar> {
    rows.reshaped(to: [shape[0], shape[2], shape[3], shape[1]]).transposed(permutation: [0, 3, 1, 2])
  }
}
