import FlowLayers
import Foundation

/// The 1×1 channel-mixing layer of every CDFlow step. One model, four
/// mixers: CDFlow itself, Glow (LU) and RealNVP-style (reverse) baselines.
///
/// Encoded as one string (``description``): `"cd:<m>"`, `"lu"`, `"dense"`,
/// `"reverse"`; `"cd"` alone reads as m = 2.
public enum CDFlowMixer: Equatable, Sendable, Codable, CustomStringConvertible {
  /// ``FlowLayers/CirculantDiagonalConv1x1`` with `factors` = m diagonal
  /// factors (and m − 1 circulant ones); CDFlow uses m = 2.
  case circulantDiagonal(factors: Int)
  /// ``FlowLayers/LUInvertibleConvolution1x1``, Glow's LU-parametrised 1×1 convolution.
  case lu
  /// ``FlowLayers/InvertibleConvolution1x1``, a dense W with an O(c³) slogdet.
  case dense
  /// ``FlowLayers/ChannelPermutation`` reversing the channels (RealNVP-style, no parameters).
  case reverse

  /// The stable string form.
  public var description: String {
    switch self {
    case .circulantDiagonal(let factors): return "cd:\(factors)"
    case .lu: return "lu"
    case .dense: return "dense"
    case .reverse: return "reverse"
    }
  }

  /// Parses ``description``'s form (and `"cd"` for m = 2); `nil` for anything else.
  public init?(_ string: String) {
    switch string {
    case "cd": self = .circulantDiagonal(factors: 2)
    case "lu": self = .lu
    case "dense": self = .dense
    case "reverse": self = .reverse
    default:
      guard string.hasPrefix("cd:"), let factors = Int(string.dropFirst(3)), factors >= 1 else { return nil }
      self = .circulantDiagonal(factors: factors)
    }
  }

  public init(from decoder: Decoder) throws {
    let string = try decoder.singleValueContainer().decode(String.self)
    guard let mixer = CDFlowMixer(string) else {
      throw DecodingError.dataCorrupted(
        DecodingError.Context(
          codingPath: decoder.codingPath, debugDescription: "unknown mixer '\(string)' (cd, cd:<m>, lu, dense, reverse)"))
    }
    self = mixer
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}

/// How CDFlow's affine couplings make their scales positive
/// (``FlowLayers/CouplingScale``, in a Codable form).
///
/// Encoded as one string: `"sigmoid"` or `"softClamp:<bound>"`.
public enum CDFlowCouplingScale: Equatable, Sendable, Codable, CustomStringConvertible {
  /// σ(s + 2), Glow's choice.
  case sigmoid
  /// exp(c·tanh(s/c)): the identity for a zero conditioner.
  case softClamp(bound: Double)

  /// The coupling layer's form.
  public var couplingScale: CouplingScale {
    switch self {
    case .sigmoid: return .sigmoid
    case .softClamp(let bound): return .softClamp(bound: bound)
    }
  }

  /// The stable string form.
  public var description: String {
    switch self {
    case .sigmoid: return "sigmoid"
    case .softClamp(let bound): return "softClamp:\(bound)"
    }
  }

  /// Parses ``description``'s form; `nil` for anything else (or a bound that is not positive and finite).
  public init?(_ string: String) {
    if string == "sigmoid" {
      self = .sigmoid
      return
    }
    guard string.hasPrefix("softClamp:"), let bound = Double(string.dropFirst(10)), bound > 0, bound.isFinite else {
      return nil
    }
    self = .softClamp(bound: bound)
  }

