import FlowTensor
import XCTest
import _TestSupport

final class DeflateTests: XCTestCase {
  /// Reference values from Python: `hex(zlib.crc32(b"..."))`.
  func testCRC32MatchesReferenceValues() {
    XCTAssertEqual(Deflate.crc32(Array("IEND".utf8)), 0xAE42_6082)
    XCTAssertEqual(Deflate.crc32(Array("IHDR".utf8)), 0xA8A1_AE0A)
    XCTAssertEqual(Deflate.crc32([UInt8]()), 0)
    XCTAssertEqual(Deflate.crc32(Array("a".utf8)), 0xE8B7_BE43)
    XCTAssertEqual(Deflate.crc32(Array("The quick brown fox jumps over the lazy dog".utf8)), 0x414F_A339)
  }

  func testCRC32ContinuesAcrossPieces() {
    let text = Array("The quick brown fox jumps over the lazy dog".utf8)
    XCTAssertEqual(Deflate.crc32(text[..<10]), 0xA3EC_1434)
    let whole = Deflate.crc32(text[10...], initial: Deflate.crc32(text[..<10]))
    XCTAssertEqual(whole, 0x414F_A339)
    // An empty piece leaves a running checksum alone.
    XCTAssertEqual(Deflate.crc32([UInt8](), initial: 0x414F_A339), 0x414F_A339)
  }

  /// Reference values from Python: `hex(zlib.adler32(b"..."))`.
  func testAdler32MatchesReferenceValues() {
    XCTAssertEqual(Deflate.adler32([UInt8]()), 1)
    XCTAssertEqual(Deflate.adler32(Array("a".utf8)), 0x0062_0062)
    XCTAssertEqual(Deflate.adler32(Array("IEND".utf8)), 0x02D7_0121)
    XCTAssertEqual(Deflate.adler32(Array("The quick brown fox jumps over the lazy dog".utf8)), 0x5BDC_0FDA)
  }

  func testRoundTripThroughUncompress() throws {
    var generator = SeededGenerator(seed: 6)
    let random = (0..<5000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    let repetitive = (0..<20000).map { UInt8($0 % 7) }
    for bytes in [random, repetitive, [], [42]] {
      for level in [0, 1, 6, 9] {
        let stream = Deflate.zlibCompress(bytes, level: level)
        XCTAssertEqual(try Deflate.zlibDecompress(stream, decompressedCount: bytes.count), bytes, "level \(level)")
      }
    }
    XCTAssertLessThan(Deflate.zlibCompress(repetitive).count, 500)
  }

  /// RFC 1950: the stream starts with CMF = 0x78 (deflate, 32 KiB window),
  /// CMF·256 + FLG is a multiple of 31, and it ends with the Adler-32 of the
  /// data, big-endian.
  func testStreamFraming() {
    let bytes = Array("The quick brown fox jumps over the lazy dog".utf8)
    let stream = Deflate.zlibCompress(bytes)
    XCTAssertEqual(stream[0], 0x78)
    XCTAssertEqual((Int(stream[0]) * 256 + Int(stream[1])) % 31, 0)
    let trailer = stream.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    XCTAssertEqual(trailer, 0x5BDC_0FDA)
  }

  func testCorruptStreamsThrow() {
    let bytes = Array(repeating: UInt8(9), count: 100)
    var stream = Deflate.zlibCompress(bytes)
    XCTAssertThrowsError(try Deflate.zlibDecompress(stream, decompressedCount: 99))
    XCTAssertThrowsError(try Deflate.zlibDecompress(stream, decompressedCount: 101))
    stream[stream.count - 1] ^= 0xFF  // breaks the Adler-32 trailer
    XCTAssertThrowsError(try Deflate.zlibDecompress(stream, decompressedCount: 100)) { error in
      XCTAssertTrue(String(describing: error).contains("zlibDecompress"), "\(error)")
    }
    XCTAssertThrowsError(try Deflate.zlibDecompress([1, 2, 3], decompressedCount: 3))
  }
}
