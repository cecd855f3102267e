import FlowTensor
import Foundation
import XCTest

final class GzipTests: XCTestCase {
  private func randomBytes(count: Int, seed: UInt64) -> Data {
    var generator = SeededGenerator(seed: seed)
    // Few distinct values, so the data compresses and the stream has
    // several deflate blocks.
    return Data((0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next() % 7) })
  }

  /// Runs `/usr/bin/gzip` with `arguments`, feeding `input`.
  private func runGzipTool(_ arguments: [String], input: Data) throws -> Data {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("GzipTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let inputURL = directory.appendingPathComponent("input")
    let outputURL = directory.appendingPathComponent("output")
    try input.write(to: inputURL)
    _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
    process.arguments = arguments
    process.standardInput = try FileHandle(forReadingFrom: inputURL)
    process.standardOutput = try FileHandle(forWritingTo: outputURL)
    try process.run()
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0, "gzip \(arguments) failed")
    return try Data(contentsOf: outputURL)
  }

  func testRoundTripOfEmptySmallAndLargeInputs() throws {
    for data in [Data(), Data([42]), Data("hello, flows".utf8), randomBytes(count: 300_000, seed: 1)] {
      for level in [0, 1, 6, 9] {
        XCTAssertEqual(try gunzip(gzip(data, level: level)), data, "\(data.count) bytes at level \(level)")
      }
      XCTAssertEqual(try gunzip(Data(Deflate.zlibCompress([UInt8](data)))), data, "zlib stream of \(data.count) bytes")
    }
  }

  func testGzipStreamsHaveTheGzipHeaderAndZlibStreamsTheZlibHeader() {
    let gzipped = gzip(Data("abc".utf8))
    XCTAssertEqual(Array(gzipped.prefix(3)), [0x1f, 0x8b, 0x08])
    let zlibbed = Data(Deflate.zlibCompress(Array("abc".utf8)))
    // RFC 1950: CMF 0x78 (deflate, 32 KiB window); CMF·256 + FLG is a multiple of 31.
    XCTAssertEqual(zlibbed.first, 0x78)
    XCTAssertEqual((Int(zlibbed[0]) * 256 + Int(zlibbed[1])) % 31, 0)
  }

  func testInteroperatesWithTheGzipTool() throws {
    let data = randomBytes(count: 100_000, seed: 2)
    XCTAssertEqual(try runGzipTool(["-dc"], input: gzip(data)), data)
    XCTAssertEqual(try gunzip(runGzipTool(["-c", "-9"], input: data)), data)
  }

  func testConcatenatedMembersInflateInOrder() throws {
    let first = Data("first member, ".utf8)
    let second = randomBytes(count: 5_000, seed: 3)
    XCTAssertEqual(try gunzip(gzip(first) + gzip(second)), first + second)
  }

  func testTruncatedStreamsThrowTruncated() {
    let gzipped = gzip(randomBytes(count: 50_000, seed: 4))
    for keep in [0, 1, 10, gzipped.count / 2, gzipped.count - 1] {
      XCTAssertThrowsError(try gunzip(gzipped.prefix(keep)), "kept \(keep) of \(gzipped.count) bytes") {
        XCTAssertEqual($0 as? GzipError, .truncated)
      }
    }
  }

  func testCorruptStreamsThrowCorruptWithZlibsMessage() {
    let notCompressed = Data("this is plain text, not a compressed stream".utf8)
    XCTAssertThrowsError(try gunzip(notCompressed)) {
      guard case .corrupt(let message)? = $0 as? GzipError else { return XCTFail("\($0)") }
      XCTAssertEqual(message, "incorrect header check")
    }
    // A flipped byte in the CRC-32 trailer (RFC 1952) fails the data check.
    var gzipped = gzip(Data("checksummed".utf8))
    gzipped[gzipped.count - 6] ^= 0xff
    XCTAssertThrowsError(try gunzip(gzipped)) {
      XCTAssertEqual($0 as? GzipError, .corrupt("incorrect data check"))
    }
  }

  func testErrorDescriptionsSayWhatWentWrong() {
    XCTAssertEqual(GzipError.truncated.description, "the compressed stream ends early (truncated file)")
    XCTAssertEqual(GzipError.corrupt("incorrect header check").description,
      "the compressed stream is corrupt (incorrect header check)")
  }
}