  public init(from decoder: Decoder) throws {
    let string = try decoder.singleValueContainer().decode(String.self)
    guard let scale = CDFlowCouplingScale(string) else {
      throw DecodingError.dataCorrupted(
        DecodingError.Context(
          codingPath: decoder.codingPath, debugDescription: "unknown coupling scale '\(string)' (sigmoid, softClamp:<bound>)"))
    }
    self = scale
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}

/// Everything that fixes a ``CDFlow`` model's architecture and initial
/// parameters; a checkpoint stores it (``jsonString``) beside the weights.
public struct CDFlowConfiguration: Codable, Equatable, Sendable {
  /// The image's channels (1 for Fashion-MNIST).
  public var channels: Int
  /// The image's height; divisible by 2^levels.
  public var height: Int
  /// The image's width; divisible by 2^levels.
  public var width: Int
  /// L, the number of levels (each squeezes; all but the last split).
  public var levels: Int
  /// K, the number of steps per level.
  public var stepsPerLevel: Int
  /// The hidden channels of every coupling's ``GlowConditioner``.
  public var hiddenChannels: Int
  /// The channel mixer of every step.
  public var mixer: CDFlowMixer
  /// The coupling layers' positive scale.
  public var couplingScale: CDFlowCouplingScale
  /// Whether the splits model the factored half by a learned Gaussian
  /// (Glow's split prior) or by N(0, I) (RealNVP).
  public var learnedSplitPrior: Bool
  /// c in the learned split priors' log σ = c·tanh(r/c)
  /// (``FlowLayers/MultiScaleSplit/logStandardDeviationBound``): σ stays
  /// in (e^−c, e^c). `nil`: log σ = r, unbounded, as Glow has it and as
  /// every checkpoint written before the bound existed was trained.
  ///
  /// The default, 2, because an unbounded log σ broke the test figure of
  /// issue 6: the prior's convolution is affine in the kept half, so a test
  /// image whose kept half was far larger than any training image's got
  /// log σ = −6.0 where training never went below −2.05, and a
  /// log-density of −9.4·10⁷ nats that made the mean over 10,000 test
  /// images 15.06 bits/dim instead of about 3.85. With c = 2, σ ≥ 0.135
  /// and ε = (x₂ − μ)/σ ≤ 7.4·|x₂ − μ|; 2 is about where the 2,000-step
  /// models put their smallest log σ on training data (−1.9 at the 1%
  /// quantile), so the bound costs the fit little.
  public var splitPriorLogStandardDeviationBound: Double?
  /// How the circulant-diagonal mixers start (unused by the other mixers):
  /// ``FlowLayers/CirculantDiagonalInitialization/random`` (the default: a
  /// random orthogonal W, signs ±1 and unit-modulus spectra of random
  /// phase, as Glow starts its 1×1 convolutions from a random rotation) or
  /// ``FlowLayers/CirculantDiagonalInitialization/identity`` (W = I, the
  /// choice of an unofficial CDFlow sketch; the paper states none).
  public var circulantDiagonalInitialization: CirculantDiagonalInitialization
  /// Whether the circulant-diagonal mixers apply W as it is (the default)
  /// or divided by its spectral-norm bound, CDFlow's spectral
  /// normalisation (§4.1; see ``FlowLayers/CirculantDiagonalNormalization``).
  public var circulantDiagonalNormalization: CirculantDiagonalNormalization
  /// The seed of the initial parameters.
  public var seed: UInt64

  /// A configuration; the defaults are a Fashion-MNIST model with CDFlow's mixer (m = 2).
  public init(
    channels: Int = 1, height: Int = 28, width: Int = 28, levels: Int = 2, stepsPerLevel: Int = 8,
    hiddenChannels: Int = 64, mixer: CDFlowMixer = .circulantDiagonal(factors: 2),
    couplingScale: CDFlowCouplingScale = .sigmoid, learnedSplitPrior: Bool = true,
    splitPriorLogStandardDeviationBound: Double? = 2,
    circulantDiagonalInitialization: CirculantDiagonalInitialization = .random,
    circulantDiagonalNormalization: CirculantDiagonalNormalization = .none, seed: UInt64 = 0
  ) {
    self.circulantDiagonalInitialization = circulantDiagonalInitialization
    self.circulantDiagonalNormalization = circulantDiagonalNormalization
    self.channels = channels
    self.height = height
    self.width = width
    self.levels = levels
    self.stepsPerLevel = stepsPerLevel
    self.hiddenChannels = hiddenChannels
    self.mixer = mixer
    self.couplingScale = couplingScale
    self.learnedSplitPrior = learnedSplitPrior
    self.splitPriorLogStandardDeviationBound = splitPriorLogStandardDeviationBound
    self.seed = seed
  }

  private enum CodingKeys: String, CodingKey {
    case channels, height, width, levels, stepsPerLevel, hiddenChannels, mixer, couplingScale, learnedSplitPrior
    case splitPriorLogStandardDeviationBound
    case circulantDiagonalInitialization, circulantDiagonalNormalization, seed
  }

  /// Reads the keys ``encode(to:)`` writes; the two circulant-diagonal
  /// options may be absent (checkpoints written before they existed) and
  /// then take their defaults, and so may the split prior's bound, which
  /// is then `nil`: unbounded, as those checkpoints were trained.
  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    channels = try container.decode(Int.self, forKey: .channels)
    height = try container.decode(Int.self, forKey: .height)
    width = try container.decode(Int.self, forKey: .width)
    levels = try container.decode(Int.self, forKey: .levels)
    stepsPerLevel = try container.decode(Int.self, forKey: .stepsPerLevel)
    hiddenChannels = try container.decode(Int.self, forKey: .hiddenChannels)
    mixer = try container.decode(CDFlowMixer.self, forKey: .mixer)
    couplingScale = try container.decode(CDFlowCouplingScale.self, forKey: .couplingScale)
    learnedSplitPrior = try container.decode(Bool.self, forKey: .learnedSplitPrior)
    splitPriorLogStandardDeviationBound =
      try container.decodeIfPresent(Double.self, forKey: .splitPriorLogStandardDeviationBound)
    circulantDiagonalInitialization =
      try container.decodeIfPresent(CirculantDiagonalInitialization.self, forKey: .circulantDiagonalInitialization)
      ?? .random
    circulantDiagonalNormalization =
      try container.decodeIfPresent(CirculantDiagonalNormalization.self, forKey: .circulantDiagonalNormalization)
      ?? .none
    seed = try container.decode(UInt64.self, forKey: .seed)
  }

