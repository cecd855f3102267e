/// The heap buffer behind a ``Tensor``: `count` contiguous scalars.
///
/// Tensors share a storage until one of them writes, then copy
/// (copy-on-write, checked by `isKnownUniquelyReferenced`). Memory comes
/// from ``BufferPool``.
@usableFromInline
final class TensorStorage<Scalar: TensorScalar>: @unchecked Sendable {
  @usableFromInline let base: UnsafeMutablePointer<Scalar>
  @usableFromInline let count: Int

  /// A buffer of `count` scalars whose contents are undefined.
  @usableFromInline
  init(uninitializedCount count: Int) {
    precondition(count >= 0, "TensorStorage: negative scalar count \(count)")
    self.count = count
    let raw = BufferPool.shared.allocate(byteCount: count * MemoryLayout<Scalar>.stride)
    base = raw.bindMemory(to: Scalar.self, capacity: max(count, 1))
  }

  /// A buffer of `count` copies of `value`.
  @usableFromInline
  convenience init(repeating value: Scalar, count: Int) {
    self.init(uninitializedCount: count)
    base.initialize(repeating: value, count: count)
  }

  /// A copy of `other`'s scalars.
  @usableFromInline
  convenience init(copying other: TensorStorage) {
    self.init(uninitializedCount: other.count)
    base.update(from: other.base, count: count)
  }

  deinit {
    BufferPool.shared.release(UnsafeMutableRawPointer(base), byteCount: count * MemoryLayout<Scalar>.stride)
  }
}
