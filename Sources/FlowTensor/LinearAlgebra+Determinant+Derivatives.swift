// Derivatives of `slogdet`'s log |det A| (Jacobi's formula:
// d log |det A| = tr(A⁻¹·dA); Giles 2008, §2.2.4).

/// Attaches the derivatives of log |det A| to its value: Ā = ḡ·A⁻ᵀ and
/// tr(A⁻¹·dA) = Σᵢⱼ (A⁻ᵀ)ᵢⱼ·dAᵢⱼ, an elementwise product summed over the
/// matrix axes, so one inverse serves every tangent direction. Both are NaN
/// for an exactly singular matrix (log |det A| = −∞ there).
func logAbsDeterminantDerived<Scalar: TensorScalar>(_ value: Tensor<Scalar>, _ a: Tensor<Scalar>) -> Tensor<Scalar> {
  value.derived(
    from: a, operation: "slogdet",
    pullback: { [a = a.detached] cotangent in
      let inverseTransposed = LinearAlgebraDerivatives.orNaN(shape: a.shape) { try inverse(a) }.transposed()
      return cotangent.reshaped(to: cotangent.shape + [1, 1]) * inverseTransposed
    },
    tangent: { a, _, tangent in
      let inverseTransposed = LinearAlgebraDerivatives.orNaN(shape: a.shape) { try inverse(a) }.transposed()
      return (inverseTransposed * tangent).sum(alongAxes: [-2, -1])
    })
}
