import CFFTW

/// The FFTW routines a ``TensorScalar`` reaches, in its own precision.
///
/// Conformances exist for `Float` (`fftwf_…`) and `Double` (`fftw_…`).
/// Each requirement wraps one FFTW call for a batch of `count` contiguous
/// rows of `length` points along the last axis: the `fftw_plan_many_dft_r2c`,
/// `…_c2r` and `fftw_plan_many_dft` planners, the new-array execute
/// functions, `fftw_destroy_plan` and `fftw_alignment_of`. Complex values are
/// pairs of scalars (real, imaginary), FFTW's interleaved `fftw_complex`
/// layout, so a pointer to `2·m` scalars is a pointer to `m` complex values.
///
/// These are implementation entry points, public only because a protocol's
/// requirements share its access level; call ``rfft(_:)``, ``irfft(_:length:)``,
/// ``fft(_:)`` and ``ifft(_:)`` instead. The planners and
/// ``_fftwDestroyPlan(_:)`` are not thread-safe (FFTW's planner is global
/// state shared by both precisions): ``FFTPlanCache`` calls them under its
/// lock. The execute functions are thread-safe and may run one plan on
/// disjoint buffers from several threads at once.
public protocol FFTScalar {
  /// `fftw_plan_many_dft_r2c`: `count` rows of `length` reals, `length`
  /// apart, to `count` rows of `length / 2 + 1` complex values, that many
  /// apart. Returns nil when FFTW cannot plan the transform.
  static func _fftwPlanRealToComplex(
    length: Int, count: Int, input: UnsafeMutablePointer<Self>, output: UnsafeMutablePointer<Self>,
    rigor: FFTPlanningRigor, aligned: Bool
  ) -> FFTWPlanHandle?

  /// `fftw_plan_many_dft_c2r`: the inverse layout of
  /// ``_fftwPlanRealToComplex(length:count:input:output:rigor:aligned:)``.
  /// Executing the plan overwrites its input.
  static func _fftwPlanComplexToReal(
    length: Int, count: Int, input: UnsafeMutablePointer<Self>, output: UnsafeMutablePointer<Self>,
    rigor: FFTPlanningRigor, aligned: Bool
  ) -> FFTWPlanHandle?

  /// `fftw_plan_many_dft`: `count` rows of `length` complex values to as
  /// many, with sign −1 (`FFTW_FORWARD`) or, when `inverse`, +1
  /// (`FFTW_BACKWARD`, unnormalised).
  static func _fftwPlanComplex(
    length: Int, count: Int, input: UnsafeMutablePointer<Self>, output: UnsafeMutablePointer<Self>,
    inverse: Bool, rigor: FFTPlanningRigor, aligned: Bool
  ) -> FFTWPlanHandle?

  /// `fftw_plan_guru_split_dft`, sign −1: `count` complex signals of
  /// `length` points in split format, each a block of `2·length` scalars
  /// (the real parts, then the imaginary parts), blocks contiguous, to
  /// as many in the same layout. The inverse transform (sign +1,
  /// unnormalised) is this plan executed with real and imaginary parts
  /// swapped on both sides (FFTW manual §4.5.3).
  static func _fftwPlanSplitComplex(
    length: Int, count: Int, input: UnsafeMutablePointer<Self>, output: UnsafeMutablePointer<Self>,
    rigor: FFTPlanningRigor, aligned: Bool
  ) -> FFTWPlanHandle?

  /// `fftw_execute_split_dft` on new arrays.
  static func _fftwExecuteSplitComplex(
    _ plan: FFTWPlanHandle, realInput: UnsafeMutablePointer<Self>, imaginaryInput: UnsafeMutablePointer<Self>,
    realOutput: UnsafeMutablePointer<Self>, imaginaryOutput: UnsafeMutablePointer<Self>)

  /// `fftw_execute_dft_r2c` on new arrays of the plan's sizes, which must
  /// have the alignment of the planning arrays unless the plan is unaligned.
  static func _fftwExecuteRealToComplex(
    _ plan: FFTWPlanHandle, input: UnsafeMutablePointer<Self>, output: UnsafeMutablePointer<Self>)

