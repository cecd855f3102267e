import _FlowKernels

/// Whole-chunk elementwise kernels that dispatch to the vectorised C
/// kernels of `_FlowKernels` where one exists for the precision.
///
/// Swift in a package without `unsafeFlags` compiles for baseline x86-64
/// (4 Float lanes, no FMA); the C kernels pick AVX2+FMA at run time (8
/// lanes). For `exp` over 16M Floats that is the difference between 6 GB/s
/// and numpy's 14 GB/s (`flowbench elementwise`). For GELU the C kernel
/// works in double precision, four lanes at a time, instead of calling the
/// C library's scalar `erfc` and `exp` per element (`flowbench autodiff`),
/// and for |x| ≤ 3 through odd polynomial series in x²/2 for Φ and for the
/// slope, without exponential or division (`NormalCDF.c`).
enum ElementwiseKernels {
  /// Writes eˣ of `count` scalars from `source` to `destination`.
  static func exp<Scalar: TensorScalar>(
    _ source: UnsafePointer<Scalar>, _ destination: UnsafeMutablePointer<Scalar>, count: Int
  ) {
    if Scalar.self == Float.self {
      flow_kernels_exp_f32(
        UnsafeRawPointer(source).assumingMemoryBound(to: Float.self),
        UnsafeMutableRawPointer(destination).assumingMemoryBound(to: Float.self), count)
    } else {
      for index in 0..<count { destination[index] = Scalar.exp(source[index]) }
    }
  }

  /// Writes x·Φ(x) (exact GELU) of `count` scalars from `source` to `destination`.
  static func gelu<Scalar: TensorScalar>(
    _ source: UnsafePointer<Scalar>, _ destination: UnsafeMutablePointer<Scalar>, count: Int
  ) {
    if Scalar.self == Float.self {
      flow_kernels_gelu_f32(
        UnsafeRawPointer(source).assumingMemoryBound(to: Float.self),
        UnsafeMutableRawPointer(destination).assumingMemoryBound(to: Float.self), count)
    } else {
      for index in 0..<count {
        destination[index] = source[index] * Scalar(normalCDF(Double(source[index])))
      }
    }
  }

  /// The GELU pullback g·(Φ(x) + x·φ(x)) for a cotangent and input of the same shape.
  /// - Complexity: O(n), split across cores.
  static func geluPullback<Scalar: TensorScalar>(_ cotangent: Tensor<Scalar>, input: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(
      cotangent.shape == input.shape,
      "gelu pullback: cotangent \(cotangent.shape) and input \(input.shape) differ")
    let result = Tensor<Scalar>(uninitializedShape: input.shape)
    let (g, x, out) = (UnsafePointer(cotangent.storage.base), UnsafePointer(input.storage.base), result.storage.base)
    Parallel.forEachRange(count: result.scalarCount, grain: Parallel.elementwiseGrain) { range in
      if Scalar.self == Float.self {
        flow_kernels_gelu_backward_f32(
          UnsafeRawPointer(g + range.lowerBound).assumingMemoryBound(to: Float.self),
          UnsafeRawPointer(x + range.lowerBound).assumingMemoryBound(to: Float.self),
          UnsafeMutableRawPointer(out + range.lowerBound).assumingMemoryBound(to: Float.self), range.count)
      } else {
        for index in range { out[index] = g[index] * Scalar(exactGeluDerivative(Double(x[index]))) }
      }
    }
    return withExtendedLifetime((cotangent, input)) { result }
  }

  /// The instruction set the C kernels use: `"avx2+fma"` or `"portable"`.
  static var instructionSet: String {
    flow_kernels_instruction_set() == 1 ? "avx2+fma" : "portable"
  }

  /// Makes the C kernels use their portable path (for tests of that path).
  static func forcePortable(_ force: Bool) {
    flow_kernels_force_portable(force ? 1 : 0)
  }
}
