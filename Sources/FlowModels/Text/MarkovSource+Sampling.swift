import FlowTensor

extension MarkovSource {
  /// A stretch of the stationary process: the first `order` symbols are a
  /// state drawn from the stationary distribution, each later one from its
  /// state's row, so every window of the result has the same law.
  /// - Parameters:
  ///   - count: symbols. Precondition: not negative.
  ///   - generator: the draws.
  /// - Returns: `count` symbols in `0..<alphabetSize`.
  /// - Complexity: O(count × A) plus one ``stationaryDistribution()``.
  public func sample(count: Int, using generator: inout SeededGenerator) -> [UInt8] {
    precondition(count >= 0, "MarkovSource.sample: count \(count) must not be negative")
    precondition(alphabetSize <= 256, "MarkovSource.sample: \(alphabetSize) symbols do not fit in bytes")
    var state = Self.draw(from: stationaryDistribution()[...], using: &generator)
    var result: [UInt8] = []
    result.reserveCapacity(count)
    var context = [UInt8](repeating: 0, count: order)
    var remainder = state
    for index in stride(from: order - 1, through: 0, by: -1) {
      context[index] = UInt8(remainder % alphabetSize)
      remainder /= alphabetSize
    }
    result.append(contentsOf: context.prefix(count))
    while result.count < count {
      let symbol = Self.draw(from: transitions[state * alphabetSize ..< (state + 1) * alphabetSize], using: &generator)
      result.append(UInt8(symbol))
      state = self.state(after: state, emitting: symbol)
    }
    return result
  }

  /// A train/validation/test corpus of independent stationary stretches,
  /// for models that read ``CharacterCorpus``.
  /// - Parameters:
  ///   - counts: symbols in each part.
  public func corpus(
    trainingCount: Int, validationCount: Int, testCount: Int, using generator: inout SeededGenerator
  ) -> CharacterCorpus {
    precondition(alphabetSize == CharacterVocabulary.size,
      "MarkovSource.corpus: a character corpus needs 27 symbols, the source has \(alphabetSize)")
    return CharacterCorpus(
      training: sample(count: trainingCount, using: &generator),
      validation: sample(count: validationCount, using: &generator),
      test: sample(count: testCount, using: &generator))
  }

  /// An index drawn with the given probabilities (inverse CDF of one
  /// uniform draw in [0, 1) with 53 random bits).
  private static func draw(from probabilities: ArraySlice<Double>, using generator: inout SeededGenerator) -> Int {
    let uniform = Double(generator.next() >> 11) * 0x1p-53
    var cumulative = 0.0
    for (offset, probability) in probabilities.enumerated() {
      cumulative += probability
      if uniform < cumulative { return offset }
    }
    // Rounding can leave the total a hair below 1.
    return probabilities.count - 1
  }
}