  /// `fftw_execute_dft_c2r` on new arrays; overwrites `input`.
  static func _fftwExecuteComplexToReal(
    _ plan: FFTWPlanHandle, input: UnsafeMutablePointer<Self>, output: UnsafeMutablePointer<Self>)

  /// `fftw_execute_dft` on new arrays.
  static func _fftwExecuteComplex(
    _ plan: FFTWPlanHandle, input: UnsafeMutablePointer<Self>, output: UnsafeMutablePointer<Self>)

  /// `fftw_destroy_plan`; the plan must not be used afterwards.
  static func _fftwDestroyPlan(_ plan: FFTWPlanHandle)

  /// `fftw_forget_wisdom`: drops what the planner learned from measured
  /// plans, which it otherwise reuses for later plans of any rigor.
  static func _fftwForgetWisdom()

  /// `fftw_alignment_of`: the pointer's offset from FFTW's SIMD alignment,
  /// 0 when aligned. A plan made without `FFTW_UNALIGNED` executes only on
  /// arrays whose alignment equals that of its planning arrays.
  static func _fftwAlignment(of pointer: UnsafeMutablePointer<Self>) -> Int
}

/// An FFTW plan of either precision, opaque outside FlowTensor.
///
/// A plain handle: it neither owns nor frees the plan. ``FFTPlanCache``
/// owns every plan it makes and destroys it when the last user is done.
public struct FFTWPlanHandle: @unchecked Sendable {
  // fftw_plan and fftwf_plan are both pointers to incomplete structs.
  let pointer: OpaquePointer
}

/// How hard FFTW's planner searches for a fast algorithm.
public enum FFTPlanningRigor: Sendable, Hashable {
  /// `FFTW_ESTIMATE`: picks an algorithm by heuristics, in microseconds, and
  /// the same one on every run, so results are reproducible, unless a
  /// measured plan of the same problem was made earlier in the process
  /// (FFTW then reuses its wisdom) and ``FFTPlanCache/removeAll()`` has
  /// not been called since.
  case estimate
  /// `FFTW_MEASURE`: times candidate algorithms on scratch arrays, which
  /// takes milliseconds to seconds per new size but may execute faster. The
  /// choice depends on the timings, so the last bits of results can differ
  /// between processes.
  case measure
}

/// The planner flags for a rigor, aligned or not.
///
/// Out-of-place r2c and complex transforms preserve their input by default;
/// c2r destroys it (FFTW manual §4.3.2), which the callers allow for.
@inline(__always)
func fftwFlags(rigor: FFTPlanningRigor, aligned: Bool) -> UInt32 {
  var flags: UInt32 = rigor == .estimate ? FFTW_ESTIMATE : FFTW_MEASURE
  if !aligned { flags |= FFTW_UNALIGNED }
  return flags
}

/// Converts a length or count for FFTW's `int` parameters.
@inline(__always)
func fftwInt(_ value: Int, _ name: String) -> Int32 {
  guard let converted = Int32(exactly: value) else {
    preconditionFailure("FFTW: \(name) \(value) exceeds Int32.max")
  }
  return converted
}

extension Double: FFTScalar {
  public static func _fftwPlanRealToComplex(
    length: Int, count: Int, input: UnsafeMutablePointer<Double>, output: UnsafeMutablePointer<Double>,
    rigor: FFTPlanningRigor, aligned: Bool
  ) -> FFTWPlanHandle? {
    let points = fftwInt(length, "length")
    var size = points
    let bins = fftwInt(length / 2 + 1, "bins")
    let plan = fftw_plan_many_dft_r2c(
      1, &size, fftwInt(count, "batch count"),
      input, nil, 1, points,
      UnsafeMutablePointer<fftw_complex>(OpaquePointer(output)), nil, 1, bins,
      fftwFlags(rigor: rigor, aligned: aligned))
    return plan.map(FFTWPlanHandle.init(pointer:))
  }

  public static func _fftwPlanComplexToReal(
    length: Int, count: Int, input: UnsafeMutablePointer<Double>, output: UnsafeMutablePointer<Double>,
    rigor: FFTPlanningRigor, aligned: Bool
  ) -> FFTWPlanHandle? {
    let points = fftwInt(length, "length")
    var size = points
    let bins = fftwInt(length / 2 + 1, "bins")
    let plan = fftw_plan_many_dft_c2r(
      1, &size, fftwInt(count, "batch count"),
      UnsafeMutablePointer<fftw_complex>(OpaquePointer(input)), nil, 1, bins,
      output, nil, 1, points,
      fftwFlags(rigor: rigor, aligned: aligned))
    return plan.map(FFTWPlanHandle.init(pointer:))
  }

