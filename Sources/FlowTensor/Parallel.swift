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
///
/// Regions run on a fixed pool of ``threadCount`` − 1 workers (C, in
/// `_FlowKernels/ThreadPool.c`) that spin for about 2 ms before they
/// sleep, so back-to-back regions start on every core within microseconds;
/// with libdispatch's `concurrentPerform` the workers slept after every
/// region, and a CDFlow training step (L = 2, K = 8, width 64, batch 64,
/// two threads) took 72 ms instead of 57.
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
    // Every chunk has returned when flow_pool_run does, so `body` never
    // outlives this call.
    withoutActuallyEscaping(body) { body in
      var region = Region(body: body, count: count, chunks: chunks)
      withUnsafeMutablePointer(to: &region) { pointer in
        flow_pool_run(chunks, Int32(threadCount), Region.runChunk, pointer)
      }
    }
  }

  /// One call of ``forEachRange(count:grain:_:)`` as the pool's workers see it.
  @usableFromInline
  struct Region {
    @usableFromInline let body: (Range<Int>) -> Void
    @usableFromInline let count: Int
    @usableFromInline let chunks: Int

    @inlinable
    init(body: @escaping (Range<Int>) -> Void, count: Int, chunks: Int) {
      self.body = body
      self.count = count
      self.chunks = chunks
    }

    /// The pool's task: runs chunk `chunk` of the region at `context`.
    @usableFromInline
    static let runChunk: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void = { context, chunk in
      let region = context!.assumingMemoryBound(to: Region.self)
      let (count, chunks) = (region.pointee.count, region.pointee.chunks)
      enterRegion()
      region.pointee.body((count * chunk / chunks)..<(count * (chunk + 1) / chunks))
      leaveRegion()
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
