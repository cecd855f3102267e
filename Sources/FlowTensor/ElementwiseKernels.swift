import _FlowKernels

/// Whole-chunk elementwise kernels that dispatch to the vectorised C
/// kernels of `_FlowKernels` where one exists for the precision.
///
/// Swift in a package without `unsafeFlags` compiles for baseline x86-64
/// (4 Float lanes, no FMA); the C kernels pick AVX2+FMA at run time (8
/// lanes). For `exp` over 16M Floats that is the difference between 6 GB/s
/// and numpy's 14 GB/s (`flowbench elementwise`).
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

  /// The instruction set the C kernels use: `"avx2+fma"` or `"portable"`.
  static var instructionSet: String {
    flow_kernels_instruction_set() == 1 ? "avx2+fma" : "portable"
  }

  /// Makes the C kernels use their portable path (for tests of that path).
  static func forcePortable(_ force: Bool) {
    flow_kernels_force_portable(force ? 1 : 0)
  }
}
