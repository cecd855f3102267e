// Derivatives of the Fourier transforms of Tensor+FFT.swift.
//
// Each transform is linear, so its tangent is the transform of the tangent
// (leading tangent batch axes are more rows), and its pullback is its
// adjoint for the real inner product of the (real, imaginary) pairs,
// ⟨u, v⟩ = Re Σ conj(u)·v. For a complex-linear map that adjoint is the
// conjugate transpose:
// - fft: F maps z to F·z with F the DFT matrix; Fᴴ = n·F⁻¹, so the pullback
//   is n·ifft(ḡ);
// - ifft: (F⁻¹)ᴴ = F/n, so the pullback is fft(ḡ)/n.
// The real transforms are only real-linear, and their adjoints carry the
// Hermitian weights (derived from the sums in their doc comments):
// - rfft: x̄[j] = Re Σₖ ḡ[k]·e^(2πi·jk/n) over the kept bins k = 0…n/2. irfft
//   sums the kept bins 1…⌈n/2⌉−1 twice (for their missing conjugates) and
//   bin 0 and, for even n, bin n/2 once, and divides by n; so
//   x̄ = n·irfft(w ⊙ ḡ) with w = ½ on the bins counted twice and 1 on the
//   others. The imaginary parts of bin 0 and n/2, which rfft always sets to
//   zero, get no gradient, as irfft ignores them.
// - irfft: the adjoint is the weighted forward transform, X̄ = w′ ⊙ rfft(x̄)
//   with w′ = 2/n on the bins counted twice, 1/n on the real parts of bin 0
//   and (even n) n/2, and 0 on their imaginary parts, which irfft ignores.

/// Attaches the derivatives of `fft` (or, with `inverse`, `ifft`) to its value.
func complexTransformDerived<Scalar: TensorScalar>(
  _ value: Tensor<Scalar>, _ x: Tensor<Scalar>, inverse: Bool
) -> Tensor<Scalar> {
  let length = Scalar(x.shape[x.rank - 2])
  return value.derived(
    from: x, operation: inverse ? "ifft" : "fft",
    pullback: { cotangent in inverse ? fft(cotangent) / length : ifft(cotangent) * length },
    tangent: { _, _, tangent in inverse ? ifft(tangent) : fft(tangent) })
}

/// Attaches the derivatives of `rfft` to its value.
func rfftDerived<Scalar: TensorScalar>(_ value: Tensor<Scalar>, _ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let length = x.shape[x.rank - 1]
  let weights = hermitianWeights(length: length, Scalar.self, single: 1, double: Scalar(0.5), ignoredImaginary: 1)
  return value.derived(
    from: x, operation: "rfft",
    pullback: { cotangent in irfft(cotangent * weights, length: length) * Scalar(length) },
    tangent: { _, _, tangent in rfft(tangent) })
}

/// Attaches the derivatives of `irfft` to its value.
func irfftDerived<Scalar: TensorScalar>(_ value: Tensor<Scalar>, _ x: Tensor<Scalar>, length: Int) -> Tensor<Scalar> {
  let n = Scalar(length)
  let weights = hermitianWeights(length: length, Scalar.self, single: 1 / n, double: 2 / n, ignoredImaginary: 0)
  return value.derived(
    from: x, operation: "irfft",
    pullback: { cotangent in rfft(cotangent) * weights },
    tangent: { _, _, tangent in irfft(tangent, length: length) })
}

/// The `[n/2 + 1, 2]` weights of the kept bins of a real transform of
/// length n: `double` on bins 1…⌈n/2⌉−1 (whose conjugates are implied),
/// `single` on the real part of bin 0 and, for even n, bin n/2, and
/// `ignoredImaginary` on their imaginary parts.
func hermitianWeights<Scalar: TensorScalar>(
  length n: Int, _: Scalar.Type, single: Scalar, double: Scalar, ignoredImaginary: Scalar
) -> Tensor<Scalar> {
  let bins = n / 2 + 1
  var scalars = [Scalar](repeating: double, count: 2 * bins)
  (scalars[0], scalars[1]) = (single, ignoredImaginary)
  if n % 2 == 0 { (scalars[2 * bins - 2], scalars[2 * bins - 1]) = (single, ignoredImaginary) }
  return Tensor(shape: [bins, 2], scalars: scalars)
}
