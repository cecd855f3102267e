import Foundation

/// A cache of large, 64-byte-aligned buffers, reused across tensors.
///
/// Hot loops allocate temporaries of the same sizes on every step. Handing
/// each one fresh pages from the kernel costs a page fault per 4 KiB (on this
/// machine, PyTorch's CPU FFT path loses up to 4x to exactly that under
/// glibc's default malloc). Buffers of at least ``minimumPooledBytes`` are
/// therefore kept after their tensor dies, in buckets of power-of-two
/// capacity, up to ``capacityLimitBytes`` in all; smaller ones go straight
/// to `malloc`, which already recycles them.
///
/// Thread-safe: every bucket operation runs under one lock.
public final class BufferPool: @unchecked Sendable {
  /// The pool every tensor allocates from.
  public static let shared = BufferPool()

  /// Buffers smaller than this are not pooled.
  public static let minimumPooledBytes = 1 << 16

  /// The most bytes the pool keeps while they are unused. Settable with the
  /// environment variable `FLOWTENSOR_POOL_MB`.
  public let capacityLimitBytes: Int

  private let lock = NSLock()
  private var buckets: [Int: [UnsafeMutableRawPointer]] = [:]
  private var cachedBytes = 0

  init() {
    let megabytes = ProcessInfo.processInfo.environment["FLOWTENSOR_POOL_MB"].flatMap(Int.init) ?? 1024
    capacityLimitBytes = max(0, megabytes) << 20
  }

  /// The capacity a request of `byteCount` bytes is served with.
  static func bucketCapacity(for byteCount: Int) -> Int {
    if byteCount < minimumPooledBytes { return max(byteCount, 1) }
    return 1 << (Int.bitWidth - (byteCount - 1).leadingZeroBitCount)
  }

  /// Returns uninitialised memory of at least `byteCount` bytes, aligned to 64
  /// when pooled and to 16 otherwise.
  func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
    let capacity = Self.bucketCapacity(for: byteCount)
    if capacity >= Self.minimumPooledBytes {
      lock.lock()
      if let pointer = buckets[capacity]?.popLast() {
        cachedBytes -= capacity
        lock.unlock()
        return pointer
      }
      lock.unlock()
    }
    // Small buffers take malloc's 16-byte alignment (an aligned allocation
    // costs more than the op itself on 8-scalar tensors); pooled ones 64.
    return UnsafeMutableRawPointer.allocate(
      byteCount: capacity, alignment: capacity >= Self.minimumPooledBytes ? 64 : 16)
  }

  /// Gives back memory obtained from ``allocate(byteCount:)`` with the same count.
  func release(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
    let capacity = Self.bucketCapacity(for: byteCount)
    if capacity >= Self.minimumPooledBytes {
      lock.lock()
      if cachedBytes + capacity <= capacityLimitBytes {
        buckets[capacity, default: []].append(pointer)
        cachedBytes += capacity
        lock.unlock()
        return
      }
      lock.unlock()
    }
    pointer.deallocate()
  }

  /// Frees every cached buffer.
  public func drain() {
    lock.lock()
    let all = buckets.values.flatMap { $0 }
    buckets.removeAll()
    cachedBytes = 0
    lock.unlock()
    for pointer in all { pointer.deallocate() }
  }
}
