import FlowLayers
import FlowTensor

extension ConformanceRegistry {
  /// CDFlow's circulant-diagonal layers (issue 5), randomly initialised
  /// (the suite adds noise to every log-magnitude and phase, so the
  /// magnitudes leave 1): the linear form for even and odd n (whose
  /// spectra differ by the Nyquist bin), n = 2 (no phases at all) and
  /// m = 1, 2, 3; the 1×1 convolution on images `[2, 6, 2, 2]` and `[2, 7, 2, 1]`,
  /// and spectrally normalised on those and `[3, 4, 1, 2]` (m = 1).
  static var circulantDiagonal: [ConformanceCase] {
    let linear = [(6, 1), (6, 2), (6, 3), (7, 2), (7, 3), (2, 2)].map { size, diagonalCount in
      ConformanceCase(
        name: "CirculantDiagonalLinear n = \(size), m = \(diagonalCount) [3, \(size)]", inputShape: [3, size],
        double: { CirculantDiagonalLinear<Double>(size: size, diagonalCount: diagonalCount, using: &$0) },
        float: { CirculantDiagonalLinear<Float>(size: size, diagonalCount: diagonalCount, using: &$0) })
    }
    let convolution = [([2, 6, 2, 2], 2), ([2, 7, 2, 1], 3)].map { shape, diagonalCount in
      ConformanceCase(
        name: "CirculantDiagonalConv1x1 m = \(diagonalCount) \(shape)", inputShape: shape,
        double: { CirculantDiagonalConv1x1<Double>(channels: shape[1], diagonalCount: diagonalCount, using: &$0) },
        float: { CirculantDiagonalConv1x1<Float>(channels: shape[1], diagonalCount: diagonalCount, using: &$0) })
    }
    // Spectral normalisation: W/σ with σ the bound, whose gradient reaches
    // the largest log-magnitude of each factor (the suite's noise breaks the
    // ties of the initialisation, where every log-magnitude is 0).
    let normalized = [([2, 6, 2, 2], 2), ([2, 7, 2, 1], 3), ([3, 4, 1, 2], 1)].map { shape, diagonalCount in
      ConformanceCase(
        name: "CirculantDiagonalConv1x1 spectral m = \(diagonalCount) \(shape)", inputShape: shape,
        double: {
          CirculantDiagonalConv1x1<Double>(
            channels: shape[1], diagonalCount: diagonalCount, normalization: .spectral, using: &$0)
        },
        float: {
          CirculantDiagonalConv1x1<Float>(
            channels: shape[1], diagonalCount: diagonalCount, normalization: .spectral, using: &$0)
        })
    }
    return linear + convolution + normalized
  }
}
