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
/// With ``CirculantDiagonalNormalization/spectral`` the layer applies
/// W/σ, σ = ``spectralNormBound()`` (CDFlow's spectral normalisation,
/// §4.1), and its log-determinant is height·width·(log|det W| − channels·log σ).
///
/// Parameters: as ``CirculantDiagonalLinear``, of order `channels`.
public struct CirculantDiagonalConv1x1<Scalar: TensorScalar>: Bijector {
  /// The factors of W, of order `channels`.
  public var factors: CirculantDiagonalFactors<Scalar>
  /// Whether W is applied as it is or divided by its spectral-norm bound.
  /// Not a parameter: fixed when the layer is made.
  public let normalization: CirculantDiagonalNormalization

  /// The number of channels, the order of W.
  public var channels: Int { factors.size }

  /// The convolution with W the product of `factors` (divided by its
  /// spectral-norm bound when `normalization` is ``CirculantDiagonalNormalization/spectral``).
  public init(factors: CirculantDiagonalFactors<Scalar>, normalization: CirculantDiagonalNormalization = .none) {
    self.factors = factors
    self.normalization = normalization
  }

  /// The convolution with m diagonal and m − 1 circulant factors over the channels.
  /// - Parameters:
  ///   - channels: ≥ 1.
  ///   - diagonalCount: m ≥ 1; CDFlow uses 2.
  ///   - initialization: identity, or a random orthogonal W (|det W| = 1).
  ///   - normalization: W as it is, or divided by its spectral-norm bound
  ///     (which is 1 at either initialisation, so both start as the same map).
  ///   - generator: the source of the random signs and phases.
  /// - Complexity: O(m·channels).
  public init(
    channels: Int, diagonalCount: Int = 2, initialization: CirculantDiagonalInitialization = .random,
    normalization: CirculantDiagonalNormalization = .none, using generator: inout SeededGenerator
  ) {
    factors = CirculantDiagonalFactors(
      size: channels, diagonalCount: diagonalCount, initialization: initialization, using: &generator)
    self.normalization = normalization
  }

  /// Applies W (or W/σ, see ``normalization``) to the channels of every pixel.
  /// - Parameters:
  ///   - x: `[batch, channels, height, width]`.
  /// - Returns: the images, shaped as `x`, and height·width·log|det W| for
  ///   every sample (`[batch]`).
  /// - Complexity: O(batch·height·width·m·channels·log channels).
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let pixels = imagePixelCount(x, channels: channels, operation: "CirculantDiagonalConv1x1.forward")
    var transformed = factors.transformRows(rows(of: x))
    if let logScale = normalizationLogScale() { transformed = transformed * exp(logScale) }
    let y = images(fromRows: transformed, shape: x.shape)
    return (y, (logAbsoluteDeterminantPerPixel() * Scalar(pixels)).broadcast(to: [x.shape[0]]))
  }

  /// Applies W⁻¹ (or σ·W⁻¹) to the channels of every pixel.
  /// - Parameters:
  ///   - y: `[batch, channels, height, width]`.
  /// - Returns: the images, shaped as `y`, and −height·width·log|det W|
  ///   for every sample (`[batch]`).
  /// - Complexity: O(batch·height·width·m·channels·log channels).
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let pixels = imagePixelCount(y, channels: channels, operation: "CirculantDiagonalConv1x1.inverse")
    var transformed = factors.inverseTransformRows(rows(of: y))
    if let logScale = normalizationLogScale() { transformed = transformed * exp(-logScale) }
    let x = images(fromRows: transformed, shape: y.shape)
    return (x, (logAbsoluteDeterminantPerPixel() * Scalar(-pixels)).broadcast(to: [y.shape[0]]))
  }

  /// −log σ, rank 0, the log of the factor applied after W; `nil` without normalisation.
  private func normalizationLogScale() -> Tensor<Scalar>? {
    switch normalization {
    case .none: return nil
    case .spectral: return -factors.logSpectralNormBound()
    }
  }

  /// log|det| of the map applied to one pixel: log|det W|, minus
  /// channels·log σ with spectral normalisation (det(W/σ) = det W/σⁿ).
  private func logAbsoluteDeterminantPerPixel() -> Tensor<Scalar> {
    guard let logScale = normalizationLogScale() else { return factors.logAbsoluteDeterminant() }
    return factors.logAbsoluteDeterminant() + logScale * Scalar(channels)
  }

  /// The log-determinant of the map on whole images,
  /// height·width·log|det W| (with normalisation, of W/σ), rank 0. The
  /// per-pixel log|det W| is
  /// ``CirculantDiagonalFactors/logAbsoluteDeterminant()`` of ``factors``.
  /// - Parameters:
  ///   - height: ≥ 0.
  ///   - width: ≥ 0.
  /// - Complexity: O(m·channels).
  public func logAbsoluteDeterminant(height: Int, width: Int) -> Tensor<Scalar> {
    precondition(
      height >= 0 && width >= 0,
      "CirculantDiagonalConv1x1.logAbsoluteDeterminant: height \(height) and width \(width) are not both ≥ 0")
    return logAbsoluteDeterminantPerPixel() * Scalar(height * width)
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
