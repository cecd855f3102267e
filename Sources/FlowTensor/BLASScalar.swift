import CBLAS

/// The BLAS routines a ``TensorScalar`` reaches, in its own precision.
///
/// Conformances exist for `Float` (`cblas_s…`) and `Double` (`cblas_d…`).
public protocol BLASScalar {
}

extension Float: BLASScalar {}
extension Double: BLASScalar {}
