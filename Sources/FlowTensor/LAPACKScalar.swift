import CLAPACK

/// The LAPACK routines a ``TensorScalar`` reaches, in its own precision.
///
/// Conformances exist for `Float` (`s…_`) and `Double` (`d…_`).
public protocol LAPACKScalar {
}

extension Float: LAPACKScalar {}
extension Double: LAPACKScalar {}