  public static func _fftwPlanComplex(
    length: Int, count: Int, input: UnsafeMutablePointer<Double>, output: UnsafeMutablePointer<Double>,
    inverse: Bool, rigor: FFTPlanningRigor, aligned: Bool
  ) -> FFTWPlanHandle? {
    let points = fftwInt(length, "length")
    var size = points
    let plan = fftw_plan_many_dft(
      1, &size, fftwInt(count, "batch count"),
      UnsafeMutablePointer<fftw_complex>(OpaquePointer(input)), nil, 1, points,
      UnsafeMutablePointer<fftw_complex>(OpaquePointer(output)), nil, 1, points,
      inverse ? FFTW_BACKWARD : FFTW_FORWARD,
      fftwFlags(rigor: rigor, aligned: aligned))
    return plan.map(FFTWPlanHandle.init(pointer:))
  }

  public static func _fftwPlanSplitComplex(
    length: Int, count: Int, input: UnsafeMutablePointer<Double>, output: UnsafeMutablePointer<Double>,
    rigor: FFTPlanningRigor, aligned: Bool
  ) -> FFTWPlanHandle? {
    let points = fftwInt(length, "length")
    var dimension = fftw_iodim(n: points, is: 1, os: 1)
    var batch = fftw_iodim(n: fftwInt(count, "batch count"), is: 2 * points, os: 2 * points)
    let plan = fftw_plan_guru_split_dft(
      1, &dimension, 1, &batch, input, input + length, output, output + length,
      fftwFlags(rigor: rigor, aligned: aligned))
    return plan.map(FFTWPlanHandle.init(pointer:))
  }

  public static func _fftwExecuteSplitComplex(
    _ plan: FFTWPlanHandle, realInput: UnsafeMutablePointer<Double>, imaginaryInput: UnsafeMutablePointer<Double>,
    realOutput: UnsafeMutablePointer<Double>, imaginaryOutput: UnsafeMutablePointer<Double>
  ) {
    fftw_execute_split_dft(plan.pointer, realInput, imaginaryInput, realOutput, imaginaryOutput)
  }

  public static func _fftwExecuteRealToComplex(
    _ plan: FFTWPlanHandle, input: UnsafeMutablePointer<Double>, output: UnsafeMutablePointer<Double>
  ) {
    fftw_execute_dft_r2c(plan.pointer, input, UnsafeMutablePointer<fftw_complex>(OpaquePointer(output)))
  }

  public static func _fftwExecuteComplexToReal(
    _ plan: FFTWPlanHandle, input: UnsafeMutablePointer<Double>, output: UnsafeMutablePointer<Double>
  ) {
    fftw_execute_dft_c2r(plan.pointer, UnsafeMutablePointer<fftw_complex>(OpaquePointer(input)), output)
  }

  public static func _fftwExecuteComplex(
    _ plan: FFTWPlanHandle, input: UnsafeMutablePointer<Double>, output: UnsafeMutablePointer<Double>
  ) {
    fftw_execute_dft(
      plan.pointer, UnsafeMutablePointer<fftw_complex>(OpaquePointer(input)),
      UnsafeMutablePointer<fftw_complex>(OpaquePointer(output)))
  }

  public static func _fftwDestroyPlan(_ plan: FFTWPlanHandle) {
    fftw_destroy_plan(plan.pointer)
  }

  public static func _fftwForgetWisdom() {
    fftw_forget_wisdom()
  }

  public static func _fftwAlignment(of pointer: UnsafeMutablePointer<Double>) -> Int {
    Int(fftw_alignment_of(pointer))
  }
}

