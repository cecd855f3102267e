import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// The plan cache: reuse, concurrent use from many threads, measured plans,
/// and the FFTW entry points behind it on unaligned buffers.
final class FFTPlanCacheTests: XCTestCase {
  override func tearDown() {
    FFTPlanCache.shared.planningRigor = .estimate
    FFTPlanCache.shared.removeAll()
    super.tearDown()
  }

  func testPlansAreKeyedByPrecisionKindLengthAndBatchCount() {
    let cache = FFTPlanCache.shared
    cache.removeAll()
    XCTAssertEqual(cache.count, 0)
    var generator = SeededGenerator(seed: 21)
    let x = Tensor<Double>.randomNormal(shape: [3, 8], using: &generator)
    let first = rfft(x)
    XCTAssertEqual(cache.count, 1, "one r2c plan")
    XCTAssertEqual(rfft(x), first)
    XCTAssertEqual(rfft(x * 2).shape, [3, 5, 2])
    XCTAssertEqual(cache.count, 1, "the r2c plan is reused for new buffers")
    _ = irfft(first, length: 8)
    XCTAssertEqual(cache.count, 2, "plus a c2r plan")
    _ = rfft(Tensor<Float>.randomNormal(shape: [3, 8], using: &generator))
    XCTAssertEqual(cache.count, 3, "plus a single-precision r2c plan")
    _ = rfft(Tensor<Double>.randomNormal(shape: [4, 8], using: &generator))
    XCTAssertEqual(cache.count, 4, "plus a plan for 4 rows")
    _ = rfft(Tensor<Double>.randomNormal(shape: [3, 9], using: &generator))
    XCTAssertEqual(cache.count, 5, "plus a plan for length 9")
    let z = Tensor<Double>.randomNormal(shape: [3, 8, 2], using: &generator)
    _ = fft(z)
    _ = ifft(z)
    XCTAssertEqual(cache.count, 7, "plus forward and backward complex plans")
    cache.removeAll()
    XCTAssertEqual(cache.count, 0)
    XCTAssertEqual(rfft(x), first, "a fresh FFTW_ESTIMATE plan gives the same bits")
  }

  func testConcurrentCallsMatchSequentialCalls() {
    checkConcurrentUse(Float.self)
    checkConcurrentUse(Double.self)
  }

  func testMeasuredPlansAgreeWithEstimatedPlans() {
    checkMeasuredPlans(Float.self, tolerance: 1e-5)
    checkMeasuredPlans(Double.self, tolerance: 1e-12)
  }

  func testUnalignedPlansRunOnMisalignedBuffers() {
    checkUnalignedPlans(Float.self, tolerance: 1e-5)
    checkUnalignedPlans(Double.self, tolerance: 1e-12)
  }

  // MARK: - Generic bodies

  /// Eight threads run every transform on batches of different lengths and
  /// counts, one of them large enough to split across cores, starting from
  /// an empty cache so that plans are also made concurrently.
  func checkConcurrentUse<Scalar: TensorScalar>(_: Scalar.Type) {
    var generator = SeededGenerator(seed: 22)
    let shapes = [[3, 7], [2, 2, 13], [5, 64], [1, 97], [4, 96], [600, 64], [3, 1], [2, 128]]
    let inputs = shapes.map { Tensor<Scalar>.randomNormal(shape: $0, using: &generator) }
    let complexInputs = shapes.map { Tensor<Scalar>.randomNormal(shape: $0 + [2], using: &generator) }
    func transforms(_ index: Int) -> [Tensor<Scalar>] {
      let length = shapes[index][shapes[index].count - 1]
      let spectrum = rfft(inputs[index])
      return [spectrum, irfft(spectrum, length: length), fft(complexInputs[index]), ifft(complexInputs[index])]
    }
    let sequential = shapes.indices.map(transforms)

    FFTPlanCache.shared.removeAll()
    let threads = 8
    let results = LockedResults<Scalar>(count: threads * shapes.count)
    DispatchQueue.concurrentPerform(iterations: threads) { thread in
      // Each thread starts at a different shape, so plans are requested
      // both for the same key and for different keys at once.
      for step in shapes.indices {
        let index = (thread + step) % shapes.count
        results.set(thread * shapes.count + index, transforms(index))
      }
    }
    for thread in 0..<threads {
      for index in shapes.indices {
        let concurrent = results.get(thread * shapes.count + index)
        XCTAssertEqual(concurrent.count, 4)
        for (actual, expected) in zip(concurrent, sequential[index]) {
          assertIdentical(actual, expected, "\(Scalar.self) shape \(shapes[index]) thread \(thread)")
        }
      }
    }
  }

