import Foundation
import FlowTensor
import XCTest
import _TestSupport

@testable import FlowModels

/// What `Fixtures/decode_png.py` (standard-library Python) reads back.
struct PNGReferenceDecoding: Decodable, Equatable {
  let width: Int
  let height: Int
  let colorType: Int
  let bitDepth: Int
  let channels: Int
  let chunks: [String]
  let filters: [Int]
  let pixels: [UInt8]

  /// Writes `data` to a temporary file and decodes it with the Python script.
  static func decode(_ data: Data, file: StaticString = #filePath, line: UInt = #line) throws -> Self {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("png-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("image.png")
    try data.write(to: url)
    let script = URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent()
      .appendingPathComponent("Fixtures/decode_png.py")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script.path, url.path]
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      let message = String(decoding: errorData, as: UTF8.self)
      XCTFail("decode_png.py rejected the file: \(message)", file: file, line: line)
      throw CocoaError(.fileReadCorruptFile)
    }
    return try JSONDecoder().decode(Self.self, from: outputData)
  }
}

final class PNGTests: XCTestCase {
  private func randomPixels(count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
  }

  /// A smooth gradient with a little noise: neighbours predict each other,
  /// so the adaptive strategy picks filters other than None.
  private func gradientPixels(width: Int, height: Int, channels: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    var pixels: [UInt8] = []
    for y in 0..<height {
      for x in 0..<width {
        for channel in 0..<channels {
          let noise = Int(generator.next() % 5)
          pixels.append(UInt8((x * 7 + y * 5 + channel * 40 + noise) % 256))
        }
      }
    }
    return pixels
  }

