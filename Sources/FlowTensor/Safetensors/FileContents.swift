import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// POSIX `read(2)`, which the `read` members here would otherwise shadow.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
  #if canImport(Glibc)
    return Glibc.read(descriptor, buffer, count)
  #elseif canImport(Musl)
    return Musl.read(descriptor, buffer, count)
  #else
    return Darwin.read(descriptor, buffer, count)
  #endif
}

/// Reads whole files with POSIX calls: the bytes are copied, never mapped
/// (a mapped file truncated by another process would crash the reader), and
/// failures carry the system's reason ("No such file or directory").
enum FileContents {
  /// The bytes of the file at `url`.
  /// - Throws: ``SafetensorsError/cannotRead(path:reason:)``.
  static func read(_ url: URL) throws -> Data {
    let path = url.path
    func failure(_ action: String? = nil) -> SafetensorsError {
      let reason = String(cString: strerror(errno))
      return SafetensorsError.cannotRead(path: path, reason: action.map { "\($0): \(reason)" } ?? reason)
    }
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw failure() }
    defer { close(descriptor) }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else { throw failure("fstat") }
    guard (status.st_mode & S_IFMT) == S_IFREG else {
      throw SafetensorsError.cannotRead(path: path, reason: "not a regular file")
    }
    var contents = Data()
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress!, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        throw failure("read")
      }
      if count == 0 { return contents }
      contents.append(contentsOf: chunk[..<count])
    }
  }
}
