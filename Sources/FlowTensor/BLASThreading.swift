import Foundation
import _FlowKernels

/// Who runs the threads of BLAS and LAPACK calls.
///
/// OpenBLAS keeps its own thread pool, and its idle workers do not sleep:
/// they spin on `sched_yield` for about 0.1 s after each call before
/// parking. A training step calls `gemm` every few milliseconds between
/// elementwise kernels that run on ``Parallel``'s threads, so OpenBLAS's
/// workers never parked and competed with ours for the two cores: a
/// profile of a CDFlow training step spent 27% of its cycles in
/// `sched_yield`. So OpenBLAS is set to one thread on first use, and
/// ``Float/gemm(_:_:m:n:k:alpha:a:leadingDimensionA:b:leadingDimensionB:beta:c:leadingDimensionC:)``
/// splits a medium product into blocks of rows or columns that
/// ``Parallel/forEachRange(count:grain:_:)`` runs concurrently, each a
/// single-threaded `gemm`, large products included, so that OpenBLAS's
/// threads no longer share the cores with the pool's spinning workers (a
/// rectangular-flow step at d = 50, exact estimator: 145 ms against 234).
/// `flowbench gemm` then measured Float order 1024 at 237–260 GFLOP/s, as
/// numpy. OpenBLAS's own idle worker, started when it loads, spun beside
/// the pool and made order 512 erratic (65–248 GFLOP/s); it is shut down
/// now (`_FlowKernels/LibraryThreads.c`) and 512 measures 231–241. Order
/// 256, the suite's first case (~3 ms into a fresh process), still
/// measures 128 or 217–222 from run to run. LAPACK factorisations of large matrices
/// (``largeProductWork``), whose parallelism lives inside the library, get
/// OpenBLAS's threads for the duration of the call
/// (``withLibraryThreads(work:_:)``), with the pool's workers sent to
/// sleep first.
///
/// With another BLAS (the reference `libblas`), OpenBLAS's controls are
/// absent and only the splitting applies.
enum BLASThreading {
  private typealias SetThreads = @convention(c) (Int32) -> Void
  private typealias GetThreads = @convention(c) () -> Int32

  /// OpenBLAS's `openblas_set_num_threads`, found at run time so that any
  /// BLAS links.
  private static let setThreads: SetThreads? = {
    guard let symbol = dlsym(nil, "openblas_set_num_threads") else { return nil }
    return unsafeBitCast(symbol, to: SetThreads.self)
  }()

  /// The threads OpenBLAS started with (`OPENBLAS_NUM_THREADS`, or all
  /// cores), before ``configure()`` set it to one.
  static let libraryThreads: Int = {
    guard let symbol = dlsym(nil, "openblas_get_num_threads") else { return 1 }
    return max(1, Int(unsafeBitCast(symbol, to: GetThreads.self)()))
  }()

  /// Sets OpenBLAS to one thread, once; every BLAS entry point calls it.
  static let configure: Void = {
    _ = libraryThreads
    setThreads?(1)
    flow_library_threads_shutdown()
  }()

  /// Multiply-adds below which a product stays on one thread: waking a
  /// second thread costs about as much as 2^20 multiply-adds on one core.
  static let minimumParallelWork = 1 << 20

  /// Multiply-adds from which a LAPACK call runs on OpenBLAS's own threads
  /// (a factorisation of order 256 and up).
  static let largeProductWork = 1 << 24

  /// Calls `body` on blocks of rows or of columns of an m×n product whose
  /// inner dimension is k, concurrently when the product is large enough.
  ///
  /// The longer of the two output dimensions is split, into blocks of at
  /// least 32 rows or columns (a few of OpenBLAS's register tiles).
  @inline(__always)
  static func forEachBlock(
    m: Int, n: Int, k: Int, _ body: (_ rows: Range<Int>, _ columns: Range<Int>) -> Void
  ) {
    _ = configure
    guard Parallel.threadCount > 1, m * n * k >= minimumParallelWork, !Parallel.isInsideRegion else {
      body(0..<m, 0..<n)
      return
    }
    if n >= m {
      Parallel.forEachRange(count: n, grain: 32) { columns in body(0..<m, columns) }
    } else {
      Parallel.forEachRange(count: m, grain: 32) { rows in body(rows, 0..<n) }
    }
  }

  /// Runs a LAPACK call of about `work` multiply-adds with OpenBLAS's own
  /// threads when it is large enough to use them, and one thread otherwise.
  @inline(__always)
  static func withLibraryThreads<Result>(work: Int, _ body: () -> Result) -> Result {
    _ = configure
    guard let setThreads, libraryThreads > 1, work >= largeProductWork else { return body() }
    // FlowTensor's idle workers spin for a while after each region; on
    // the same cores as OpenBLAS's threads they slowed a rectangular-flow
    // step that mixes large products with elementwise regions (d = 20,
    // exact: 86 ms on two threads against 71 on one).
    if !Parallel.isInsideRegion { flow_pool_park() }
    setThreads(Int32(libraryThreads))
    defer {
      setThreads(1)
      // Otherwise its workers spin on sched_yield for ~0.1 s after the
      // call, on the pool's cores (`_FlowKernels/LibraryThreads.c`).
      flow_library_threads_shutdown()
    }
    return body()
  }
}
