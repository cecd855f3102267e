import Foundation

/// A ``CharacterLanguageModel``'s architecture, stored as JSON in its checkpoints.
public struct CharacterLanguageModelConfiguration: Codable, Equatable, Sendable {
  /// V, the tokens (27 characters).
  public var vocabularySize: Int
  /// The context in tokens.
  public var length: Int
  public var layerCount: Int
  public var width: Int
  public var headCount: Int
  /// Fixes the initial parameters.
  public var seed: UInt64

  public init(
    vocabularySize: Int = 27, length: Int = 64, layerCount: Int = 4, width: Int = 64, headCount: Int = 1,
    seed: UInt64 = 0
  ) {
    self.vocabularySize = vocabularySize
    self.length = length
    self.layerCount = layerCount
    self.width = width
    self.headCount = headCount
    self.seed = seed
  }

  /// What makes the configuration unusable, in one sentence; `nil` when valid.
  public var problem: String? {
    if vocabularySize < 1 { return "vocabulary size \(vocabularySize) must be ≥ 1" }
    if length < 1 { return "context \(length) must be ≥ 1" }
    if layerCount < 0 { return "layers \(layerCount) must be ≥ 0" }
    if headCount < 1 || width < 1 || width % headCount != 0 {
      return "width \(width) must be a positive multiple of the head count \(headCount)"
    }
    return nil
  }

  /// One line of JSON with sorted keys.
  public var jsonString: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try! encoder.encode(self), as: UTF8.self)
  }

  /// Reads ``jsonString``'s form.
  /// - Throws: a `DecodingError`, or ``TextModelConfigurationError`` when the values are unusable.
  public init(jsonString: String) throws {
    self = try JSONDecoder().decode(Self.self, from: Data(jsonString.utf8))
    if let problem { throw TextModelConfigurationError(problem: problem) }
  }
}
