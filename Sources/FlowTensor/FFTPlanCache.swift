import Foundation

/// Which batched transform a plan computes.
enum FFTKind: Hashable, Sendable {
  /// Real rows of `length` to `length / 2 + 1` complex bins (r2c).
  case realToComplex
  /// `length / 2 + 1` complex bins to real rows of `length` (c2r).
  case complexToReal
  /// Complex to complex, sign −1.
  case forward
  /// Complex to complex, sign +1, unnormalised.
  case backward
  /// Complex to complex in split format (each signal `length` real parts
  /// then `length` imaginary parts), sign −1; run with the parts swapped
  /// (``FFTPlan/executeSplit(input:output:inverse:)``) it is sign +1.
  case splitForward

  /// Scalars per input row of `length` points.
  @inline(__always)
  func inputRowScalars(length: Int) -> Int {
    switch self {
    case .realToComplex: return length
    case .complexToReal: return 2 * (length / 2 + 1)
    case .forward, .backward, .splitForward: return 2 * length
    }
  }

  /// Scalars per output row of `length` points.
  @inline(__always)
  func outputRowScalars(length: Int) -> Int {
    switch self {
    case .realToComplex: return 2 * (length / 2 + 1)
    case .complexToReal: return length
    case .forward, .backward, .splitForward: return 2 * length
    }
  }
}

/// One FFTW plan, destroyed (under the planner lock) when the cache and
/// every caller executing it have let go of it.
final class FFTPlan: @unchecked Sendable {
  let handle: FFTWPlanHandle
  let kind: FFTKind
  let length: Int
  let count: Int
  /// False for plans made with `FFTW_UNALIGNED`, which run on any pointers.
  let aligned: Bool
  private let scalarType: ObjectIdentifier
  private let destroy: (FFTWPlanHandle) -> Void

  init<Scalar: FFTScalar>(
    _: Scalar.Type, handle: FFTWPlanHandle, kind: FFTKind, length: Int, count: Int, aligned: Bool
  ) {
    self.handle = handle
    self.kind = kind
    self.length = length
    self.count = count
    self.aligned = aligned
    scalarType = ObjectIdentifier(Scalar.self)
    destroy = Scalar._fftwDestroyPlan
  }

  /// Transforms `count` rows from `input` to `output` (new-array execute).
  ///
  /// Thread-safe. The buffers hold the plan's row counts and, unless the
  /// plan is unaligned, are aligned to FFTW's SIMD alignment; a c2r plan
  /// overwrites `input`.
  @inline(__always)
  func execute<Scalar: FFTScalar>(input: UnsafeMutablePointer<Scalar>, output: UnsafeMutablePointer<Scalar>) {
    assert(ObjectIdentifier(Scalar.self) == scalarType, "FFTPlan: executed in the wrong precision")
    assert(
      !aligned || (Scalar._fftwAlignment(of: input) == 0 && Scalar._fftwAlignment(of: output) == 0),
      "FFTPlan: an aligned plan executed on unaligned buffers")
    switch kind {
    case .realToComplex: Scalar._fftwExecuteRealToComplex(handle, input: input, output: output)
    case .complexToReal: Scalar._fftwExecuteComplexToReal(handle, input: input, output: output)
    case .forward, .backward: Scalar._fftwExecuteComplex(handle, input: input, output: output)
    case .splitForward: executeSplit(input: input, output: output, inverse: false)
    }
  }

