import RealModule

/// A scalar type a ``Tensor`` can hold: `Float` or `Double`.
///
/// The protocol gathers the real-number functions of swift-numerics' `Real`
/// with the precision-specific entry points of BLAS (``BLASScalar``), LAPACK
/// (``LAPACKScalar``) and FFTW (``FFTScalar``), so that one generic body
/// serves both precisions and picks `s…`/`d…` or `fftwf_…`/`fftw_…` routines
/// through the conformance.
///
/// Generic code over `TensorScalar` is slow unless specialised: every public
/// function with a per-element loop carries
/// `@_specialize(where Scalar == Float)` and `@_specialize(where Scalar == Double)`
/// so that callers in other modules reach a specialised body.
public protocol TensorScalar:
  BinaryFloatingPoint, Real, Codable, Sendable,
  BLASScalar, LAPACKScalar, FFTScalar
where Self.RawSignificand: FixedWidthInteger {
  /// The name used in benchmark output and file formats: `float32` or `float64`.
  static var dtypeName: String { get }
}

extension Float: TensorScalar {
  public static var dtypeName: String { "float32" }
}

extension Double: TensorScalar {
  public static var dtypeName: String { "float64" }
}
