// Discrete Fourier transforms along the last axis, batched over the
// leading axes, through FFTW.
//
// Complex values are stored as a trailing axis of size 2 (real,
// imaginary), FFTW's interleaved layout, so tensors go to FFTW without
// copies. Conventions follow NumPy's `numpy.fft` with its default
// normalisation: the forward transforms are unnormalised,
// X[k] = Σⱼ x[j]·e^(−2πi·jk/n), and the inverses carry the factor 1/n.
//
// All four are linear and differentiable: their tangents are the same
// transform of the tangent, and their pullbacks the adjoint transforms
// (Tensor+FFT+Derivatives.swift).

/// The discrete Fourier transform of real rows, keeping the non-negative
/// frequencies (NumPy's `rfft`).
///
/// Bin k of a row x of length n is X[k] = Σⱼ x[j]·e^(−2πi·jk/n), unnormalised,
/// for k = 0…n/2; the other half is the complex conjugate of these. The
/// imaginary parts of bin 0 and, for even n, bin n/2 are zero.
/// - Parameters:
///   - x: `[..., n]`, rank at least 1, n at least 1; every leading index is
///     a separate row.
/// - Returns: `[..., n/2 + 1, 2]`, the bins as (real, imaginary) pairs.
/// - Complexity: O(batch · n log n), for every n (FFTW handles prime
///   lengths with Rader's algorithm); rows are split across
///   ``Parallel/threadCount`` threads when the batch is large.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func rfft<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = rfftValue(x)
  guard x.autodiff != nil else { return value }
  return rfftDerived(value, x)
}

/// The value of ``rfft(_:)``, without derivatives.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func rfftValue<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  precondition(x.rank >= 1, "rfft: shape \(x.shape): needs at least one axis to transform")
  let length = x.shape[x.rank - 1]
  precondition(length >= 1, "rfft: shape \(x.shape): the last axis has no points to transform")
  let leading = Array(x.shape.dropLast())
  var result = Tensor<Scalar>(uninitializedShape: leading + [length / 2 + 1, 2])
  let count = leading.reduce(1, *)
  x.withUnsafeBufferPointer { input in
    result.withUnsafeMutableBufferPointer { output in
      FFTDriver.transform(
        .realToComplex, length: length, count: count, input: input.baseAddress!, output: output.baseAddress!)
    }
  }
  return result
}

/// The inverse of ``rfft(_:)``: real rows from their non-negative
/// frequencies (NumPy's `irfft` with `n` given).
///
/// Row j of the result is x[j] = (1/n)·Σₖ X[k]·e^(2πi·jk/n) over all n bins,
/// the missing ones being the conjugates of the given ones, so
/// `irfft(rfft(x), length: n)` is `x` up to rounding. As in NumPy, the
/// imaginary parts of bin 0 and, for even n, bin n/2 are ignored.
/// - Parameters:
///   - x: `[..., n/2 + 1, 2]`, rank at least 2, as ``rfft(_:)`` returns it.
///   - length: n, at least 1. Both n = 2m and n = 2m + 1 have m + 1 bins,
///     so the length is not implied by `x`.
/// - Returns: `[..., n]`.
/// - Complexity: O(batch · n log n), plus a copy of `x` (FFTW's c2r
///   transform overwrites its input).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func irfft<Scalar: TensorScalar>(_ x: Tensor<Scalar>, length: Int) -> Tensor<Scalar> {
  let value = irfftValue(x, length: length)
  guard x.autodiff != nil else { return value }
  return irfftDerived(value, x, length: length)
}

/// The value of ``irfft(_:length:)``, without derivatives.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func irfftValue<Scalar: TensorScalar>(_ x: Tensor<Scalar>, length: Int) -> Tensor<Scalar> {
  precondition(length >= 1, "irfft: length \(length) must be at least 1")
  precondition(
    x.rank >= 2 && x.shape[x.rank - 1] == 2,
    "irfft: shape \(x.shape): needs complex bins [..., \(length / 2 + 1), 2] (the last axis is real, imaginary)")
  precondition(
    x.shape[x.rank - 2] == length / 2 + 1,
    "irfft: shape \(x.shape): length \(length) needs \(length / 2 + 1) bins in the last-but-one axis, got \(x.shape[x.rank - 2])")
  let leading = Array(x.shape.dropLast(2))
  var result = Tensor<Scalar>(uninitializedShape: leading + [length])
  let count = leading.reduce(1, *)
  x.withUnsafeBufferPointer { input in
    result.withUnsafeMutableBufferPointer { output in
      FFTDriver.transform(
        .complexToReal, length: length, count: count, input: input.baseAddress!, output: output.baseAddress!,
        scale: 1 / Scalar(length))
    }
  }
  return result
}

/// The discrete Fourier transform of complex rows (NumPy's `fft`).
///
/// X[k] = Σⱼ z[j]·e^(−2πi·jk/n), unnormalised.
/// - Parameters:
///   - x: `[..., n, 2]`, rank at least 2, n at least 1: rows of n complex
///     values as (real, imaginary) pairs.
/// - Returns: `[..., n, 2]`.
/// - Complexity: O(batch · n log n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func fft<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = complexTransform(x, kind: .forward, operation: "fft")
  guard x.autodiff != nil else { return value }
  return complexTransformDerived(value, x, inverse: false)
}

/// The inverse discrete Fourier transform of complex rows (NumPy's `ifft`).
///
/// z[j] = (1/n)·Σₖ X[k]·e^(2πi·jk/n), so `ifft(fft(z))` is `z` up to rounding.
/// - Parameters:
///   - x: `[..., n, 2]`, rank at least 2, n at least 1.
/// - Returns: `[..., n, 2]`.
/// - Complexity: O(batch · n log n).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func ifft<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let value = complexTransform(x, kind: .backward, operation: "ifft")
  guard x.autodiff != nil else { return value }
  return complexTransformDerived(value, x, inverse: true)
}

