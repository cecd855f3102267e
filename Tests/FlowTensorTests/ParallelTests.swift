import Dispatch
import FlowTensor
import Foundation
import XCTest

/// `Parallel.forEachRange` on the worker pool: every index once, nested
/// regions serial, several submitting threads at once, and many short
/// regions back to back (the case the pool's ticket and spinning serve).
final class ParallelTests: XCTestCase {
  /// Calls `forEachRange` and returns how many times each index was visited
  /// and the ranges handed out.
  private func visits(count: Int, grain: Int) -> (counts: [Int], ranges: [Range<Int>]) {
    let lock = NSLock()
    var counts = [Int](repeating: 0, count: count)
    var ranges: [Range<Int>] = []
    Parallel.forEachRange(count: count, grain: grain) { range in
      lock.withLock {
        ranges.append(range)
        for index in range { counts[index] += 1 }
      }
    }
    return (counts, ranges)
  }

  func testEveryIndexIsVisitedOnceInDisjointRanges() {
    for (count, grain) in [(0, 1), (1, 1), (7, 1), (1000, 10), (100_000, 1000), (100_000, 1 << 20)] {
      let (counts, ranges) = visits(count: count, grain: grain)
      XCTAssertEqual(counts, [Int](repeating: 1, count: count), "count \(count), grain \(grain)")
      XCTAssertLessThanOrEqual(ranges.count, Swift.max(1, Parallel.threadCount), "count \(count), grain \(grain)")
      let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
      for (left, right) in zip(sorted, sorted.dropFirst()) {
        XCTAssertEqual(left.upperBound, right.lowerBound, "count \(count), grain \(grain): ranges \(sorted)")
      }
    }
  }

  func testANestedRegionRunsSeriallyOnItsCaller() {
    let lock = NSLock()
    var nestedCalls: [[Range<Int>]] = []
    Parallel.forEachRange(count: 1 << 16, grain: 1) { _ in
      var inner: [Range<Int>] = []
      Parallel.forEachRange(count: 1 << 16, grain: 1) { range in inner.append(range) }
      lock.withLock { nestedCalls.append(inner) }
    }
    XCTAssertFalse(nestedCalls.isEmpty)
    for inner in nestedCalls { XCTAssertEqual(inner, [0..<(1 << 16)]) }
  }

  /// Four threads submit regions at once: one runs on the pool, the others
  /// fall back to running their chunks themselves; every sum is right.
  func testSeveralSubmittingThreadsGetCorrectResults() {
    let values = (0..<50_000).map { Double($0 % 97) }
    let expected = values.reduce(0, +)
    let lock = NSLock()
    var wrong: [String] = []
    DispatchQueue.concurrentPerform(iterations: 4) { thread in
      for repetition in 0..<200 {
        let partials = UnsafeMutablePointer<Double>.allocate(capacity: values.count)
        defer { partials.deallocate() }
        partials.initialize(repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { source in
          Parallel.forEachRange(count: values.count, grain: 1000) { range in
            for index in range { partials[index] = source[index] }
          }
        }
        let total = (0..<values.count).reduce(0.0) { $0 + partials[$1] }
        if total != expected { lock.withLock { wrong.append("thread \(thread), repetition \(repetition): \(total)") } }
      }
    }
    XCTAssertEqual(wrong, [])
  }

  /// Ten thousand short regions back to back: no chunk lost or run twice.
  func testManyShortRegionsBackToBack() {
    var counts = [Int](repeating: 0, count: 64)
    counts.withUnsafeMutableBufferPointer { buffer in
      let counts = buffer.baseAddress!
      for _ in 0..<10_000 {
        Parallel.forEachRange(count: 64, grain: 1) { range in
          for index in range { counts[index] += 1 }
        }
      }
    }
    XCTAssertEqual(counts, [Int](repeating: 10_000, count: 64))
  }
}
