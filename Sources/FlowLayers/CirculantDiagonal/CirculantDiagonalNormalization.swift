/// How ``CirculantDiagonalConv1x1`` rescales its matrix W before applying it.
///
/// CDFlow trains with spectral normalisation of its CD-convolutions (Feng &
/// Liao, NeurIPS 2025, §4.1, after Miyato et al. 2018) and says that the
/// structure makes the largest singular value cheap, without a formula.
/// Here σ is ``CirculantDiagonalFactors/spectralNormBound()``, the product
/// of every factor's largest |eigenvalue| (exact for a single diagonal
/// and at the identity, an upper bound otherwise), so the applied matrix
/// W/σ has ‖W/σ‖₂ ≤ 1 and costs O(m·n), no FFT and no power iteration.
public enum CirculantDiagonalNormalization: String, Codable, Sendable, CaseIterable {
  /// W as it is.
  case none
  /// W/σ with σ the spectral-norm bound: log|det(W/σ)| = log|det W| − n·log σ
  /// per pixel, and the gradients flow through σ (to the largest
  /// log-magnitude of every factor), as in Miyato et al.'s normalisation
  /// where σ is part of the forward pass.
  case spectral
}
