import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// POSIX `write(2)`, which the `write` members here would otherwise shadow.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
  #if canImport(Glibc)
    return Glibc.write(descriptor, buffer, count)
  #elseif canImport(Musl)
    return Musl.write(descriptor, buffer, count)
  #else
    return Darwin.write(descriptor, buffer, count)
  #endif
}

/// Replaces a file so that a reader, or the disk after a crash, sees either
/// the old contents or the new ones, never a mix: write a temporary file in
/// the same directory, fsync it, rename it over the target, fsync the
/// directory so the rename itself is durable.
enum AtomicFile {
  /// Points where a test can make a save fail, to check the old file survives.
  enum Step: Equatable {
    /// The temporary file holds the first chunk only.
    case partiallyWritten
    /// The temporary file is complete and synced, not yet renamed.
    case synced
  }

  /// Writes the bytes `produce` hands out, chunk by chunk, to `url`.
  /// - Parameters:
  ///   - interruption: called at each ``Step``; a throw aborts the save there.
  ///   - produce: calls its argument with each chunk, in order.
  /// - Throws: ``SafetensorsError/cannotWrite(path:reason:)``, or what
  ///   `produce` or `interruption` throw. The temporary file is removed and
  ///   the previous file at `url` is untouched unless the rename happened.
  static func write(
    to url: URL,
    interruption: @escaping (Step) throws -> Void = { _ in },
    produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
  ) throws {
    let target = url.standardizedFileURL
    let directory = target.deletingLastPathComponent()
    let suffix = String(UInt64.random(in: .min ... .max), radix: 16)
    let temporary = directory.appendingPathComponent(".\(target.lastPathComponent).\(suffix).tmp").path
    func failure(_ action: String) -> SafetensorsError {
      let reason = String(cString: strerror(errno))
      return SafetensorsError.cannotWrite(path: target.path, reason: "\(action): \(reason)")
    }

    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw failure("cannot create the temporary file \(temporary)") }
    var isOpen = true
    do {
      var isFirstChunk = true
      try produce { chunk in
        var remaining = chunk
        while !remaining.isEmpty {
          let written = systemWrite(descriptor, remaining.baseAddress!, remaining.count)
          if written < 0 {
            if errno == EINTR { continue }
            throw failure("writing \(temporary)")
          }
          remaining = UnsafeRawBufferPointer(rebasing: remaining[written...])
        }
        if isFirstChunk {
          isFirstChunk = false
          try interruption(.partiallyWritten)
        }
      }
      guard fsync(descriptor) == 0 else { throw failure("syncing \(temporary)") }
      isOpen = false
      guard close(descriptor) == 0 else { throw failure("closing \(temporary)") }
      try interruption(.synced)
      guard rename(temporary, target.path) == 0 else { throw failure("renaming \(temporary) over it") }
    } catch {
      if isOpen { close(descriptor) }
      unlink(temporary)
      throw error
    }

    // Without this the rename may be lost in a crash even though the data
    // blocks are on disk.
    let directoryDescriptor = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard directoryDescriptor >= 0 else { throw failure("written, but cannot open the directory to sync it") }
    defer { close(directoryDescriptor) }
    guard fsync(directoryDescriptor) == 0 else { throw failure("written, but syncing the directory failed") }
  }
}
