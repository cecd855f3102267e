import CZlib

/// zlib's deflate and checksums behind a Swift API, so modules above
/// FlowTensor (the PNG encoder in FlowModels) never touch C.
public enum Deflate {
  /// A failure reported by zlib.
  public struct Failure: Error, CustomStringConvertible, Equatable {
    /// zlib's return code (`Z_DATA_ERROR`, `Z_BUF_ERROR`, …).
    public let code: Int
    /// What was being done.
    public let operation: String

    public var description: String { "\(operation): zlib error \(code)" }
  }

  /// Compresses `bytes` into a zlib stream (RFC 1950: a 2-byte header,
  /// deflate data, an Adler-32 trailer), as PNG's IDAT chunks hold.
  /// - Parameters:
  ///   - bytes: the data to compress; may be empty.
  ///   - level: 0 (store) … 9 (smallest); precondition: in 0…9.
  /// - Returns: the zlib stream.
  /// - Complexity: O(n).
  public static func zlibCompress(_ bytes: [UInt8], level: Int = 6) -> [UInt8] {
    precondition((0...9).contains(level), "Deflate.zlibCompress: level \(level) is outside 0...9")
    var capacity = compressBound(uLong(bytes.count))
    var output = [UInt8](repeating: 0, count: Int(capacity))
    let status = output.withUnsafeMutableBufferPointer { destination in
      bytes.withUnsafeBufferPointer { source in
        compress2(destination.baseAddress, &capacity, source.baseAddress, uLong(source.count), Int32(level))
      }
    }
    // compressBound guarantees room and the arguments are valid, so any
    // other status is a broken zlib.
    precondition(status == Z_OK, "Deflate.zlibCompress: compress2 returned \(status)")
    output.removeSubrange(Int(capacity)...)
    return output
  }

  /// Decompresses a zlib stream whose decompressed size is known.
  /// - Parameters:
  ///   - stream: a zlib stream (RFC 1950).
  ///   - decompressedCount: the exact number of bytes it holds.
  /// - Returns: the decompressed bytes.
  /// - Throws: ``Failure`` if the stream is corrupt or its size differs.
  public static func zlibDecompress(_ stream: [UInt8], decompressedCount: Int) throws -> [UInt8] {
    precondition(decompressedCount >= 0, "Deflate.zlibDecompress: negative size \(decompressedCount)")
    // One spare byte tells "exactly this size" apart from "larger".
    var length = uLong(decompressedCount + 1)
    var output = [UInt8](repeating: 0, count: decompressedCount + 1)
    let status = output.withUnsafeMutableBufferPointer { destination in
      stream.withUnsafeBufferPointer { source in
        uncompress(destination.baseAddress, &length, source.baseAddress, uLong(source.count))
      }
    }
    guard status == Z_OK else { throw Failure(code: Int(status), operation: "zlibDecompress") }
    guard Int(length) == decompressedCount else {
      throw Failure(code: Int(Z_DATA_ERROR), operation: "zlibDecompress: \(length) bytes, expected \(decompressedCount)")
    }
    output.removeLast()
    return output
  }

  /// The CRC-32 of `bytes` (ISO 3309, as PNG chunks and gzip use),
  /// continuing from `initial` so a checksum can be built up in pieces.
  /// - Complexity: O(n).
  public static func crc32<Bytes: Sequence>(_ bytes: Bytes, initial: UInt32 = 0) -> UInt32
  where Bytes.Element == UInt8 {
    let contiguous = Array(bytes)
    // zlib returns its initial value for a null buffer, not `initial`.
    if contiguous.isEmpty { return initial }
    return contiguous.withUnsafeBufferPointer { buffer in
      UInt32(CZlib.crc32(uLong(initial), buffer.baseAddress, uInt(buffer.count)))
    }
  }

  /// The Adler-32 of `bytes` (RFC 1950), continuing from `initial`.
  /// - Complexity: O(n).
  public static func adler32<Bytes: Sequence>(_ bytes: Bytes, initial: UInt32 = 1) -> UInt32
  where Bytes.Element == UInt8 {
    let contiguous = Array(bytes)
    if contiguous.isEmpty { return initial }
    return contiguous.withUnsafeBufferPointer { buffer in
      UInt32(CZlib.adler32(uLong(initial), buffer.baseAddress, uInt(buffer.count)))
    }
  }
}
