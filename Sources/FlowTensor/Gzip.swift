import CZlib
import Foundation

/// Why a compressed stream could not be inflated.
public enum GzipError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The input ended before the stream's end marker (a cut download, a
  /// file still being written).
  case truncated
  /// zlib rejected the bytes: not gzip or zlib data, or corrupted; holds
  /// zlib's message.
  case corrupt(String)
  /// zlib could not start or run (out of memory, version mismatch); holds
  /// zlib's return code.
  case zlibFailure(Int)

  public var description: String {
    switch self {
    case .truncated: return "the compressed stream ends early (truncated file)"
    case .corrupt(let message): return "the compressed stream is corrupt (\(message))"
    case .zlibFailure(let code): return "zlib failed with code \(code)"
    }
  }
}

/// The bytes of a gzip (or zlib) stream, inflated.
///
/// zlib's `inflateInit2` with `windowBits = 15 + 32` detects the gzip or
/// zlib header itself (zlib.h). Concatenated gzip members, which `gzip`
/// writes for appended files, are inflated one after another.
///
/// - Parameter data: a whole gzip or zlib stream.
/// - Returns: the uncompressed bytes.
/// - Throws: `GzipError.truncated` if the stream ends early,
///   `GzipError.corrupt` if zlib rejects it.
/// - Complexity: O(compressed + uncompressed size).
public func gunzip(_ data: Data) throws -> Data {
  if data.isEmpty { throw GzipError.truncated }
  var output = Data()
  let chunkSize = 1 << 16
  var chunk = [UInt8](repeating: 0, count: chunkSize)
  try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
    var stream = z_stream()
    var status = inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else { throw GzipError.zlibFailure(Int(status)) }
    defer { inflateEnd(&stream) }
    stream.next_in = UnsafeMutablePointer(
      mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
    stream.avail_in = uInt(input.count)
    while true {
      status = chunk.withUnsafeMutableBufferPointer { buffer -> Int32 in
        stream.next_out = buffer.baseAddress
        stream.avail_out = uInt(chunkSize)
        let result = inflate(&stream, Z_NO_FLUSH)
        output.append(buffer.baseAddress!, count: chunkSize - Int(stream.avail_out))
        return result
      }
      switch status {
      case Z_OK:
        continue
      case Z_STREAM_END:
        // Skip trailing zero padding (tar-style); inflate another member otherwise.
        let remaining = UnsafeRawBufferPointer(
          start: UnsafeRawPointer(stream.next_in), count: Int(stream.avail_in))
        if remaining.allSatisfy({ $0 == 0 }) { return }
        status = inflateReset(&stream)
        guard status == Z_OK else { throw GzipError.zlibFailure(Int(status)) }
      case Z_BUF_ERROR:
        // No progress possible: all input consumed but the stream is not finished.
        throw GzipError.truncated
      case Z_DATA_ERROR, Z_NEED_DICT:
        let message = stream.msg.map { String(cString: $0) } ?? "invalid data"
        throw GzipError.corrupt(message)
      default:
        throw GzipError.zlibFailure(Int(status))
      }
    }
  }
  return output
}

/// The bytes compressed into one gzip member (RFC 1952), as `/usr/bin/gzip`
/// writes them; `gunzip` inverts it.
///
/// - Parameters:
///   - data: the bytes to compress.
///   - level: zlib's compression level, 0 (store) … 9 (smallest); 6 as gzip.
///     Precondition: 0…9.
/// - Returns: the gzip stream.
/// - Complexity: O(size).
public func gzip(_ data: Data, level: Int = 6) -> Data {
  deflated(data, level: level, windowBits: 15 + 16)
}

// zlib streams (RFC 1950, PNG's IDAT) come from `Deflate.zlibCompress`.

private func deflated(_ data: Data, level: Int, windowBits: Int32) -> Data {
  precondition((0...9).contains(level), "gzip: compression level \(level) is outside 0…9")
  var output = Data()
  let chunkSize = 1 << 16
  var chunk = [UInt8](repeating: 0, count: chunkSize)
  data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
    var stream = z_stream()
    var status = deflateInit2_(
      &stream, Int32(level), Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY,
      zlibVersion(), Int32(MemoryLayout<z_stream>.size))
    precondition(status == Z_OK, "gzip: deflateInit2 failed with code \(status)")
    defer { deflateEnd(&stream) }
    // An empty Data may have no base address; zlib accepts a null pointer with 0 bytes.
    stream.next_in = input.baseAddress.map {
      UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self))
    }
    stream.avail_in = uInt(input.count)
    repeat {
      status = chunk.withUnsafeMutableBufferPointer { buffer -> Int32 in
        stream.next_out = buffer.baseAddress
        stream.avail_out = uInt(chunkSize)
        let result = deflate(&stream, Z_FINISH)
        output.append(buffer.baseAddress!, count: chunkSize - Int(stream.avail_out))
        return result
      }
      precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR,
        "gzip: deflate failed with code \(status)")
    } while status != Z_STREAM_END
  }
  return output
}
