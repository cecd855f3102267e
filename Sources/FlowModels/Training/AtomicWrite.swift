import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// POSIX `write(2)`, which `AtomicWrite.write` would otherwise shadow.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
  #if canImport(Glibc)
    return Glibc.write(descriptor, buffer, count)
  #else
    return Darwin.write(descriptor, buffer, count)
  #endif
}

/// Writes a file so that the previous one survives any failure: the bytes
/// go to a temporary file in the same directory, which is fsync'ed and then
/// renamed over the target (rename(2) is atomic within a file system), and
/// the directory is fsync'ed so that the rename is durable.
enum AtomicWrite {
  /// Where a test makes a save fail, to check that the previous file survives.
  enum Failure: Equatable {
    /// After the temporary file holds half the bytes.
    case afterPartialWrite
    /// After the temporary file is complete and synced, before the rename.
    case beforeRename
  }

  /// Test hook: when set, the next writes fail at that point.
  nonisolated(unsafe) static var injectedFailure: Failure?

  /// Writes `data` to `url`.
  /// - Throws: ``TrainingError/cannotSaveCheckpoint(path:reason:)``; the
  ///   temporary file is removed and the previous file at `url` is untouched.
  static func write(_ data: Data, to url: URL) throws {
    let target = url.standardizedFileURL
    let directory = target.deletingLastPathComponent()
    let temporary = directory.appendingPathComponent(
      ".\(target.lastPathComponent).\(String(UInt64.random(in: .min ... .max), radix: 16)).tmp").path
    func failure(_ action: String) -> TrainingError {
      .cannotSaveCheckpoint(path: target.path, reason: "\(action): \(String(cString: strerror(errno)))")
    }
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw failure("cannot create a temporary file in \(directory.path)") }
    var isOpen = true
    do {
      try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
        let partial = injectedFailure == .afterPartialWrite
        let limit = partial ? bytes.count / 2 : bytes.count
        var offset = 0
        while offset < limit {
          let written = systemWrite(descriptor, bytes.baseAddress! + offset, limit - offset)
          if written < 0 {
            if errno == EINTR { continue }
            throw failure("writing \(temporary)")
          }
          offset += written
        }
        if partial {
          errno = EIO
          throw failure("writing \(temporary) (injected failure)")
        }
      }
      guard fsync(descriptor) == 0 else { throw failure("syncing \(temporary)") }
      isOpen = false
      guard close(descriptor) == 0 else { throw failure("closing \(temporary)") }
      if injectedFailure == .beforeRename {
        errno = EIO
        throw failure("renaming \(temporary) (injected failure)")
      }
      guard rename(temporary, target.path) == 0 else { throw failure("renaming \(temporary) over it") }
    } catch {
      if isOpen { close(descriptor) }
      unlink(temporary)
      throw error
    }
    let directoryDescriptor = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard directoryDescriptor >= 0 else { throw failure("written, but cannot open the directory to sync it") }
    defer { close(directoryDescriptor) }
    guard fsync(directoryDescriptor) == 0 else { throw failure("written, but syncing the directory failed") }
  }
}