  func checkMeasuredPlans<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
    var generator = SeededGenerator(seed: 23)
    let cache = FFTPlanCache.shared
    for shape in [[3, 64], [2, 97], [2, 2, 96]] {
      let length = shape[shape.count - 1]
      let x = Tensor<Scalar>.randomNormal(shape: shape, using: &generator)
      let z = Tensor<Scalar>.randomNormal(shape: shape + [2], using: &generator)
      cache.planningRigor = .estimate
      let estimated = [rfft(x), irfft(rfft(x), length: length), fft(z), ifft(z)]
      cache.planningRigor = .measure
      XCTAssertEqual(cache.planningRigor, .measure)
      let plansBefore = cache.count
      let measured = [rfft(x), irfft(rfft(x), length: length), fft(z), ifft(z)]
      XCTAssertEqual(cache.count, plansBefore + 4, "measured plans are cached beside estimated ones")
      for (actual, expected) in zip(measured, estimated) {
        let scale = expected.scalars.reduce(Scalar(0)) { $0 + $1 * $1 }.squareRoot()
        assertClose(actual, expected, absolute: tolerance * scale, "\(Scalar.self) shape \(shape)")
      }
      // Without the measured wisdom, estimated plans are the first ones again.
      cache.planningRigor = .estimate
      cache.removeAll()
      let reestimated = [rfft(x), irfft(rfft(x), length: length), fft(z), ifft(z)]
      for (actual, expected) in zip(reestimated, estimated) {
        assertIdentical(actual, expected, "\(Scalar.self) shape \(shape) after removeAll")
      }
    }
  }

  /// Calls the ``FFTScalar`` entry points directly: an `FFTW_UNALIGNED` r2c
  /// plan made on aligned scratch runs on buffers one scalar off FFTW's
  /// alignment and agrees with ``rfft(_:)``. (XCTest runs tests one at a
  /// time, so calling the planner outside the cache's lock is safe here.)
  func checkUnalignedPlans<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
    var generator = SeededGenerator(seed: 24)
    let rows = 3
    let length = 16
    let bins = length / 2 + 1
    let x = Tensor<Scalar>.randomNormal(shape: [rows, length], using: &generator)
    let expected = rfft(x)

    let alignment = 64
    let inputRaw = UnsafeMutableRawPointer.allocate(
      byteCount: (rows * length + 1) * MemoryLayout<Scalar>.stride, alignment: alignment)
    let outputRaw = UnsafeMutableRawPointer.allocate(
      byteCount: (rows * bins * 2 + 1) * MemoryLayout<Scalar>.stride, alignment: alignment)
    defer {
      inputRaw.deallocate()
      outputRaw.deallocate()
    }
    let inputBase = inputRaw.bindMemory(to: Scalar.self, capacity: rows * length + 1)
    let outputBase = outputRaw.bindMemory(to: Scalar.self, capacity: rows * bins * 2 + 1)
    XCTAssertEqual(Scalar._fftwAlignment(of: inputBase), 0, "64-byte aligned is FFTW-aligned")
    XCTAssertNotEqual(Scalar._fftwAlignment(of: inputBase + 1), 0, "one scalar off is not")

    guard
      let plan = Scalar._fftwPlanRealToComplex(
        length: length, count: rows, input: inputBase, output: outputBase, rigor: .estimate, aligned: false)
    else {
      XCTFail("FFTW could not plan an unaligned r2c transform in \(Scalar.self)")
      return
    }
    defer { Scalar._fftwDestroyPlan(plan) }
    let input = inputBase + 1
    let output = outputBase + 1
    x.withUnsafeBufferPointer { input.update(from: $0.baseAddress!, count: rows * length) }
    Scalar._fftwExecuteRealToComplex(plan, input: input, output: output)
    let actual = Tensor<Scalar>(
      shape: [rows, bins, 2], scalars: Array(UnsafeBufferPointer(start: output, count: rows * bins * 2)))
    let scale = expected.scalars.reduce(Scalar(0)) { $0 + $1 * $1 }.squareRoot()
    assertClose(actual, expected, absolute: tolerance * scale, "unaligned r2c in \(Scalar.self)")
  }
}

/// Results written by concurrent threads, each to its own slot.
private final class LockedResults<Scalar: TensorScalar>: @unchecked Sendable {
  private let lock = NSLock()
  private var slots: [[Tensor<Scalar>]]

  init(count: Int) { slots = Array(repeating: [], count: count) }

  func set(_ index: Int, _ value: [Tensor<Scalar>]) {
    lock.lock()
    slots[index] = value
    lock.unlock()
  }

  func get(_ index: Int) -> [Tensor<Scalar>] {
    lock.lock()
    defer { lock.unlock() }
    return slots[index]
  }
}
