import Foundation
import _FlowKernels

/// The vectorised C kernels of the `Float` mixture-CDF transform
/// (`_FlowKernels/MixtureCDF.c`): the value and the pullback in double
/// precision, four components per AVX2 vector, four exponentials per
/// component instead of the scalar path's ten calls to the C library.
///
/// They work in linear space with per-element shifts, which is exact to
/// double rounding while the smaller tail mass is ≥ 1e-30 (|u| ≤ 11.3);
/// every other element (and every element without AVX2) is flagged and
/// handed to the caller's log-space scalar path, so the results are those
/// of the scalar path up to the last `Float` rounding.
enum MixtureCDFKernels {
  /// Whether `Scalar`'s transform goes through the kernels: `Float` on a
  /// processor with AVX2+FMA, unless the environment sets
  /// `FLOWTENSOR_MIXTURE_CDF=scalar` (to compare both paths in one binary).
  @inline(__always)
  static func appliesTo<Scalar: TensorScalar>(_: Scalar.Type) -> Bool {
    Scalar.self == Float.self && flow_kernels_instruction_set() == 1 && !scalarRequested
  }

  /// `FLOWTENSOR_MIXTURE_CDF=scalar`, read once.
  private static let scalarRequested = ProcessInfo.processInfo.environment["FLOWTENSOR_MIXTURE_CDF"] == "scalar"

  /// Writes u and log u′ of the elements in `range`, each `components`
  /// parameters at `index·components`, and calls `fallback(index)` for
  /// those the kernel leaves to the scalar path.
  /// - Parameters:
  ///   - range: element indices; `Scalar` must be `Float` (see ``appliesTo(_:)``).
  static func value<Scalar: TensorScalar>(
    _ range: Range<Int>, components: Int, z: UnsafePointer<Scalar>, logits: UnsafePointer<Scalar>,
    means: UnsafePointer<Scalar>, logScales: UnsafePointer<Scalar>, output: UnsafeMutablePointer<Scalar>,
    logDerivative: UnsafeMutablePointer<Scalar>, fallback: (Int) -> Void
  ) {
    let start = range.lowerBound
    let offset = start * components
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: range.count) { flags in
      let flagged = flow_kernels_mixture_cdf_f32(
        float(z + start), float(logits + offset), float(means + offset), float(logScales + offset), range.count,
        components, float(output + start), float(logDerivative + start), flags.baseAddress!)
      guard flagged > 0 else { return }
      for index in 0..<range.count where flags[index] != 0 { fallback(start + index) }
    }
  }

  /// Writes the cotangents of z, the logits, means and log-scales of the
  /// elements in `range` from their outputs u and the cotangents of u and
  /// log u′, and calls `fallback(index)` for the elements left to the
  /// scalar path.
  /// - Parameters:
  ///   - range: element indices; `Scalar` must be `Float` (see ``appliesTo(_:)``).
  static func pullback<Scalar: TensorScalar>(
    _ range: Range<Int>, components: Int, z: UnsafePointer<Scalar>, logits: UnsafePointer<Scalar>,
    means: UnsafePointer<Scalar>, logScales: UnsafePointer<Scalar>, output: UnsafePointer<Scalar>,
    outputCotangent: UnsafePointer<Scalar>, logDerivativeCotangent: UnsafePointer<Scalar>,
    zGradient: UnsafeMutablePointer<Scalar>, logitGradient: UnsafeMutablePointer<Scalar>,
    meanGradient: UnsafeMutablePointer<Scalar>, logScaleGradient: UnsafeMutablePointer<Scalar>,
    fallback: (Int) -> Void
  ) {
    let start = range.lowerBound
    let offset = start * components
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: range.count) { flags in
      let flagged = flow_kernels_mixture_cdf_backward_f32(
        float(z + start), float(logits + offset), float(means + offset), float(logScales + offset),
        float(output + start), float(outputCotangent + start), float(logDerivativeCotangent + start), range.count,
        components, float(zGradient + start), float(logitGradient + offset), float(meanGradient + offset),
        float(logScaleGradient + offset), flags.baseAddress!)
      guard flagged > 0 else { return }
      for index in 0..<range.count where flags[index] != 0 { fallback(start + index) }
    }
  }

  @inline(__always)
  private static func float<Scalar>(_ pointer: UnsafePointer<Scalar>) -> UnsafePointer<Float> {
    UnsafeRawPointer(pointer).assumingMemoryBound(to: Float.self)
  }

  @inline(__always)
  private static func float<Scalar>(_ pointer: UnsafeMutablePointer<Scalar>) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: Float.self)
  }
}
