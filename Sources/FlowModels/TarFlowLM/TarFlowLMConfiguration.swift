import Foundation

/// The map each block of a ``TarFlowLM`` prior applies (arXiv 2507.00425, §3.2).
public enum TarFlowLMTransform: String, Codable, CaseIterable, Sendable {
  /// Every block affine (TarFlow).
  case affine
  /// Every block a per-dimension Gaussian-mixture CDF (Mix-1).
  case mix1
  /// The first block a Mixture-Rosenblatt flow over the codebook (Mix-d,
  /// tied to the encoder), the later ones Mix-1, as the paper's Mix-d model.
  case mixd
}

/// What the first block's transformer reads at each position.
public enum TarFlowLMConditionerInput: String, Codable, CaseIterable, Sendable {
  /// The latents z themselves, through the input projection (the paper).
  case latents
  /// Each latent's posterior over the codebook, p(x | z) under equal
  /// weights (``CodebookPosterior``): with separated codes, the one-hot of
  /// the encoded character, as the discrete baseline reads (Prop. 4).
  case posterior
}

/// A ``TarFlowLM``'s architecture, stored as JSON in its checkpoints.
public struct TarFlowLMConfiguration: Codable, Equatable, Sendable {
  /// V, the tokens (27 characters).
  public var vocabularySize: Int
  /// d, the latent width per token (5 for text8 in the paper).
  public var latentDimension: Int
  /// The context: tokens per sequence, a multiple of ``patchSize``.
  public var length: Int
  /// The flows of the prior, alternating direction.
  public var blockCount: Int
  /// Transformer layers per flow.
  public var layersPerBlock: Int
  public var width: Int
  public var headCount: Int
  public var transform: TarFlowLMTransform
  /// Gaussians per feature of the Mix-1 blocks. The default 4 keeps small
  /// models small; `flows train tarflowlm` uses 27 (the vocabulary, as the
  /// paper on text8), which the Markov corpus needs.
  public var mixtureComponents: Int
  /// Hidden units of Mix-1's within-position masked network (also the
  /// transformer's output width). Feature i's parameters pass through the
  /// units of degree ≤ i only, about (i + 1)/features of them, so the first
  /// feature of a 5-wide token gets 7 of the default 32; `flows train
  /// tarflowlm` uses 128 (the paper's App. H).
  public var mixtureHiddenSize: Int
  /// P, tokens per position (and per generation step).
  public var patchSize: Int
  /// σ of every codebook entry at the start.
  public var initialScale: Double
  /// What the first block's transformer reads (later blocks read their
  /// input, which is no longer in the codebook's space). Absent from
  /// older checkpoints, which read the latents.
  public var conditionerInput: TarFlowLMConditionerInput
  /// The first this many blocks are frozen (progressive training).
  public var frozenBlockCount: Int
  /// Fixes the initial parameters.
  public var seed: UInt64

  public init(
    vocabularySize: Int = 27, latentDimension: Int = 5, length: Int = 64, blockCount: Int = 2,
    layersPerBlock: Int = 2, width: Int = 64, headCount: Int = 1, transform: TarFlowLMTransform = .affine,
    mixtureComponents: Int = 4, mixtureHiddenSize: Int = 32, patchSize: Int = 1, initialScale: Double = 0.5,
    conditionerInput: TarFlowLMConditionerInput = .latents, frozenBlockCount: Int = 0, seed: UInt64 = 0
  ) {
    self.vocabularySize = vocabularySize
    self.latentDimension = latentDimension
    self.length = length
    self.blockCount = blockCount
    self.layersPerBlock = layersPerBlock
    self.width = width
    self.headCount = headCount
    self.transform = transform
    self.mixtureComponents = mixtureComponents
    self.mixtureHiddenSize = mixtureHiddenSize
    self.patchSize = patchSize
    self.initialScale = initialScale
    self.conditionerInput = conditionerInput
    self.frozenBlockCount = frozenBlockCount
    self.seed = seed
  }

