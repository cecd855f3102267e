import FlowTensor
import Foundation

/// An array of unsigned bytes read from an IDX file (the MNIST format,
/// http://yann.lecun.com/exdb/mnist/): a big-endian header — two zero bytes,
/// the type code 0x08 (unsigned byte), the rank — then one big-endian
/// `UInt32` per dimension, then the bytes in row-major order.
public struct IDXArray: Equatable, Sendable {
  /// The dimensions from the header, e.g. `[count, rows, columns]`.
  public var dimensions: [Int]
  /// The data, row-major; `bytes.count` is the product of `dimensions`.
  public var bytes: [UInt8]

  /// The magic number of a rank-`rank` unsigned-byte IDX file: 0x00000801
  /// for labels (rank 1), 0x00000803 for images (rank 3).
  public static func magic(rank: Int) -> UInt32 { 0x0000_0800 | UInt32(rank) }

  /// An array from its parts. Precondition: `bytes.count` is the product
  /// of `dimensions`.
  public init(dimensions: [Int], bytes: [UInt8]) {
    precondition(dimensions.reduce(1, *) == bytes.count,
      "IDXArray: dimensions \(dimensions) need \(dimensions.reduce(1, *)) bytes, got \(bytes.count)")
    self.dimensions = dimensions
    self.bytes = bytes
  }

  /// Reads an unsigned-byte IDX file of the given rank, gzipped (detected
  /// by the gzip magic bytes 1f 8b) or not.
  ///
  /// - Parameters:
  ///   - url: the file.
  ///   - rank: the rank the file must have: 3 for images, 1 for labels.
  ///   - provider: how to get the file, quoted in any error.
  /// - Returns: the array.
  /// - Throws: `DatasetError` for a missing, unreadable, truncated or
  ///   corrupt file, a wrong magic number, or data shorter or longer than
  ///   the header says.
  /// - Complexity: O(file size).
  public static func read(at url: URL, rank: Int, provider: String? = nil) throws -> IDXArray {
    func failure(_ reason: DatasetError.Reason) -> DatasetError {
      DatasetError(file: url, reason: reason, provider: provider)
    }
    guard FileManager.default.fileExists(atPath: url.path) else { throw failure(.missingFile) }
    var contents: Data
    do {
      contents = try Data(contentsOf: url)
    } catch {
      throw failure(.unreadable(error.localizedDescription))
    }
    if contents.count >= 2, contents[contents.startIndex] == 0x1f, contents[contents.startIndex + 1] == 0x8b {
      do {
        contents = try gunzip(contents)
      } catch GzipError.truncated {
        throw failure(.truncatedGzip)
      } catch GzipError.corrupt(let message) {
        throw failure(.corruptGzip(message))
      } catch {
        throw failure(.corruptGzip("\(error)"))
      }
    }
    return try parse([UInt8](contents), rank: rank, failure: failure)
  }

  /// The IDX encoding of this array (uncompressed), as `read` expects it.
  ///
  /// - Returns: the header and the bytes.
  /// - Complexity: O(count).
  public func encoded() -> Data {
    var data = Data()
    func append(_ word: UInt32) {
      withUnsafeBytes(of: word.bigEndian) { data.append(contentsOf: $0) }
    }
    append(Self.magic(rank: dimensions.count))
    for dimension in dimensions { append(UInt32(dimension)) }
    data.append(contentsOf: bytes)
    return data
  }

  private static func parse(
    _ bytes: [UInt8], rank: Int, failure: (DatasetError.Reason) -> DatasetError
  ) throws -> IDXArray {
    func word(at offset: Int) -> UInt32 {
      (UInt32(bytes[offset]) << 24) | (UInt32(bytes[offset + 1]) << 16)
        | (UInt32(bytes[offset + 2]) << 8) | UInt32(bytes[offset + 3])
    }
    let expectedMagic = magic(rank: rank)
    guard bytes.count >= 4 else {
      // Too short for even a magic number: report what there is.
      let found = bytes.reduce(UInt32(0)) { ($0 << 8) | UInt32($1) }
      throw failure(.badMagic(found: found, expected: expectedMagic))
    }
    let foundMagic = word(at: 0)
    guard foundMagic == expectedMagic else {
      throw failure(.badMagic(found: foundMagic, expected: expectedMagic))
    }
    let headerSize = 4 + 4 * rank
    guard bytes.count >= headerSize else {
      throw failure(.sizeMismatch(dimensions: [], expectedBytes: headerSize - 4, actualBytes: bytes.count - 4))
    }
    let dimensions = (0..<rank).map { Int(word(at: 4 + 4 * $0)) }
    // Each dimension is below 2^32, so the product of three fits in Int only
    // with care: multiply with overflow checks.
    var expected = 1
    for dimension in dimensions {
      let (product, overflow) = expected.multipliedReportingOverflow(by: dimension)
      expected = overflow ? Int.max : product
    }
    let actual = bytes.count - headerSize
    guard actual == expected else {
      throw failure(.sizeMismatch(dimensions: dimensions, expectedBytes: expected, actualBytes: actual))
    }
    return IDXArray(dimensions: dimensions, bytes: Array(bytes[headerSize...]))
  }
}
