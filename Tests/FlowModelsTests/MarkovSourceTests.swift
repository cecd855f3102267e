import FlowModels
import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// One chain of `Fixtures/markov_entropy_rate.py`.
private struct MarkovReferenceCase: Decodable {
  let order: Int
  let alphabetSize: Int
  let transitions: [Double]
  let stationary: [Double]
  let entropyRate: Double
}

final class MarkovSourceTests: XCTestCase {
  func testEntropyRateAndStationaryDistributionMatchAnIndependentSolve() throws {
    let cases = try Fixtures.load([MarkovReferenceCase].self, named: "markov_entropy_rate.json")
    XCTAssertEqual(cases.map(\.order), [0, 1, 2, 3])
    for reference in cases {
      let source = MarkovSource(
        order: reference.order, alphabetSize: reference.alphabetSize, transitions: reference.transitions)
      let label = "order \(reference.order), \(reference.alphabetSize) symbols"
      // Both methods: the direct solve (used up to 1,024 states) and the
      // power iteration (beyond).
      for stationary in [source.stationaryDistribution(), source.stationaryDistributionByPowerIteration()] {
        XCTAssertEqual(stationary.count, reference.stationary.count, label)
        for (actual, expected) in zip(stationary, reference.stationary) {
          assertClose(actual, expected, absolute: 1e-12, label)
        }
      }
      assertClose(source.entropyRate, reference.entropyRate, absolute: 1e-12, relative: 1e-12, label)
    }
  }

  func testPowerIterationAgreesWithTheDirectSolveOnACharacterChain() {
    // 729 states: the iteration's moves reach the rounding floor before
    // 1e-14, so it stops there; the two must still agree closely.
    let source = MarkovSource(order: 2, sharpness: 2.5, seed: 21)
    let direct = source.stationaryDistribution()
    let iterated = source.stationaryDistributionByPowerIteration()
    assertClose(direct.reduce(0, +), 1, absolute: 1e-12)
    XCTAssertTrue(direct.allSatisfy { $0 > 0 })
    let largestDifference = zip(direct, iterated).map { abs($0 - $1) }.max()!
    XCTAssertLessThan(largestDifference, 1e-12)
  }

  func testTwoStateChainMatchesItsClosedForm() {
    // P = [[1−a, a], [b, 1−b]]: π = (b, a)/(a + b), H = π₀ h(a) + π₁ h(b).
    let a = 0.1, b = 0.3
    let source = MarkovSource(order: 1, alphabetSize: 2, transitions: [1 - a, a, b, 1 - b])
    func binaryEntropy(_ p: Double) -> Double { -p * Double.log2(p) - (1 - p) * Double.log2(1 - p) }
    let stationary = source.stationaryDistribution()
    assertClose(stationary[0], b / (a + b), absolute: 1e-13)
    assertClose(stationary[1], a / (a + b), absolute: 1e-13)
    assertClose(source.entropyRate, (b * binaryEntropy(a) + a * binaryEntropy(b)) / (a + b), absolute: 1e-13)
  }

  func testIndependentAndUniformSourcesHaveTheirKnownRates() {
    let probabilities = [0.5, 0.25, 0.125, 0.125]
    let independent = MarkovSource(order: 0, alphabetSize: 4, transitions: probabilities)
    XCTAssertEqual(independent.stateCount, 1)
    assertClose(independent.entropyRate, 1.75, absolute: 1e-15)

    // Sharpness 0: every row uniform, log₂ 27 bits whatever the order.
    for order in [0, 1, 2, 3] {
      let uniform = MarkovSource(order: order, sharpness: 0, seed: 1)
      XCTAssertEqual(uniform.stateCount, [1, 27, 729, 19683][order])
      assertClose(uniform.entropyRate, Double.log2(27), absolute: 1e-12, "order \(order)")
    }
    // Sharper logits make a more predictable source.
    let rates = [0.5, 1, 2, 4].map { MarkovSource(order: 1, sharpness: $0, seed: 3).entropyRate }
    XCTAssertEqual(rates, rates.sorted(by: >))
    XCTAssertLessThan(rates.last!, 2.5)
  }

  func testRandomChainsAreFixedByTheirSeed() {
    let source = MarkovSource(order: 1, sharpness: 2, seed: 9)
    XCTAssertEqual(MarkovSource(order: 1, sharpness: 2, seed: 9), source)
    XCTAssertNotEqual(MarkovSource(order: 1, sharpness: 2, seed: 10), source)
    for state in 0..<source.stateCount {
      let total = (0..<27).reduce(0.0) { $0 + source.probability(of: $1, after: state) }
      assertClose(total, 1, absolute: 1e-12, "state \(state)")
    }
  }

