import Dispatch
import Foundation
import _FlowKernels

/// Splits large loops across the machine's cores.
///
/// Elementwise and reduction kernels split work into at most
/// ``threadCount`` contiguous chunks once it exceeds a grain size; smaller
/// loops run on the calling thread, where the cost of waking workers would
/// exceed the work. Medium matrix products run here too, split into
/// single-threaded `gemm` blocks; OpenBLAS is held to one thread outside
/// large products and factorisations (see `BLASThreading`).
public enum Parallel {
  /// Threads a kernel may use: `FLOWTENSOR_NUM_THREADS` if set, else the
  /// number of active cores.
  public static let threadCount: Int = {
    if let text = ProcessInfo.processInfo.environment["FLOWTENSOR_NUM_THREADS"],
      let value = Int(text), value >= 1
    {
      return value
    }
    return max(1, ProcessInfo.processInfo.activeProcessorCount)
  }()

  /// Elements below which an elementwise loop stays on one thread.
  public static let elementwiseGrain = 1 << 15

  /// Calls `body` on disjoint ranges that cover `0..<count`, concurrently
  /// when `count` is at least twice `grain`.
  /// - Parameters:
  ///   - count: the number of iterations.
  ///   - grain: the smallest range worth a thread of its own.
  ///   - body: called once per range; ranges never overlap.
  ///
  /// Inside another call's `body` (on a worker thread, or on the calling
  /// thread while it runs a chunk) the loop runs serially: the outer split
  /// already occupies the cores.
  @inlinable
  public static func forEachRange(count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
    let chunks = min(threadCount, count / max(grain, 1))
    if chunks <= 1 || isInsideRegion {
      if count > 0 { body(0..<count) }
      return
    }
    // Every chunk has returned when concurrentPerform does, so `body`
    // never outlives this call.
    withoutActuallyEscaping(body) { body in
      let task = UncheckedSendable(body)
      DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        let start = count * chunk / chunks
        let end = count * (chunk + 1) / chunks
        enterRegion()
        task.value(start..<end)
        leaveRegion()
      }
    }
  }

  /// Whether the calling thread is running a chunk of ``forEachRange(count:grain:_:)``.
  @usableFromInline
  static var isInsideRegion: Bool { flow_parallel_depth() > 0 }

  @usableFromInline
  static func enterRegion() { flow_parallel_enter() }

  @usableFromInline
  static func leaveRegion() { flow_parallel_leave() }
}

/// Carries a value into a `@Sendable` closure whose caller guarantees the
/// accesses are disjoint (each chunk of ``Parallel`` writes its own range).
@usableFromInline
struct UncheckedSendable<Value>: @unchecked Sendable {
  @usableFromInline let value: Value
  @inlinable init(_ value: Value) { self.value = value }
}
