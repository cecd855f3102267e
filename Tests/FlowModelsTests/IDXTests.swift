import FlowModels
import FlowTensor
import Foundation
import XCTest

/// A temporary directory of hand-built IDX files, removed by the test's teardown.
private final class IDXScratchDirectory {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("IDXTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(at: url) }

  /// Writes `header` words big-endian, then `bytes`, gzipped if asked.
  @discardableResult
  func write(_ name: String, header: [UInt32], bytes: [UInt8], gzipped: Bool = true) throws -> URL {
    var data = Data()
    for word in header { withUnsafeBytes(of: word.bigEndian) { data.append(contentsOf: $0) } }
    data.append(contentsOf: bytes)
    let file = url.appendingPathComponent(name)
    try (gzipped ? gzip(data) : data).write(to: file)
    return file
  }
}

final class IDXTests: XCTestCase {
  private var scratch: IDXScratchDirectory!

  override func setUpWithError() throws { scratch = try IDXScratchDirectory() }
  override func tearDown() { scratch = nil }

  private func failure(of body: () throws -> Any) -> DatasetError? {
    do {
      _ = try body()
      XCTFail("expected a DatasetError")
      return nil
    } catch {
      guard let datasetError = error as? DatasetError else {
        XCTFail("expected a DatasetError, got \(error)")
        return nil
      }
      return datasetError
    }
  }

  func testReadsGzippedAndUncompressedImagesAndLabels() throws {
    let pixels = (0..<(3 * 2 * 4)).map { UInt8($0 * 10) }
    for gzipped in [true, false] {
      let images = try scratch.write("images-\(gzipped)", header: [0x803, 3, 2, 4], bytes: pixels, gzipped: gzipped)
      let labels = try scratch.write("labels-\(gzipped)", header: [0x801, 3], bytes: [7, 0, 9], gzipped: gzipped)
      XCTAssertEqual(try IDXArray.read(at: images, rank: 3), IDXArray(dimensions: [3, 2, 4], bytes: pixels))
      XCTAssertEqual(try IDXArray.read(at: labels, rank: 1), IDXArray(dimensions: [3], bytes: [7, 0, 9]))
      let dataset = try ImageDataset(imagesAt: images, labelsAt: labels, classCount: 10)
      XCTAssertEqual(dataset.shape, [3, 1, 2, 4])
      XCTAssertEqual(dataset.pixels, pixels)
      XCTAssertEqual(dataset.labels, [7, 0, 9])
    }
  }

  func testEncodedIsReadBackUnchanged() throws {
    let array = IDXArray(dimensions: [2, 3, 1], bytes: [1, 2, 3, 250, 251, 255])
    let file = scratch.url.appendingPathComponent("encoded")
    try array.encoded().write(to: file)
    XCTAssertEqual(Array(array.encoded().prefix(4)), [0, 0, 8, 3])
    XCTAssertEqual(try IDXArray.read(at: file, rank: 3), array)
  }

  func testEmptyFilesOfZeroImagesAreValid() throws {
    let images = try scratch.write("images", header: [0x803, 0, 28, 28], bytes: [])
    let labels = try scratch.write("labels", header: [0x801, 0], bytes: [])
    let dataset = try ImageDataset(imagesAt: images, labelsAt: labels)
    XCTAssertEqual(dataset.shape, [0, 1, 28, 28])
  }

  func testMissingFile() throws {
    let missing = scratch.url.appendingPathComponent("nothing-here.gz")
    XCTAssertEqual(failure { try IDXArray.read(at: missing, rank: 3, provider: "ask Alice") },
      DatasetError(file: missing, reason: .missingFile, provider: "ask Alice"))
  }

  func testTruncatedGzip() throws {
    let file = try scratch.write("images", header: [0x803, 10, 28, 28], bytes: [UInt8](repeating: 3, count: 7840))
    let whole = try Data(contentsOf: file)
    try whole.prefix(whole.count - 9).write(to: file)
    XCTAssertEqual(failure { try IDXArray.read(at: file, rank: 3) }, DatasetError(file: file, reason: .truncatedGzip))
  }

  func testCorruptGzip() throws {
    let file = try scratch.write("labels", header: [0x801, 4], bytes: [1, 2, 3, 4])
    var bytes = try Data(contentsOf: file)
    bytes[bytes.count - 6] ^= 0xff  // in the CRC-32 trailer
    try bytes.write(to: file)
    XCTAssertEqual(failure { try IDXArray.read(at: file, rank: 1) },
      DatasetError(file: file, reason: .corruptGzip("incorrect data check")))
  }

  func testBadMagic() throws {
    let labels = try scratch.write("labels", header: [0x801, 2], bytes: [1, 2])
    XCTAssertEqual(failure { try IDXArray.read(at: labels, rank: 3) },
      DatasetError(file: labels, reason: .badMagic(found: 0x801, expected: 0x803)))
    // Signed 32-bit integers (type code 0x0c) are not unsigned bytes.
    let integers = try scratch.write("integers", header: [0xc01, 1], bytes: [0, 0, 0, 1])
    XCTAssertEqual(failure { try IDXArray.read(at: integers, rank: 1) },
      DatasetError(file: integers, reason: .badMagic(found: 0xc01, expected: 0x801)))
    let tiny = try scratch.write("tiny", header: [], bytes: [0, 8], gzipped: false)
    XCTAssertEqual(failure { try IDXArray.read(at: tiny, rank: 1) },
      DatasetError(file: tiny, reason: .badMagic(found: 0x0008, expected: 0x801)))
  }