  func testEmpiricalLogLossOfALongSampleApproachesTheRate() {
    // Sampling starts in the stationary law, so the mean log-loss is an
    // unbiased estimate of H; its standard deviation over 300,000
    // characters is about 0.003 bits here, so 0.02 is over six of them.
    for (order, sharpness) in [(1, 1.5), (2, 2.5)] {
      let source = MarkovSource(order: order, sharpness: sharpness, seed: 21)
      var generator = SeededGenerator(seed: 4)
      let text = source.sample(count: 300_000, using: &generator)
      XCTAssertEqual(text.count, 300_000)
      XCTAssertTrue(text.allSatisfy { $0 < 27 })
      assertClose(source.logLoss(of: text), source.entropyRate, absolute: 0.02, "order \(order)")
      // The true model beats a model that ignores the context.
      var counts = [Double](repeating: 0, count: 27)
      for symbol in text { counts[Int(symbol)] += 1 }
      let unigram = -counts.reduce(0) { $0 + ($1 > 0 ? $1 * Double.log2($1 / 300_000) : 0) } / 300_000
      XCTAssertGreaterThan(unigram, source.logLoss(of: text) + 0.1, "order \(order)")
    }
  }

  func testSymbolFrequenciesFollowTheStationaryDistribution() {
    let source = MarkovSource(order: 1, alphabetSize: 3, transitions: [0.8, 0.1, 0.1, 0.2, 0.5, 0.3, 0.3, 0.3, 0.4])
    let stationary = source.stationaryDistribution()
    var generator = SeededGenerator(seed: 8)
    let text = source.sample(count: 200_000, using: &generator)
    for symbol in 0..<3 {
      let frequency = Double(text.lazy.filter { $0 == symbol }.count) / 200_000
      // Correlated draws: allow several times the i.i.d. standard deviation ~0.001.
      assertClose(frequency, stationary[symbol], absolute: 0.01, "symbol \(symbol)")
    }
  }

  func testSamplingIsSeededAndAStretchMayBeShorterThanTheOrder() {
    let source = MarkovSource(order: 3, alphabetSize: 4, transitions: MarkovSource(order: 3, alphabetSize: 4, sharpness: 1, seed: 2).transitions)
    var first = SeededGenerator(seed: 5)
    var second = SeededGenerator(seed: 5)
    XCTAssertEqual(source.sample(count: 1000, using: &first), source.sample(count: 1000, using: &second))
    XCTAssertEqual(source.sample(count: 2, using: &first).count, 2)
    XCTAssertEqual(source.sample(count: 0, using: &first), [])
  }

  func testLogLossCountsOnlyCharactersWithAFullContext() {
    let source = MarkovSource(order: 1, alphabetSize: 2, transitions: [0.5, 0.5, 0.25, 0.75])
    // 0 → 1 (½), 1 → 1 (¾), 1 → 0 (¼): mean of 1, log₂(4/3), 2 bits.
    assertClose(source.logLoss(of: [0, 1, 1, 0]), (1 + Double.log2(4.0 / 3) + 2) / 3, absolute: 1e-14)
  }

  func testAMarkovCorpusFeedsTheCorpusReaders() {
    let source = MarkovSource(order: 1, sharpness: 1, seed: 4)
    var generator = SeededGenerator(seed: 6)
    let corpus = source.corpus(trainingCount: 900, validationCount: 50, testCount: 50, using: &generator)
    XCTAssertEqual([corpus.training.count, corpus.validation.count, corpus.test.count], [900, 50, 50])
    XCTAssertNotEqual(corpus.validation, corpus.test)
    XCTAssertEqual(CharacterWindows(symbols: corpus.training, length: 100).count, 9)
  }

  func testCodableRoundTrip() throws {
    let source = MarkovSource(order: 2, alphabetSize: 3, sharpness: 1.5, seed: 1)
    let copy = try JSONDecoder().decode(MarkovSource.self, from: JSONEncoder().encode(source))
    XCTAssertEqual(copy, source)
    XCTAssertEqual(copy.entropyRate, source.entropyRate)
    let bad = #"{"order": 1, "alphabetSize": 2, "transitions": [0.5, 0.5, 0.9, 0.2]}"#
    XCTAssertThrowsError(try JSONDecoder().decode(MarkovSource.self, from: Data(bad.utf8))) { error in
      XCTAssertTrue("\(error)".contains("the probabilities of state 1 sum to 1.1"), "\(error)")
    }
    let short = #"{"order": 2, "alphabetSize": 2, "transitions": [0.5, 0.5]}"#
    XCTAssertThrowsError(try JSONDecoder().decode(MarkovSource.self, from: Data(short.utf8))) { error in
      XCTAssertTrue("\(error)".contains("2 transition probabilities for 4 states × 2 symbols"), "\(error)")
    }
  }
}