extension Float: FFTScalar {
  public static func _fftwPlanRealToComplex(
    length: Int, count: Int, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
    rigor: FFTPlanningRigor, aligned: Bool
  ) -> FFTWPlanHandle? {
    let points = fftwInt(length, "length")
    var size = points
    let bins = fftwInt(length / 2 + 1, "bins")
    let plan = fftwf_plan_many_dft_r2c(
      1, &size, fftwInt(count, "batch count"),
      input, nil, 1, points,
      UnsafeMutablePointer<fftwf_complex>(OpaquePointer(output)), nil, 1, bins,
      fftwFlags(rigor: rigor, aligned: aligned))
    return plan.map(FFTWPlanHandle.init(pointer:))
  }

  public static func _fftwPlanComplexToReal(
    length: Int, count: Int, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
    rigor: FFTPlanningRigor, aligned: Bool
  ) -> FFTWPlanHandle? {
    let points = fftwInt(length, "length")
    var size = points
    let bins = fftwInt(length / 2 + 1, "bins")
    let plan = fftwf_plan_many_dft_c2r(
      1, &size, fftwInt(count, "batch count"),
      UnsafeMutablePointer<fftwf_complex>(OpaquePointer(input)), nil, 1, bins,
      output, nil, 1, points,
      fftwFlags(rigor: rigor, aligned: aligned))
    return plan.map(FFTWPlanHandle.init(pointer:))
  }

  public static func _fftwPlanComplex(
    length: Int, count: Int, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
    inverse: Bool, rigor: FFTPlanningRigor, aligned: Bool
  ) -> FFTWPlanHandle? {
    let points = fftwInt(length, "length")
    var size = points
    let plan = fftwf_plan_many_dft(
      1, &size, fftwInt(count, "batch count"),
      UnsafeMutablePointer<fftwf_complex>(OpaquePointer(input)), nil, 1, points,
      UnsafeMutablePointer<fftwf_complex>(OpaquePointer(output)), nil, 1, points,
      inverse ? FFTW_BACKWARD : FFTW_FORWARD,
      fftwFlags(rigor: rigor, aligned: aligned))
    return plan.map(FFTWPlanHandle.init(pointer:))
  }

  public static func _fftwPlanSplitComplex(
    length: Int, count: Int, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
    rigor: FFTPlanningRigor, aligned: Bool
  ) -> FFTWPlanHandle? {
    let points = fftwInt(length, "length")
    var dimension = fftw_iodim(n: points, is: 1, os: 1)
    var batch = fftw_iodim(n: fftwInt(count, "batch count"), is: 2 * points, os: 2 * points)
    let plan = fftwf_plan_guru_split_dft(
      1, &dimension, 1, &batch, input, input + length, output, output + length,
      fftwFlags(rigor: rigor, aligned: aligned))
    return plan.map(FFTWPlanHandle.init(pointer:))
  }

  public static func _fftwExecuteSplitComplex(
    _ plan: FFTWPlanHandle, realInput: UnsafeMutablePointer<Float>, imaginaryInput: UnsafeMutablePointer<Float>,
    realOutput: UnsafeMutablePointer<Float>, imaginaryOutput: UnsafeMutablePointer<Float>
  ) {
    fftwf_execute_split_dft(plan.pointer, realInput, imaginaryInput, realOutput, imaginaryOutput)
  }

  public static func _fftwExecuteRealToComplex(
    _ plan: FFTWPlanHandle, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>
  ) {
    fftwf_execute_dft_r2c(plan.pointer, input, UnsafeMutablePointer<fftwf_complex>(OpaquePointer(output)))
  }

  public static func _fftwExecuteComplexToReal(
    _ plan: FFTWPlanHandle, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>
  ) {
    fftwf_execute_dft_c2r(plan.pointer, UnsafeMutablePointer<fftwf_complex>(OpaquePointer(input)), output)
  }

  public static func _fftwExecuteComplex(
    _ plan: FFTWPlanHandle, input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>
  ) {
    fftwf_execute_dft(
      plan.pointer, UnsafeMutablePointer<fftwf_complex>(OpaquePointer(input)),
      UnsafeMutablePointer<fftwf_complex>(OpaquePointer(output)))
  }

  public static func _fftwDestroyPlan(_ plan: FFTWPlanHandle) {
    fftwf_destroy_plan(plan.pointer)
  }

  public static func _fftwForgetWisdom() {
    fftwf_forget_wisdom()
  }

  public static func _fftwAlignment(of pointer: UnsafeMutablePointer<Float>) -> Int {
    Int(fftwf_alignment_of(pointer))
  }
}
