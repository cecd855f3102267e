/// Where a storage's scalars live.
@usableFromInline
struct TensorStorageHeader<Scalar> {
  /// The first scalar: the tail of the object for small storages, a
  /// ``BufferPool`` buffer for large ones.
  @usableFromInline let base: UnsafeMutablePointer<Scalar>
  /// The number of scalars.
  @usableFromInline let count: Int
  /// Whether `base` came from the pool (and goes back to it).
  @usableFromInline let pooled: Bool
}

/// The heap buffer behind a ``Tensor``: `count` contiguous scalars.
///
/// Tensors share a storage until one of them writes, then copy
/// (copy-on-write, checked by `isKnownUniquelyReferenced`). Storages below
/// ``BufferPool/minimumPooledBytes`` keep their scalars in the object's own
/// allocation (one `malloc` per tensor instead of two, which is most of the
/// cost of an op on a few scalars); larger ones take a 64-byte-aligned
/// buffer from ``BufferPool`` and give it back when freed.
@usableFromInline
final class TensorStorage<Scalar: TensorScalar>: ManagedBuffer<TensorStorageHeader<Scalar>, Scalar> {
  /// The first scalar.
  @inlinable var base: UnsafeMutablePointer<Scalar> { header.base }
  /// The number of scalars.
  @inlinable var count: Int { header.count }

  /// A buffer of `count` scalars whose contents are undefined.
  @usableFromInline
  static func make(uninitializedCount count: Int) -> TensorStorage {
    precondition(count >= 0, "TensorStorage: negative scalar count \(count)")
    let bytes = count * MemoryLayout<Scalar>.stride
    let storage: ManagedBuffer<TensorStorageHeader<Scalar>, Scalar>
    if bytes >= BufferPool.minimumPooledBytes {
      let raw = BufferPool.shared.allocate(byteCount: bytes)
      storage = create(minimumCapacity: 0) { _ in
        TensorStorageHeader(base: raw.bindMemory(to: Scalar.self, capacity: count), count: count, pooled: true)
      }
    } else {
      storage = create(minimumCapacity: Swift.max(count, 1)) { buffer in
        TensorStorageHeader(
          base: buffer.withUnsafeMutablePointerToElements { $0 }, count: count, pooled: false)
      }
    }
    return unsafeDowncast(storage, to: TensorStorage.self)
  }

  /// A buffer of `count` copies of `value`.
  @usableFromInline
  static func make(repeating value: Scalar, count: Int) -> TensorStorage {
    let storage = make(uninitializedCount: count)
    storage.base.initialize(repeating: value, count: count)
    return storage
  }

  /// A copy of `other`'s scalars.
  @usableFromInline
  static func make(copying other: TensorStorage) -> TensorStorage {
    let storage = make(uninitializedCount: other.count)
    storage.base.update(from: other.base, count: other.count)
    return storage
  }

  deinit {
    // Scalars are trivial: nothing to deinitialise, only pooled memory to return.
    if header.pooled {
      BufferPool.shared.release(UnsafeMutableRawPointer(header.base), byteCount: header.count * MemoryLayout<Scalar>.stride)
    }
  }
}
