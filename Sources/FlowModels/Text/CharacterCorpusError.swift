import Foundation

/// A corpus file that could not be read, naming the file and, for the
/// default corpus, the command that makes it.
///
/// Files are user input, so every problem with one throws this rather than
/// trapping.
public struct CharacterCorpusError: Error, Equatable, Sendable, CustomStringConvertible {
  /// What is wrong with the file.
  public enum Reason: Equatable, Sendable {
    /// No file at the path.
    case missingFile
    /// The file exists but could not be read; holds the system's message.
    case unreadable(String)
    /// The byte `value` at `offset` is not one of the 27 symbols.
    case invalidByte(value: UInt8, offset: Int)
    /// The file holds `characters` symbols, fewer than the `required`.
    case tooShort(characters: Int, required: Int)
  }

  /// The file concerned.
  public var file: URL
  /// What is wrong with it.
  public var reason: Reason
  /// How to make the file, e.g. "make it with `make corpus`"; `nil` for a
  /// file given by path.
  public var remedy: String?

  public init(file: URL, reason: Reason, remedy: String? = nil) {
    self.file = file
    self.reason = reason
    self.remedy = remedy
  }

  public var description: String {
    var text = "\(file.path): \(reasonDescription)"
    if let remedy { text += "; \(remedy)" }
    return text
  }

  private var reasonDescription: String {
    switch reason {
    case .missingFile:
      return "no such file"
    case .unreadable(let message):
      return "cannot read the file (\(message))"
    case .invalidByte(let value, let offset):
      let shown = value >= 0x21 && value < 0x7F ? "'\(Character(Unicode.Scalar(value)))' " : ""
      return "byte \(shown)(0x\(String(value, radix: 16))) at offset \(offset) is not one of the 27 symbols "
        + "(space, a-z); a text8-style corpus holds nothing else"
    case .tooShort(let characters, let required):
      return "\(characters) characters, fewer than the \(required) required"
    }
  }
}