  /// Writes every field, the two circulant-diagonal options only when they
  /// differ from their defaults, so that JSON without them reads as it did
  /// before they existed; the split prior's bound when it is set (absent
  /// means unbounded).
  public func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(channels, forKey: .channels)
    try container.encode(height, forKey: .height)
    try container.encode(width, forKey: .width)
    try container.encode(levels, forKey: .levels)
    try container.encode(stepsPerLevel, forKey: .stepsPerLevel)
    try container.encode(hiddenChannels, forKey: .hiddenChannels)
    try container.encode(mixer, forKey: .mixer)
    try container.encode(couplingScale, forKey: .couplingScale)
    try container.encode(learnedSplitPrior, forKey: .learnedSplitPrior)
    try container.encodeIfPresent(splitPriorLogStandardDeviationBound, forKey: .splitPriorLogStandardDeviationBound)
    if circulantDiagonalInitialization != .random {
      try container.encode(circulantDiagonalInitialization, forKey: .circulantDiagonalInitialization)
    }
    if circulantDiagonalNormalization != .none {
      try container.encode(circulantDiagonalNormalization, forKey: .circulantDiagonalNormalization)
    }
    try container.encode(seed, forKey: .seed)
  }

  /// `[channels, height, width]`, the shape of one image.
  public var imageShape: [Int] { [channels, height, width] }

  /// What makes the configuration unusable, in one sentence; `nil` when it is valid.
  public var problem: String? {
    if channels < 1 || height < 1 || width < 1 {
      return "the image shape \(imageShape) must have positive sizes"
    }
    if levels < 1 || stepsPerLevel < 0 || hiddenChannels < 1 {
      return "levels \(levels) must be ≥ 1, stepsPerLevel \(stepsPerLevel) ≥ 0 and hiddenChannels \(hiddenChannels) ≥ 1"
    }
    let block = 1 << Swift.min(levels, 30)
    if height % block != 0 || width % block != 0 {
      return "height \(height) and width \(width) must be divisible by 2^levels = \(block) for \(levels) squeezes"
    }
    if case .circulantDiagonal(let factors) = mixer, factors < 1 {
      return "the circulant-diagonal mixer needs at least one diagonal factor, not \(factors)"
    }
    if case .softClamp(let bound) = couplingScale, !(bound > 0 && bound.isFinite) {
      return "the soft-clamp bound \(bound) must be positive and finite"
    }
    if let bound = splitPriorLogStandardDeviationBound, !(bound > 0 && bound.isFinite) {
      return "the split prior's log σ bound \(bound) must be positive and finite"
    }
    return nil
  }

  /// The configuration as JSON with sorted keys (stable, one line).
  public var jsonString: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // Encoding plain numbers, strings and booleans cannot fail.
    return String(decoding: try! encoder.encode(self), as: UTF8.self)
  }

  /// Reads a configuration written by ``jsonString``.
  /// - Throws: ``CDFlowConfigurationError`` when the text is not such a
  ///   configuration or describes an invalid one (see ``problem``).
  public init(jsonString: String) throws {
    let decoded: CDFlowConfiguration
    do {
      decoded = try JSONDecoder().decode(CDFlowConfiguration.self, from: Data(jsonString.utf8))
    } catch {
      throw CDFlowConfigurationError.unreadable(description: "\(error)")
    }
    if let problem = decoded.problem { throw CDFlowConfigurationError.invalid(problem: problem) }
    self = decoded
  }
}

/// A CDFlow configuration that cannot be read or used.
public enum CDFlowConfigurationError: Error, Equatable, CustomStringConvertible {
  /// The JSON does not decode to a configuration.
  case unreadable(description: String)
  /// The configuration decodes but describes no valid model.
  case invalid(problem: String)

  public var description: String {
    switch self {
    case .unreadable(let description): return "CDFlow configuration: unreadable JSON: \(description)"
    case .invalid(let problem): return "CDFlow configuration: \(problem)"
    }
  }
}