  func testDataShorterOrLongerThanTheHeaderSays() throws {
    let short = try scratch.write("short", header: [0x803, 2, 3, 3], bytes: [UInt8](repeating: 0, count: 17))
    XCTAssertEqual(failure { try IDXArray.read(at: short, rank: 3) },
      DatasetError(file: short, reason: .sizeMismatch(dimensions: [2, 3, 3], expectedBytes: 18, actualBytes: 17)))
    let long = try scratch.write("long", header: [0x801, 2], bytes: [1, 2, 3], gzipped: false)
    XCTAssertEqual(failure { try IDXArray.read(at: long, rank: 1) },
      DatasetError(file: long, reason: .sizeMismatch(dimensions: [2], expectedBytes: 2, actualBytes: 3)))
    let headerCut = try scratch.write("header", header: [0x803, 2, 3], bytes: [])
    XCTAssertEqual(failure { try IDXArray.read(at: headerCut, rank: 3) },
      DatasetError(file: headerCut, reason: .sizeMismatch(dimensions: [], expectedBytes: 12, actualBytes: 8)))
  }

  func testLabelAndImageCountsMustAgree() throws {
    let images = try scratch.write("images", header: [0x803, 3, 2, 2], bytes: [UInt8](repeating: 1, count: 12))
    let labels = try scratch.write("labels", header: [0x801, 2], bytes: [0, 1])
    XCTAssertEqual(failure { try ImageDataset(imagesAt: images, labelsAt: labels, provider: "p") },
      DatasetError(file: labels, reason: .countMismatch(images: 3, labels: 2), provider: "p"))
  }

  func testLabelsOutsideTheClassesAreRejected() throws {
    let images = try scratch.write("images", header: [0x803, 3, 1, 1], bytes: [0, 1, 2])
    let labels = try scratch.write("labels", header: [0x801, 3], bytes: [9, 10, 255])
    XCTAssertEqual(failure { try ImageDataset(imagesAt: images, labelsAt: labels, classCount: 10) },
      DatasetError(file: labels, reason: .labelOutOfRange(index: 1, value: 10, classCount: 10)))
    // Without a class count any byte is a label.
    XCTAssertEqual(try ImageDataset(imagesAt: images, labelsAt: labels).labels, [9, 10, 255])
  }

  func testDefaultDatasetsNameTheirProvider() throws {
    let error = failure { try ImageDataset.fashionMNIST(split: .test, directory: self.scratch.url) }
    XCTAssertEqual(error?.file, scratch.url.appendingPathComponent("t10k-images-idx3-ubyte.gz"))
    XCTAssertEqual(error?.reason, .missingFile)
    XCTAssertEqual(error?.provider, "Fashion-MNIST: https://github.com/zalandoresearch/fashion-mnist")
    let mnistError = failure { try ImageDataset.mnist(split: .train, directory: self.scratch.url) }
    XCTAssertEqual(mnistError?.file, scratch.url.appendingPathComponent("train-images-idx3-ubyte.gz"))
    XCTAssertEqual(mnistError?.provider,
      "download MNIST's four .gz files from https://yann.lecun.com/exdb/mnist/ into \(scratch.url.path)")
  }

  func testErrorDescriptionsNameTheFileAndTheProvider() {
    let file = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
    XCTAssertEqual(
      DatasetError(file: file, reason: .missingFile, provider: ImageDataset.fashionMNISTProvider).description,
      "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz: no such file; "
        + "install Debian's dataset-fashion-mnist: sudo apt-get install dataset-fashion-mnist")
    let labels = URL(fileURLWithPath: "/data/labels.idx")
    XCTAssertEqual(DatasetError(file: labels, reason: .badMagic(found: 0x801, expected: 0x803)).description,
      "/data/labels.idx: not an IDX file of the expected kind: magic number 0x00000801, expected 0x00000803")
    XCTAssertEqual(
      DatasetError(file: labels, reason: .sizeMismatch(dimensions: [2, 3, 3], expectedBytes: 18, actualBytes: 17))
        .description,
      "/data/labels.idx: the header promises 2×3×3 = 18 bytes of data but the file holds 17")
    XCTAssertEqual(DatasetError(file: labels, reason: .countMismatch(images: 3, labels: 2)).description,
      "/data/labels.idx: 2 labels for 3 images")
    XCTAssertEqual(
      DatasetError(file: labels, reason: .labelOutOfRange(index: 1, value: 10, classCount: 10)).description,
      "/data/labels.idx: label 10 at position 1 is outside 0…9")
    XCTAssertEqual(DatasetError(file: labels, reason: .truncatedGzip).description,
      "/data/labels.idx: the gzip stream ends early (truncated file)")
  }
}
