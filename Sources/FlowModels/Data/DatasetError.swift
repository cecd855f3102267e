import Foundation

/// A data file that could not be read, naming the file and, for the default
/// datasets, how to get it.
///
/// Data is user input, so every problem with it throws this rather than
/// trapping.
public struct DatasetError: Error, Equatable, Sendable, CustomStringConvertible {
  /// What is wrong with the file.
  public enum Reason: Equatable, Sendable {
    /// No file at the path.
    case missingFile
    /// The file exists but could not be read; holds the system's message.
    case unreadable(String)
    /// The gzip stream ends early.
    case truncatedGzip
    /// The gzip stream is corrupt; holds zlib's message.
    case corruptGzip(String)
    /// The first four bytes are not the expected IDX magic number.
    case badMagic(found: UInt32, expected: UInt32)
    /// The header's dimensions promise `expectedBytes` of data after the
    /// header, but the file holds `actualBytes`.
    case sizeMismatch(dimensions: [Int], expectedBytes: Int, actualBytes: Int)
    /// The images file holds `images` items and the labels file `labels`.
    case countMismatch(images: Int, labels: Int)
    /// Label `value` at position `index` is outside `0..<classCount`.
    case labelOutOfRange(index: Int, value: Int, classCount: Int)
  }

  /// The file concerned (for a count mismatch, the labels file).
  public var file: URL
  /// What is wrong with it.
  public var reason: Reason
  /// How to get the file, e.g. "install Debian's dataset-fashion-mnist:
  /// sudo apt-get install dataset-fashion-mnist"; `nil` for a file given by
  /// path.
  public var provider: String?

  public init(file: URL, reason: Reason, provider: String? = nil) {
    self.file = file
    self.reason = reason
    self.provider = provider
  }

  public var description: String {
    var text = "\(file.path): \(reasonDescription)"
    if let provider { text += "; \(provider)" }
    return text
  }

  private var reasonDescription: String {
    switch reason {
    case .missingFile:
      return "no such file"
    case .unreadable(let message):
      return "cannot read the file (\(message))"
    case .truncatedGzip:
      return "the gzip stream ends early (truncated file)"
    case .corruptGzip(let message):
      return "the gzip stream is corrupt (\(message))"
    case .badMagic(let found, let expected):
      return "not an IDX file of the expected kind: magic number \(hex(found)), expected \(hex(expected))"
    case .sizeMismatch(let dimensions, let expectedBytes, let actualBytes):
      let shape = dimensions.map(String.init).joined(separator: "×")
      return "the header promises \(shape) = \(expectedBytes) bytes of data but the file holds \(actualBytes)"
    case .countMismatch(let images, let labels):
      return "\(labels) labels for \(images) images"
    case .labelOutOfRange(let index, let value, let classCount):
      return "label \(value) at position \(index) is outside 0…\(classCount - 1)"
    }
  }

  private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
  }
}