  /// Runs a ``FFTKind/splitForward`` plan, or its inverse (sign +1,
  /// unnormalised) by swapping real and imaginary parts on both sides.
  /// Thread-safe, like ``execute(input:output:)``.
  @inline(__always)
  func executeSplit<Scalar: FFTScalar>(
    input: UnsafeMutablePointer<Scalar>, output: UnsafeMutablePointer<Scalar>, inverse: Bool
  ) {
    assert(kind == .splitForward, "FFTPlan: executeSplit on a \(kind) plan")
    assert(ObjectIdentifier(Scalar.self) == scalarType, "FFTPlan: executed in the wrong precision")
    let (realInput, imaginaryInput) = (input, input + length)
    let (realOutput, imaginaryOutput) = (output, output + length)
    if inverse {
      Scalar._fftwExecuteSplitComplex(
        handle, realInput: imaginaryInput, imaginaryInput: realInput, realOutput: imaginaryOutput,
        imaginaryOutput: realOutput)
    } else {
      Scalar._fftwExecuteSplitComplex(
        handle, realInput: realInput, imaginaryInput: imaginaryInput, realOutput: realOutput,
        imaginaryOutput: imaginaryOutput)
    }
  }

  deinit {
    FFTPlanCache.plannerLock.lock()
    destroy(handle)
    FFTPlanCache.plannerLock.unlock()
  }
}

/// The FFTW plans of both precisions, made once per transform shape and
/// reused for the life of the process.
///
/// A plan is keyed by precision, kind (r2c, c2r, forward, backward), length
/// `n`, batch count (rows per call) and alignment, and serves any buffers of
/// that shape through FFTW's new-array execute functions.
///
/// Thread-safe. FFTW's planner is global state shared by `fftw_` and
/// `fftwf_`, so making and destroying plans runs under one process-wide
/// lock; executing a plan does not take the lock, and several threads
/// execute the same plan at once on disjoint buffers.
///
/// Plans are made with ``FFTPlanningRigor/estimate`` unless
/// ``planningRigor`` says otherwise. Alignment: FFTW's new-array execute
/// needs arrays with the alignment of the planning arrays, so a plan is
/// keyed also by whether its arrays are SIMD-aligned. Every ``Tensor``
/// buffer is 64-byte aligned and batches are split on row boundaries that
/// keep that, so transforms run aligned plans (with FFTW's SIMD codelets);
/// any other array gets a separate plan made with `FFTW_UNALIGNED`.
public final class FFTPlanCache: @unchecked Sendable {
  /// The cache every transform uses.
  public static let shared = FFTPlanCache()

  /// Serialises FFTW's planner, in both precisions, and guards every cache.
  static let plannerLock = NSLock()

  private struct Key: Hashable {
    let scalarType: ObjectIdentifier
    let kind: FFTKind
    let length: Int
    let count: Int
    let aligned: Bool
    let rigor: FFTPlanningRigor
  }

  private var plans: [Key: FFTPlan] = [:]
  private var rigor: FFTPlanningRigor = .estimate

  init() {}

  /// How plans made from now on are chosen: ``FFTPlanningRigor/estimate``
  /// (the default) or ``FFTPlanningRigor/measure``. Plans already cached
  /// keep their rigor; a plan of the other rigor is made on first use.
  public var planningRigor: FFTPlanningRigor {
    get {
      Self.plannerLock.lock()
      defer { Self.plannerLock.unlock() }
      return rigor
    }
    set {
      Self.plannerLock.lock()
      rigor = newValue
      Self.plannerLock.unlock()
    }
  }

  /// The number of cached plans.
  public var count: Int {
    Self.plannerLock.lock()
    defer { Self.plannerLock.unlock() }
    return plans.count
  }

  /// Drops every cached plan and FFTW's wisdom in both precisions, so that
  /// later ``FFTPlanningRigor/estimate`` plans no longer reuse measured
  /// ones. A plan still executing on another thread is destroyed when that
  /// execution finishes.
  public func removeAll() {
    Self.plannerLock.lock()
    let dropped = plans
    plans = [:]
    Float._fftwForgetWisdom()
    Double._fftwForgetWisdom()
    Self.plannerLock.unlock()
    // Destroying a plan takes the planner lock, so the last references go
    // only after it is released.
    withExtendedLifetime(dropped) {}
  }