  func testSignatureHeaderAndChunkCRCs() {
    let image = PNGImage(width: 2, height: 2, colorType: .grayscale, pixels: [10, 20, 30, 35])
    let bytes = [UInt8](image.data())
    XCTAssertEqual(Array(bytes[0..<8]), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    // IHDR: length 13, "IHDR", width 2, height 2, depth 8, gray, 0, 0, 0.
    XCTAssertEqual(
      Array(bytes[8..<33]),
      [0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 2, 0, 0, 0, 2, 8, 0, 0, 0, 0] + [0x57, 0xDD, 0x52, 0xF8])
    // Python: hex(zlib.crc32(b"IHDR" + struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0))) == 0x57dd52f8.
    XCTAssertEqual(Array(bytes[33..<37]), bigEndian(UInt32(bytes.count - 33 - 12 - 12)))
    XCTAssertEqual(String(decoding: bytes[37..<41], as: UTF8.self), "IDAT")
    let idatLength = bytes.count - 33 - 12 - 12
    let idatCRC = Deflate.crc32(bytes[37..<(41 + idatLength)])
    XCTAssertEqual(Array(bytes[(41 + idatLength)..<(45 + idatLength)]), bigEndian(idatCRC))
    // IEND: empty, and its CRC is the CRC of "IEND" alone.
    XCTAssertEqual(Array(bytes.suffix(12)), [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])
  }

  func testRGBHeaderFields() {
    let image = PNGImage(width: 3, height: 1, colorType: .rgb, pixels: Array(0..<9))
    let bytes = [UInt8](image.data())
    // Python: hex(zlib.crc32(b"IHDR" + struct.pack(">IIBBBBB", 3, 1, 8, 2, 0, 0, 0))) == 0x948283e3.
    XCTAssertEqual(Array(bytes[16..<33]), [0, 0, 0, 3, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x94, 0x82, 0x83, 0xE3])
  }

  /// Hand-filtered (specification §9.2). Row 0: Sub costs 10 + 10 = 20,
  /// less than None (30), Up (30), Average (10 + 15) and Paeth (equal to
  /// Sub, and Sub comes first). Row 1 under [10, 20]: Paeth predicts 10
  /// (b) then 30 (a), leaving 20 + 5 = 25, less than Sub (35), Up (35),
  /// Average (35), None (65).
  func testHandCheckedScanlinesOfTwoByTwoGrayscale() throws {
    let image = PNGImage(width: 2, height: 2, colorType: .grayscale, pixels: [10, 20, 30, 35])
    XCTAssertEqual(image.filteredScanlines(.none), [0, 10, 20, 0, 30, 35])
    XCTAssertEqual(image.filteredScanlines(.minimumSumOfAbsoluteDifferences), [1, 10, 10, 4, 20, 5])
    let decoded = try PNGReferenceDecoding.decode(image.data())
    XCTAssertEqual(decoded.filters, [1, 4])
    XCTAssertEqual(decoded.pixels, [10, 20, 30, 35])
    XCTAssertEqual(try PNGReferenceDecoding.decode(image.data(filter: .none)).filters, [0, 0])
  }

  func testPythonDecoderReadsEveryColorTypeAndStrategy() throws {
    var filtersSeen = Set<Int>()
    for colorType in PNGImage.ColorType.allCases {
      for (width, height) in [(1, 1), (7, 5), (13, 3), (1, 9)] {
        let count = width * height * colorType.channels
        for (index, pixels) in [
          randomPixels(count: count, seed: UInt64(count)),
          gradientPixels(width: width, height: height, channels: colorType.channels, seed: 3),
        ].enumerated() {
          let image = PNGImage(width: width, height: height, colorType: colorType, pixels: pixels)
          for filter in [PNGImage.FilterStrategy.none, .minimumSumOfAbsoluteDifferences] {
            let decoded = try PNGReferenceDecoding.decode(image.data(filter: filter, compressionLevel: index * 9))
            let label = "\(colorType) \(width)×\(height) \(filter)"
            XCTAssertEqual(decoded.width, width, label)
            XCTAssertEqual(decoded.height, height, label)
            XCTAssertEqual(decoded.colorType, Int(colorType.rawValue), label)
            XCTAssertEqual(decoded.bitDepth, 8, label)
            XCTAssertEqual(decoded.chunks, ["IHDR", "IDAT", "IEND"], label)
            XCTAssertEqual(decoded.pixels, pixels, label)
            filtersSeen.formUnion(decoded.filters)
          }
        }
      }
    }
    XCTAssertTrue(filtersSeen.isSuperset(of: [0, 1, 2, 4]), "filters chosen: \(filtersSeen.sorted())")
  }

  /// Each filter type forced on every row of an RGB image, assembled from
  /// the encoder's pieces, decodes to the original pixels.
  func testEveryFilterTypeInvertsInTheReferenceDecoder() throws {
    let (width, height, channels) = (6, 4, 3)
    let pixels = randomPixels(count: width * height * channels, seed: 11)
    for filter in PNGFilter.allCases {
      var scanlines: [UInt8] = []
      var filtered = [UInt8](repeating: 0, count: width * channels)
      let zeros = [UInt8](repeating: 0, count: width * channels)
      pixels.withUnsafeBufferPointer { all in
        zeros.withUnsafeBufferPointer { zeroRow in
          for y in 0..<height {
            let row = UnsafeBufferPointer(rebasing: all[(y * width * channels)..<((y + 1) * width * channels)])
            let above = y == 0 ? zeroRow : UnsafeBufferPointer(rebasing: all[((y - 1) * width * channels)..<(y * width * channels)])
            PNGFilter.apply(filter, row: row, above: above, bytesPerPixel: channels, into: &filtered)
            scanlines.append(filter.rawValue)
            scanlines += filtered
          }
        }
      }
      var file = PNGImage.signature
      PNGImage.appendChunk(type: "IHDR", data: [0, 0, 0, 6, 0, 0, 0, 4, 8, 2, 0, 0, 0], to: &file)
      PNGImage.appendChunk(type: "IDAT", data: Deflate.zlibCompress(scanlines), to: &file)
      PNGImage.appendChunk(type: "IEND", data: [], to: &file)
      let decoded = try PNGReferenceDecoding.decode(Data(file))
      XCTAssertEqual(decoded.filters, Array(repeating: Int(filter.rawValue), count: height), "\(filter)")
      XCTAssertEqual(decoded.pixels, pixels, "\(filter)")
    }
  }

  /// Specification §9.4's tie order: a, then b, then c.
  func testPaethPredictor() {
    XCTAssertEqual(PNGFilter.paethPredictor(10, 10, 10), 10)
    XCTAssertEqual(PNGFilter.paethPredictor(0, 10, 0), 10)  // p = 10: b exact
    XCTAssertEqual(PNGFilter.paethPredictor(30, 20, 10), 30)  // p = 40: a nearest
    XCTAssertEqual(PNGFilter.paethPredictor(5, 200, 210), 5)  // p = -5: a nearest
    XCTAssertEqual(PNGFilter.paethPredictor(100, 50, 60), 100)  // p = 90: a at 10, b at 40
    XCTAssertEqual(PNGFilter.paethPredictor(50, 100, 60), 100)  // p = 90: b at 10
    XCTAssertEqual(PNGFilter.paethPredictor(20, 30, 25), 25)  // p = 25: c exact
  }

  func testWriteReplacesTheFileAtomically() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("png-write-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("out.png")
    try Data("old contents".utf8).write(to: url)
    let image = PNGImage(width: 3, height: 2, colorType: .rgba, pixels: randomPixels(count: 24, seed: 5))
    try image.write(to: url)
    XCTAssertEqual(try Data(contentsOf: url), image.data())
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["out.png"])
    XCTAssertThrowsError(try image.write(to: directory.appendingPathComponent("missing/out.png")))
  }

  private func bigEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
  }
}
