/// The 27 symbols of a text8-style corpus: space, then `a` to `z`.
///
/// A symbol's index is its position in ``alphabet``: space is 0, `a` is 1,
/// `z` is 26. Corpora, Markov sources and models all count in these indices.
public enum CharacterVocabulary {
  /// The symbols in index order.
  public static let alphabet: [UInt8] = Array(" abcdefghijklmnopqrstuvwxyz".utf8)
  /// The number of symbols, 27.
  public static let size = 27

  /// The index of an ASCII byte of the alphabet (`" "`, `a`…`z`), or `nil`
  /// for any other byte.
  @inline(__always)
  public static func index(of byte: UInt8) -> UInt8? {
    if byte == 0x20 { return 0 }
    if byte >= 0x61 && byte <= 0x7A { return byte - 0x60 }
    return nil
  }

  /// The indices of `text`, which must hold only the 27 symbols.
  /// - Returns: `nil` when `text` holds any other character.
  /// - Complexity: O(n).
  public static func indices(of text: String) -> [UInt8]? {
    var result: [UInt8] = []
    result.reserveCapacity(text.utf8.count)
    for byte in text.utf8 {
      guard let index = index(of: byte) else { return nil }
      result.append(index)
    }
    return result
  }

  /// The text of `indices`.
  /// - Parameters:
  ///   - indices: each in `0..<27`.
  public static func text<Indices: Sequence>(of indices: Indices) -> String where Indices.Element: BinaryInteger {
    String(decoding: indices.map { index -> UInt8 in
      precondition(index >= 0 && index < size, "CharacterVocabulary.text(of:): index \(index) outside 0..<\(size)")
      return alphabet[Int(index)]
    }, as: UTF8.self)
  }

  /// The indices of arbitrary text under text8's mapping, as
  /// `Scripts/make_corpus.py` applies it: ASCII letters lower-cased, every
  /// other byte a space (so a non-ASCII character's UTF-8 bytes become one
  /// space), runs of spaces collapsed, no leading or trailing space.
  /// - Complexity: O(n).
  public static func normalizedIndices<Bytes: Sequence>(of bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
    var result: [UInt8] = []
    result.reserveCapacity(bytes.underestimatedCount)
    for byte in bytes {
      let letter: UInt8? =
        byte >= 0x41 && byte <= 0x5A ? byte - 0x40 : byte >= 0x61 && byte <= 0x7A ? byte - 0x60 : nil
      if let letter {
        result.append(letter)
      } else if let last = result.last, last != 0 {
        result.append(0)
      }
    }
    if result.last == 0 { result.removeLast() }
    return result
  }
}