  /// The plan for `count` rows of `length` points, made on first request.
  /// - Parameters:
  ///   - input: `count` input rows the plan is about to run on. An
  ///     ``FFTPlanningRigor/estimate`` plan is made on these arrays, which
  ///     FFTW_ESTIMATE leaves untouched (FFTW manual §4.3.2, "Planner
  ///     Flags"); a measured plan is made on scratch arrays, since
  ///     FFTW_MEASURE overwrites them.
  ///   - output: `count` output rows, likewise.
  ///   - aligned: whether `input` and `output` have FFTW's SIMD alignment
  ///     (``FFTScalar/_fftwAlignment(of:)`` is 0 for both); if not, the
  ///     plan is made with `FFTW_UNALIGNED`.
  /// - Complexity: O(1) when cached; planning otherwise (FFTW_ESTIMATE:
  ///   microseconds).
  func plan<Scalar: FFTScalar>(
    kind: FFTKind, length: Int, count: Int,
    input: UnsafeMutablePointer<Scalar>, output: UnsafeMutablePointer<Scalar>, aligned: Bool
  ) -> FFTPlan {
    Self.plannerLock.lock()
    defer { Self.plannerLock.unlock() }
    let key = Key(
      scalarType: ObjectIdentifier(Scalar.self), kind: kind, length: length, count: count, aligned: aligned,
      rigor: rigor)
    if let plan = plans[key] { return plan }
    let plan: FFTPlan
    if rigor == .estimate {
      plan = makePlan(
        kind: kind, length: length, count: count, input: input, output: output, aligned: aligned, rigor: rigor)
    } else {
      let inputCount = count * kind.inputRowScalars(length: length)
      let outputCount = count * kind.outputRowScalars(length: length)
      // Aligned as the BufferPool's buffers, so FFTW's alignment of these
      // arrays (0) is the one an aligned plan demands of its arrays.
      let inputScratch = UnsafeMutableRawPointer.allocate(
        byteCount: inputCount * MemoryLayout<Scalar>.stride, alignment: 64)
      let outputScratch = UnsafeMutableRawPointer.allocate(
        byteCount: outputCount * MemoryLayout<Scalar>.stride, alignment: 64)
      defer {
        inputScratch.deallocate()
        outputScratch.deallocate()
      }
      plan = makePlan(
        kind: kind, length: length, count: count,
        input: inputScratch.bindMemory(to: Scalar.self, capacity: inputCount),
        output: outputScratch.bindMemory(to: Scalar.self, capacity: outputCount),
        aligned: aligned, rigor: rigor)
    }
    plans[key] = plan
    return plan
  }

  /// Calls FFTW's planner; runs under the planner lock.
  private func makePlan<Scalar: FFTScalar>(
    kind: FFTKind, length: Int, count: Int,
    input: UnsafeMutablePointer<Scalar>, output: UnsafeMutablePointer<Scalar>,
    aligned: Bool, rigor: FFTPlanningRigor
  ) -> FFTPlan {
    let handle: FFTWPlanHandle?
    switch kind {
    case .realToComplex:
      handle = Scalar._fftwPlanRealToComplex(
        length: length, count: count, input: input, output: output, rigor: rigor, aligned: aligned)
    case .complexToReal:
      handle = Scalar._fftwPlanComplexToReal(
        length: length, count: count, input: input, output: output, rigor: rigor, aligned: aligned)
    case .forward, .backward:
      handle = Scalar._fftwPlanComplex(
        length: length, count: count, input: input, output: output, inverse: kind == .backward,
        rigor: rigor, aligned: aligned)
    case .splitForward:
      handle = Scalar._fftwPlanSplitComplex(
        length: length, count: count, input: input, output: output, rigor: rigor, aligned: aligned)
    }
    guard let handle else {
      preconditionFailure("FFTPlanCache: FFTW could not plan \(kind) of length \(length) for \(count) rows")
    }
    return FFTPlan(Scalar.self, handle: handle, kind: kind, length: length, count: count, aligned: aligned)
  }
}
