import FlowTensor

// The products W·x and W⁻¹·y on rows of features, the only place where the
// circulant-diagonal layers touch their inputs. Both compose FlowTensor's
// differentiable ops, so derivatives come for free; each is one function
// so that a fused kernel (the FFTs, spectral products and diagonal
// scalings of all factors in one sweep) can replace it later.

extension CirculantDiagonalFactors {
  /// W·x for every row x of `x`: D_m first, then C_{m−1}, D_{m−1}, …, C₁, D₁.
  /// - Parameters:
  ///   - x: `[rows, n]`.
  /// - Returns: `[rows, n]`; differentiable in `x` and the parameters.
  /// - Complexity: O(rows·m·n log n).
  func transformRows(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    guard x.scalarCount > 0 else { return x }
    var y = x * diagonals[diagonals.count - 1].entries
    for index in circulants.indices.reversed() {
      y = circulants[index].multiplyingRows(y, inverted: false)
      y = y * diagonals[index].entries
    }
    return y
  }

  /// W⁻¹·y = D_m⁻¹·C_{m−1}⁻¹·…·C₁⁻¹·D₁⁻¹·y for every row y of `y`: D₁⁻¹ first.
  /// - Parameters:
  ///   - y: `[rows, n]`.
  /// - Returns: `[rows, n]`; differentiable in `y` and the parameters.
  /// - Complexity: O(rows·m·n log n).
  func inverseTransformRows(_ y: Tensor<Scalar>) -> Tensor<Scalar> {
    guard y.scalarCount > 0 else { return y }
    var x = y * diagonals[0].inverseEntries
    for index in circulants.indices {
      x = circulants[index].multiplyingRows(x, inverted: true)
      x = x * diagonals[index + 1].inverseEntries
    }
    return x
  }
}

extension CirculantDiagonalFactors.Circulant {
  /// C·x = irfft(ĉ ⊙ rfft(x)) for every row x of `x` (the convolution
  /// theorem, CDFlow Eq. 11), or with `inverted` C⁻¹·x = irfft(rfft(x) / ĉ).
  /// - Parameters:
  ///   - x: `[rows, n]`, rows ≥ 1.
  /// - Returns: `[rows, n]`.
  func multiplyingRows(_ x: Tensor<Scalar>, inverted: Bool) -> Tensor<Scalar> {
    let (real, imaginary) = spectrumParts(inverted: inverted)
    let bins = rfft(x)  // [rows, n/2 + 1, 2]
    // (a + ib)(p + iq) = (ap − bq) + i(bp + aq): the pairs times p, plus
    // the swapped pairs (b, a) times (−q, q).
    let swapped = bins.reversed(alongAxes: [-1])
    let product = bins * real + swapped * (imaginary * Tensor<Scalar>([-1, 1]))
    return irfft(product, length: length)
  }
}