@inline(__always)
func complexTransform<Scalar: TensorScalar>(_ x: Tensor<Scalar>, kind: FFTKind, operation: String) -> Tensor<Scalar> {
  precondition(
    x.rank >= 2 && x.shape[x.rank - 1] == 2,
    "\(operation): shape \(x.shape): needs complex rows [..., n, 2] (the last axis is real, imaginary)")
  let length = x.shape[x.rank - 2]
  precondition(length >= 1, "\(operation): shape \(x.shape): the last-but-one axis has no points to transform")
  var result = Tensor<Scalar>(uninitializedShape: x.shape)
  let count = x.shape.dropLast(2).reduce(1, *)
  x.withUnsafeBufferPointer { input in
    result.withUnsafeMutableBufferPointer { output in
      FFTDriver.transform(
        kind, length: length, count: count, input: input.baseAddress!, output: output.baseAddress!,
        scale: kind == .backward ? 1 / Scalar(length) : nil)
    }
  }
  return result
}

/// Runs one batched transform through cached plans.
enum FFTDriver {
  /// The fewest points (rows × length) worth a thread: batches of fewer
  /// than twice this run on the calling thread.
  static let grain = 1 << 14

  /// Transforms `count` contiguous rows of `length` points from `input` to
  /// `output`, then multiplies the output by `scale` if given.
  ///
  /// Large batches are split into row ranges, one per thread, each
  /// executing a plan for its own row count: FFTW's execute is thread-safe
  /// and single-threaded plans on disjoint rows use every core. Ranges
  /// start at row offsets that are multiples of 64 bytes, so on 64-byte
  /// aligned tensors every range runs an aligned (SIMD) plan; other
  /// pointers get an `FFTW_UNALIGNED` plan.
  /// - Parameters:
  ///   - input: `count` rows of `kind.inputRowScalars(length:)` scalars;
  ///     left unchanged (c2r works on a copy, with the imaginary parts of
  ///     bin 0 and, for even `length`, bin `length/2` set to zero).
  ///   - output: `count` rows of `kind.outputRowScalars(length:)` scalars.
  static func transform<Scalar: TensorScalar>(
    _ kind: FFTKind, length: Int, count: Int, input: UnsafePointer<Scalar>, output: UnsafeMutablePointer<Scalar>,
    scale: Scalar? = nil, cache: FFTPlanCache = .shared
  ) {
    guard count > 0 else { return }
    let inputRow = kind.inputRowScalars(length: length)
    let outputRow = kind.outputRowScalars(length: length)
    // c2r overwrites its input, so it runs on a scratch copy.
    let scratch = kind == .complexToReal ? TensorStorage<Scalar>.make(uninitializedCount: count * inputRow) : nil
    let unit = lcm(
      alignedRowBlock(rowScalars: inputRow, Scalar.self), alignedRowBlock(rowScalars: outputRow, Scalar.self))
    let units = (count + unit - 1) / unit
    withExtendedLifetime(scratch) {
      Parallel.forEachRange(count: units, grain: max(1, grain / (unit * length))) { unitRange in
        let rows = (unit * unitRange.lowerBound)..<min(count, unit * unitRange.upperBound)
        var source = UnsafeMutablePointer(mutating: input) + rows.lowerBound * inputRow
        if let scratch {
          let copy = scratch.base + rows.lowerBound * inputRow
          prepareComplexToRealInput(copy, from: source, rows: rows.count, length: length)
          source = copy
        }
        let destination = output + rows.lowerBound * outputRow
        let aligned = Scalar._fftwAlignment(of: source) == 0 && Scalar._fftwAlignment(of: destination) == 0
        let plan = cache.plan(
          kind: kind, length: length, count: rows.count, input: source, output: destination, aligned: aligned)
        plan.execute(input: source, output: destination)
        if let scale { multiply(destination, count: rows.count * outputRow, by: scale) }
      }
    }
  }

  /// The fewest rows whose byte size is a multiple of 64.
  @inline(__always)
  static func alignedRowBlock<Scalar>(rowScalars: Int, _: Scalar.Type) -> Int {
    let bytes = rowScalars * MemoryLayout<Scalar>.stride
    return 64 / gcd(bytes, 64)
  }

  @inline(__always)
  static func gcd(_ a: Int, _ b: Int) -> Int {
    var (a, b) = (a, b)
    while b != 0 { (a, b) = (b, a % b) }
    return a
  }

  @inline(__always)
  static func lcm(_ a: Int, _ b: Int) -> Int { a / gcd(a, b) * b }

  /// Copies c2r input rows, zeroing the imaginary parts NumPy ignores:
  /// Im X[0] and, for even n, Im X[n/2]. A real signal has them zero, and
  /// FFTW's manual defines c2r only for such Hermitian input; its codelets
  /// happen to ignore them, but that is not promised for every algorithm.
  @inline(__always)
  static func prepareComplexToRealInput<Scalar: TensorScalar>(
    _ copy: UnsafeMutablePointer<Scalar>, from source: UnsafeMutablePointer<Scalar>, rows: Int, length: Int
  ) {
    let rowScalars = 2 * (length / 2 + 1)
    copy.update(from: source, count: rows * rowScalars)
    for row in 0..<rows {
      let start = row * rowScalars
      copy[start + 1] = 0
      if length % 2 == 0 { copy[start + rowScalars - 1] = 0 }
    }
  }

  @inline(__always)
  static func multiply<Scalar: TensorScalar>(_ buffer: UnsafeMutablePointer<Scalar>, count: Int, by factor: Scalar) {
    for index in 0..<count { buffer[index] *= factor }
  }
}
