import CFFTW

/// The FFTW routines a ``TensorScalar`` reaches, in its own precision.
///
/// Conformances exist for `Float` (`fftwf_…`) and `Double` (`fftw_…`).
public protocol FFTScalar {
}

extension Float: FFTScalar {}
extension Double: FFTScalar {}