  /// What makes the configuration unusable, in one sentence; `nil` when valid.
  public var problem: String? {
    if vocabularySize < 1 { return "vocabulary size \(vocabularySize) must be ≥ 1" }
    if latentDimension < 1 { return "latent dimension \(latentDimension) must be ≥ 1" }
    if patchSize < 1 { return "patch size \(patchSize) must be ≥ 1" }
    if length < 1 || length % patchSize != 0 {
      return "context \(length) must be ≥ 1 and a multiple of the patch size \(patchSize)"
    }
    if blockCount < 0 { return "blocks \(blockCount) must be ≥ 0" }
    if layersPerBlock < 0 { return "layers per block \(layersPerBlock) must be ≥ 0" }
    if headCount < 1 || width < 1 || width % headCount != 0 {
      return "width \(width) must be a positive multiple of the head count \(headCount)"
    }
    if mixtureComponents < 1 { return "mixture components \(mixtureComponents) must be ≥ 1" }
    if mixtureHiddenSize < 1 { return "mixture hidden size \(mixtureHiddenSize) must be ≥ 1" }
    if !(initialScale > 0 && initialScale.isFinite) { return "initial scale \(initialScale) must be positive" }
    if frozenBlockCount < 0 || frozenBlockCount > blockCount {
      return "frozen blocks \(frozenBlockCount) must be in 0…\(blockCount)"
    }
    return nil
  }

  private enum CodingKeys: String, CodingKey {
    case vocabularySize, latentDimension, length, blockCount, layersPerBlock, width, headCount, transform
    case mixtureComponents, mixtureHiddenSize, patchSize, initialScale, conditionerInput, frozenBlockCount, seed
  }

  public init(from decoder: any Decoder) throws {
    let values = try decoder.container(keyedBy: CodingKeys.self)
    vocabularySize = try values.decode(Int.self, forKey: .vocabularySize)
    latentDimension = try values.decode(Int.self, forKey: .latentDimension)
    length = try values.decode(Int.self, forKey: .length)
    blockCount = try values.decode(Int.self, forKey: .blockCount)
    layersPerBlock = try values.decode(Int.self, forKey: .layersPerBlock)
    width = try values.decode(Int.self, forKey: .width)
    headCount = try values.decode(Int.self, forKey: .headCount)
    transform = try values.decode(TarFlowLMTransform.self, forKey: .transform)
    mixtureComponents = try values.decode(Int.self, forKey: .mixtureComponents)
    mixtureHiddenSize = try values.decode(Int.self, forKey: .mixtureHiddenSize)
    patchSize = try values.decode(Int.self, forKey: .patchSize)
    initialScale = try values.decode(Double.self, forKey: .initialScale)
    // Checkpoints written before the option existed read the latents.
    conditionerInput = try values.decodeIfPresent(TarFlowLMConditionerInput.self, forKey: .conditionerInput) ?? .latents
    frozenBlockCount = try values.decode(Int.self, forKey: .frozenBlockCount)
    seed = try values.decode(UInt64.self, forKey: .seed)
  }

  /// One line of JSON with sorted keys.
  public var jsonString: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try! encoder.encode(self), as: UTF8.self)
  }

  /// Reads ``jsonString``'s form.
  /// - Throws: a `DecodingError`, or ``TextModelConfigurationError`` when
  ///   the values are unusable.
  public init(jsonString: String) throws {
    self = try JSONDecoder().decode(Self.self, from: Data(jsonString.utf8))
    if let problem { throw TextModelConfigurationError(problem: problem) }
  }
}

/// A text model's configuration that decodes but cannot be built.
public struct TextModelConfigurationError: Error, Equatable, CustomStringConvertible {
  public var problem: String
  public init(problem: String) { self.problem = problem }
  public var description: String { "invalid model configuration: \(problem)" }
}
