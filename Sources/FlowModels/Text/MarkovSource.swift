import FlowTensor

/// A synthetic text source: an order-k Markov chain over the symbols, whose
/// entropy rate is known exactly, for checking that a model's held-out bits
/// per character approach the best possible.
///
/// The state is the last `order` symbols, `s = x₁·A^(k−1) + … + x_k` for an
/// alphabet of `A` symbols; each state has a distribution over the next
/// symbol. Random chains draw each row as a softmax of `sharpness` × standard
/// normal logits: sharpness 0 gives the uniform source (log₂ A bits per
/// character), larger values more predictable text. Every probability is
/// then positive, so the chain is irreducible and aperiodic and has one
/// stationary distribution π; the entropy rate
/// H = −Σ_s π_s Σ_t P(t | s) log₂ P(t | s) follows exactly from it.
///
/// ```swift
/// let source = MarkovSource(order: 2, sharpness: 2, seed: 7)
/// var generator = SeededGenerator(seed: 1)
/// let text = source.sample(count: 100_000, using: &generator)
/// print(source.entropyRate)          // bits per character
/// ```
public struct MarkovSource: Codable, Equatable, Sendable {
  /// Symbols of context, k ≥ 0 (0: independent symbols).
  public let order: Int
  /// Symbols in the alphabet, A.
  public let alphabetSize: Int
  /// Next-symbol probabilities, `[stateCount, alphabetSize]` row-major;
  /// each row sums to 1.
  public let transitions: [Double]

  /// The number of states, A^k.
  public var stateCount: Int { transitions.count / alphabetSize }

  /// A chain with the given transition table.
  /// - Parameters:
  ///   - order: k. Precondition: not negative, and A^k × A below 2²⁸.
  ///   - alphabetSize: A. Precondition: at least 2.
  ///   - transitions: `[A^k, A]` row-major. Precondition: every entry
  ///     positive and every row sums to 1 within 1e-9 (positive entries
  ///     keep the stationary distribution unique).
  public init(order: Int, alphabetSize: Int = CharacterVocabulary.size, transitions: [Double]) {
    if let problem = Self.problem(order: order, alphabetSize: alphabetSize, transitions: transitions) {
      preconditionFailure("MarkovSource: \(problem)")
    }
    self.order = order
    self.alphabetSize = alphabetSize
    self.transitions = transitions
  }

  /// What is wrong with a chain's description, or `nil`; without a table,
  /// only the order and alphabet are checked.
  private static func problem(order: Int, alphabetSize: Int, transitions: [Double]?) -> String? {
    if alphabetSize < 2 { return "alphabet size \(alphabetSize) must be at least 2" }
    if order < 0 { return "order \(order) must not be negative" }
    var states = 1
    for _ in 0..<order {
      states *= alphabetSize
      if states * alphabetSize >= 1 << 28 { return "order \(order) over \(alphabetSize) symbols makes too many states" }
    }
    guard let transitions else { return nil }
    if transitions.count != states * alphabetSize {
      return "\(transitions.count) transition probabilities for \(states) states × \(alphabetSize) symbols"
    }
    for state in 0..<states {
      let row = transitions[state * alphabetSize ..< (state + 1) * alphabetSize]
      if !row.allSatisfy({ $0 > 0 && $0.isFinite }) {
        return "state \(state) has a probability that is not positive and finite"
      }
      let total = row.reduce(0, +)
      if !(abs(total - 1) <= 1e-9) { return "the probabilities of state \(state) sum to \(total)" }
    }
    return nil
  }

  /// A random chain: each row the softmax of `sharpness` × standard normal
  /// logits (drawn in state order from `SeededGenerator(seed:)`).
  /// - Parameters:
  ///   - order: k. Precondition: as for ``init(order:alphabetSize:transitions:)``.
  ///   - alphabetSize: A, 27 for the character vocabulary.
  ///   - sharpness: the logits' scale. Precondition: not negative and
  ///     at most 30 (larger underflows probabilities to 0).
  ///   - seed: fixes the chain.
  public init(order: Int, alphabetSize: Int = CharacterVocabulary.size, sharpness: Double, seed: UInt64) {
    precondition(sharpness >= 0 && sharpness <= 30, "MarkovSource: sharpness \(sharpness) outside 0…30")
    let states = Self.stateCount(order: order, alphabetSize: alphabetSize)
    var generator = SeededGenerator(seed: seed)
    let logits = Tensor<Double>.randomNormal(shape: [states * alphabetSize], using: &generator).scalars
    var transitions = [Double](repeating: 0, count: states * alphabetSize)
    for state in 0..<states {
      let row = state * alphabetSize ..< (state + 1) * alphabetSize
      let largest = row.map { logits[$0] }.max()!
      var total = 0.0
      for index in row {
        transitions[index] = Double.exp(sharpness * (logits[index] - largest))
        total += transitions[index]
      }
      for index in row { transitions[index] /= total }
    }
    self.init(order: order, alphabetSize: alphabetSize, transitions: transitions)
  }

  private static func stateCount(order: Int, alphabetSize: Int) -> Int {
    if let problem = problem(order: order, alphabetSize: alphabetSize, transitions: nil) {
      preconditionFailure("MarkovSource: \(problem)")
    }
    return (0..<order).reduce(1) { states, _ in states * alphabetSize }
  }

  private enum CodingKeys: String, CodingKey { case order, alphabetSize, transitions }

  /// Decodes a chain, checking it as ``init(order:alphabetSize:transitions:)`` does.
  /// - Throws: `DecodingError.dataCorrupted` naming the problem.
  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let order = try container.decode(Int.self, forKey: .order)
    let alphabetSize = try container.decode(Int.self, forKey: .alphabetSize)
    let transitions = try container.decode([Double].self, forKey: .transitions)
    if let problem = Self.problem(order: order, alphabetSize: alphabetSize, transitions: transitions) {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "MarkovSource: \(problem)"))
    }
    self.init(order: order, alphabetSize: alphabetSize, transitions: transitions)
  }

  /// P(next = `symbol` | state `state`).
  public func probability(of symbol: Int, after state: Int) -> Double {
    transitions[state * alphabetSize + symbol]
  }

  /// The state after `state` emits `symbol`: drop the oldest symbol, append
  /// the new one.
  @inline(__always)
  public func state(after state: Int, emitting symbol: Int) -> Int {
    order == 0 ? 0 : (state * alphabetSize + symbol) % stateCount
  }

  /// The state whose context is the `order` symbols ending just before
  /// `position` of `symbols`.
  /// - Parameters:
  ///   - position: at least `order`.
  public func state(before position: Int, in symbols: [UInt8]) -> Int {
    precondition(position >= order && position <= symbols.count,
      "MarkovSource.state(before:in:): position \(position) outside \(order)…\(symbols.count)")
    var state = 0
    for index in (position - order)..<position { state = state * alphabetSize + Int(symbols[index]) }
    return state
  }
}
