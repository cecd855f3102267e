/// A seedable random number generator whose stream is the same on every
/// machine: xoshiro256** (Blackman & Vigna, 2018) seeded through SplitMix64.
///
/// Swift's `SystemRandomNumberGenerator` cannot be seeded; every random
/// thing in this package takes one of these instead, so that the same seed
/// gives the same numbers.
///
/// ```swift
/// var generator = SeededGenerator(seed: 42)
/// let noise = Tensor<Float>.randomNormal(shape: [4, 8], using: &generator)
/// ```
public struct SeededGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
  /// The four words of xoshiro256** state; never all zero.
  public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

  /// A generator whose stream is fixed by `seed`.
  public init(seed: UInt64) {
    var splitmix = seed
    func next() -> UInt64 {
      splitmix &+= 0x9E37_79B9_7F4A_7C15
      var z = splitmix
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    state = (next(), next(), next(), next())
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    let result = rotateLeft(state.1 &* 5, by: 7) &* 9
    let shifted = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= shifted
    state.3 = rotateLeft(state.3, by: 45)
    return result
  }

  func rotateLeft(_ value: UInt64, by amount: UInt64) -> UInt64 {
    (value << amount) | (value >> (64 - amount))
  }

  public static func == (lhs: SeededGenerator, rhs: SeededGenerator) -> Bool {
    lhs.state == rhs.state
  }

  private enum CodingKeys: String, CodingKey { case state }

  public init(from decoder: Decoder) throws {
    let words = try decoder.container(keyedBy: CodingKeys.self).decode([UInt64].self, forKey: .state)
    guard words.count == 4, words.contains(where: { $0 != 0 }) else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath, debugDescription: "SeededGenerator: state must be 4 words, not all zero"))
    }
    state = (words[0], words[1], words[2], words[3])
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode([state.0, state.1, state.2, state.3], forKey: .state)
  }
}

extension RandomNumberGenerator {
  /// A uniform `Double` in [0, 1) with 53 random bits.
  @inlinable
  mutating func nextUnitDouble() -> Double {
    Double(next() >> 11) * 0x1p-53
  }

  /// A uniform `Double` in (0, 1], safe to take the logarithm of.
  @inlinable
  mutating func nextOpenUnitDouble() -> Double {
    Double((next() >> 11) + 1) * 0x1p-53
  }
}
