import Foundation
import NormalizingFlows

/// Where `--corpus` points: the `make corpus` output (`shakespeare`), a
/// synthetic Markov source (`markov`, made in memory), or a directory of
/// `train.txt`, `validation.txt`, `test.txt`.
enum TextCorpusSource: Equatable {
  case shakespeare
  case markov(order: Int, sharpness: Double, seed: UInt64)
  case directory(String)

  /// Symbols of the Markov corpus's parts.
  static let markovCounts = (training: 200_000, validation: 20_000, test: 20_000)

  /// Reads `--corpus`'s value: `shakespeare`, `markov`, `markov:<order>:<sharpness>:<seed>`
  /// (as checkpoints store it), or a path.
  init(_ text: String, markovOrder: Int = 1, markovSharpness: Double = 3, markovSeed: UInt64 = 0) {
    let lowered = text.lowercased()
    if lowered == "shakespeare" {
      self = .shakespeare
    } else if lowered == "markov" {
      self = .markov(order: markovOrder, sharpness: markovSharpness, seed: markovSeed)
    } else if lowered.hasPrefix("markov:") {
      let parts = lowered.split(separator: ":").dropFirst()
      if parts.count == 3, let order = Int(parts[parts.startIndex]),
        let sharpness = Double(parts[parts.startIndex + 1]), let seed = UInt64(parts[parts.startIndex + 2])
      {
        self = .markov(order: order, sharpness: sharpness, seed: seed)
      } else {
        self = .directory(text)
      }
    } else {
      self = .directory(text)
    }
  }

  /// The stable text stored in checkpoints, which ``init(_:markovOrder:markovSharpness:markovSeed:)`` reads back.
  var specification: String {
    switch self {
    case .shakespeare: return "shakespeare"
    case .markov(let order, let sharpness, let seed): return "markov:\(order):\(sharpness):\(seed)"
    case .directory(let path): return path
    }
  }

  /// What is wrong with the Markov parameters; `nil` when usable or not Markov.
  var problem: String? {
    guard case .markov(let order, let sharpness, _) = self else { return nil }
    if order < 0 || order > 3 { return "--markov-order \(order) must be in 0…3" }
    if !(sharpness >= 0 && sharpness <= 30) { return "--markov-sharpness \(sharpness) must be in 0…30" }
    return nil
  }

  /// The Markov source, for `markov`.
  var markovSource: MarkovSource? {
    guard case .markov(let order, let sharpness, let seed) = self else { return nil }
    return MarkovSource(order: order, sharpness: sharpness, seed: seed)
  }

  /// The corpus.
  /// - Throws: `CharacterCorpusError` naming the missing file and `make corpus`.
  func load() throws -> CharacterCorpus {
    switch self {
    case .shakespeare:
      return try CharacterCorpus(directory: CharacterCorpus.defaultDirectory)
    case .directory(let path):
      return try CharacterCorpus(directory: URL(fileURLWithPath: path, isDirectory: true))
    case .markov(_, _, let seed):
      var generator = SeededGenerator(seed: seed &+ 0x4D41_524B)
      return markovSource!.corpus(
        trainingCount: Self.markovCounts.training, validationCount: Self.markovCounts.validation,
        testCount: Self.markovCounts.test, using: &generator)
    }
  }
}
