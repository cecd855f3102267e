import FlowTensor

// Bits per dimension of discrete data from the negative log-likelihood of a
// continuous density on its uniformly dequantised, scaled version.
//
// Let y ∈ {0, …, L − 1}^D be the discrete data (L = 2^bits) and
// x = (y + u)/L − c, u ~ U[0, 1)^D, its dequantised form (c = 0 or ½): x
// ranges over the cube C(y) of side 1/L, volume L^−D. A density p on x
// defines the discrete model P(y) = ∫_C(y) p(x) dx = L^−D·E_u[p(x)], and by
// Jensen's inequality
//
//   −log P(y) ≤ E_u[−log p(x)] + D·log L,
//
// so the continuous NLL in nats plus D·log L (the log-volume that the
// scaling by 1/L removed) bounds the discrete code length (Theis, van den
// Oord & Bethge 2016); Real NVP, Glow and CDFlow report it as
//
//   bits/dim = (NLL + D·log L) / (D·log 2) = NLL/(D·log 2) + bits.
//
// A density uniform on [0, 1)^D has NLL 0 and gives exactly `bits` bits
// per dimension: every pixel costs its full bit depth. The centring shift c
// has unit Jacobian and does not enter. A model that rescales x further
// (to [−1, 1), or through a logit) counts that map's log-determinant in its
// own NLL, not here.

/// Bits per dimension of 2^bits-level data from the negative
/// log-likelihood, in nats, of a continuous density on its dequantised form
/// x = (level + u)/2^bits (− ½): (NLL + D·log 2^bits) / (D·log 2).
///
/// See ``UniformDequantization``; the sum over a batch, or the mean, may be
/// passed as long as `dimensions` counts the dimensions of one sample and
/// the NLL is per sample (a mean NLL gives the mean bits per dimension).
/// - Parameters:
///   - negativeLogLikelihood: −log p(x) of one sample, natural log, of the
///     density of the scaled data (1/2^bits per level).
///   - dimensions: D, the number of scalars per sample (≥ 1), e.g. 3·32·32.
///   - bits: the data's bit depth (8 for 256 levels).
/// - Returns: bits per dimension; exactly `bits` for a uniform density on [0, 1)^D.
public func bitsPerDimension(negativeLogLikelihood: Double, dimensions: Int, bits: Int = 8) -> Double {
  precondition(dimensions >= 1, "bitsPerDimension(dimensions: \(dimensions)): need at least one dimension")
  precondition(bits >= 1, "bitsPerDimension(bits: \(bits)): need at least one bit")
  return negativeLogLikelihood / (Double(dimensions) * Double.log(2)) + Double(bits)
}

/// `bitsPerDimension(negativeLogLikelihood:dimensions:bits:)`
/// for a tensor of NLLs (one per sample, `[batch]`, or any shape),
/// differentiable, so that a training loss may be stated in bits per dimension.
/// - Returns: the NLLs' shape.
/// - Complexity: O(n).
public func bitsPerDimension<Scalar: TensorScalar>(
  negativeLogLikelihood: Tensor<Scalar>, dimensions: Int, bits: Int = 8
) -> Tensor<Scalar> {
  precondition(dimensions >= 1, "bitsPerDimension(dimensions: \(dimensions)): need at least one dimension")
  precondition(bits >= 1, "bitsPerDimension(bits: \(bits)): need at least one bit")
  return negativeLogLikelihood * Scalar(1 / (Double(dimensions) * Double.log(2))) + Scalar(bits)
}
