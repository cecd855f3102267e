import FlowTensor

// The products W·x and W⁻¹·y on rows of features, the only place where the
// circulant-diagonal layers touch their inputs. Both run FlowTensor's fused
// `circulantDiagonalProduct` (every factor applied to a block of rows while
// it is in cache, FFTs through FFTW, derivatives analytic); the factors are
// assembled from the parameters with differentiable ops, O(m·n).

extension CirculantDiagonalFactors {
  /// W·x for every row x of `x`: D_m first, then C_{m−1}, D_{m−1}, …, C₁, D₁.
  /// - Parameters:
  ///   - x: `[rows, n]`.
  /// - Returns: `[rows, n]`; differentiable in `x` and the parameters.
  /// - Complexity: O(rows·m·n log n).
  func transformRows(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    guard x.scalarCount > 0 else { return x }
    return circulantDiagonalProduct(
      x, diagonals: stacked(diagonals.map(\.entries)),
      spectra: stackedSpectra(circulants.map { $0.spectrumParts(inverted: false) }))
  }

  /// W⁻¹·y = D_m⁻¹·C_{m−1}⁻¹·…·C₁⁻¹·D₁⁻¹·y for every row y of `y`: D₁⁻¹ first.
  /// - Parameters:
  ///   - y: `[rows, n]`.
  /// - Returns: `[rows, n]`; differentiable in `y` and the parameters.
  /// - Complexity: O(rows·m·n log n).
  func inverseTransformRows(_ y: Tensor<Scalar>) -> Tensor<Scalar> {
    guard y.scalarCount > 0 else { return y }
    return circulantDiagonalProduct(
      y, diagonals: stacked(diagonals.reversed().map(\.inverseEntries)),
      spectra: stackedSpectra(circulants.reversed().map { $0.spectrumParts(inverted: true) }))
  }

  /// Rows `[n]` stacked into `[count, n]`.
  private func stacked(_ rows: [Tensor<Scalar>]) -> Tensor<Scalar> {
    Tensor(concatenating: rows.map { $0.expandingShape(at: 0) }, alongAxis: 0)
  }

  /// Half spectra as (real, imaginary) parts `[n/2 + 1, 1]` each, stacked
  /// into `[count, n/2 + 1, 2]` (`[0, n/2 + 1, 2]` for none).
  private func stackedSpectra(_ parts: [(real: Tensor<Scalar>, imaginary: Tensor<Scalar>)]) -> Tensor<Scalar> {
    guard !parts.isEmpty else { return Tensor.zeros(shape: [0, size / 2 + 1, 2]) }
    return Tensor(
      concatenating: parts.map { Tensor(concatenating: [$0.real, $0.imaginary], alongAxis: 1).expandingShape(at: 0) },
      alongAxis: 0)
  }
}
