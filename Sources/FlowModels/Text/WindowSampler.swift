import FlowTensor

/// Seeded batches of windows at uniformly random offsets of a text,
/// step after step, resumable.
///
/// Step `s` draws its `batchSize` starts from
/// `SeededGenerator(seed: seed, epoch: s)`, so a batch depends only on
/// `(seed, step)`: encode the sampler in a checkpoint and a decoded copy
/// continues with exactly the batches the original would have produced,
/// like ``BatchSampler``.
///
/// ```swift
/// var sampler = WindowSampler(symbolCount: corpus.training.count, length: 128, batchSize: 32, seed: 1)
/// let tokens = sampler.nextBatch(of: corpus.training)     // [32, 128]
/// ```
public struct WindowSampler: Codable, Equatable, Hashable, Sendable {
  /// The length of the text sampled from.
  public let symbolCount: Int
  /// Symbols per window.
  public let length: Int
  /// Windows per batch.
  public let batchSize: Int
  /// Fixes every step's batch.
  public let seed: UInt64
  /// The next step, from 0.
  public private(set) var step: Int

  /// A sampler at `step`.
  /// - Parameters:
  ///   - symbolCount: the text's length. Precondition: at least `length`.
  ///   - length: symbols per window. Precondition: positive.
  ///   - batchSize: windows per batch. Precondition: positive.
  ///   - step: where to start. Precondition: not negative.
  public init(symbolCount: Int, length: Int, batchSize: Int, seed: UInt64, step: Int = 0) {
    if let problem = Self.problem(symbolCount: symbolCount, length: length, batchSize: batchSize, step: step) {
      preconditionFailure("WindowSampler: \(problem)")
    }
    self.symbolCount = symbolCount
    self.length = length
    self.batchSize = batchSize
    self.seed = seed
    self.step = step
  }

  private static func problem(symbolCount: Int, length: Int, batchSize: Int, step: Int) -> String? {
    if length <= 0 { return "window length \(length) must be positive" }
    if batchSize <= 0 { return "batch size \(batchSize) must be positive" }
    if symbolCount < length { return "a text of \(symbolCount) symbols holds no window of \(length)" }
    if step < 0 { return "step \(step) must not be negative" }
    return nil
  }

  /// The starts of the batch of `step`: each uniform in
  /// `0...symbolCount - length`.
  /// - Complexity: O(batchSize).
  public static func starts(symbolCount: Int, length: Int, batchSize: Int, seed: UInt64, step: Int) -> [Int] {
    var generator = SeededGenerator(seed: seed, epoch: step)
    let positions = UInt64(symbolCount - length + 1)
    return (0..<batchSize).map { _ in Int(generator.uniform(below: positions)) }
  }

  /// The starts of the batch at ``step``, then advances.
  /// - Returns: `batchSize` offsets into the text.
  public mutating func next() -> [Int] {
    let result = Self.starts(symbolCount: symbolCount, length: length, batchSize: batchSize, seed: seed, step: step)
    step += 1
    return result
  }

  /// The next batch of windows of `symbols`; advances.
  /// - Parameters:
  ///   - symbols: the text. Precondition: `symbols.count == symbolCount`.
  /// - Returns: `[batchSize, length]` token indices.
  public mutating func nextBatch(of symbols: [UInt8]) -> IndexTensor {
    precondition(symbols.count == symbolCount,
      "WindowSampler.nextBatch: the sampler covers \(symbolCount) symbols, the text holds \(symbols.count)")
    var tokens: [Int] = []
    tokens.reserveCapacity(batchSize * length)
    for start in next() { tokens.append(contentsOf: symbols[start..<start + length].lazy.map(Int.init)) }
    return IndexTensor(shape: [batchSize, length], indices: tokens)
  }

  private enum CodingKeys: String, CodingKey { case symbolCount, length, batchSize, seed, step }

  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let symbolCount = try container.decode(Int.self, forKey: .symbolCount)
    let length = try container.decode(Int.self, forKey: .length)
    let batchSize = try container.decode(Int.self, forKey: .batchSize)
    let step = try container.decode(Int.self, forKey: .step)
    if let problem = Self.problem(symbolCount: symbolCount, length: length, batchSize: batchSize, step: step) {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "WindowSampler: \(problem)"))
    }
    self.init(
      symbolCount: symbolCount, length: length, batchSize: batchSize,
      seed: try container.decode(UInt64.self, forKey: .seed), step: step)
  }
}
