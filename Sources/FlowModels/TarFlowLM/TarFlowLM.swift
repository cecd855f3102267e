import FlowLayers
import FlowTensor

/// TarFlowLM (Zhang et al., arXiv 2507.00425): characters encoded by a
/// ``TokenCodebook`` into latents z `[batch, length, d]`, whose prior is a
/// stack of TarFlow blocks (``TransformerAutoregressiveFlow``, alternating
/// identity and reversed order) over a standard-normal base.
///
/// log p(z) = log N(u; 0, I) + Σ_ℓ log|det ∂h⁽ℓ⁾/∂h⁽ℓ⁻¹⁾| with h⁽⁰⁾ = z and
/// u = h⁽ᴸ⁾ (§3.3). The loss is −ELBO in bits per character (an upper
/// bound on the cross-entropy, Eq. 9).
///
/// **Mix-d** ties block 0's ``RosenblattMixture`` to the codebook: its
/// means and log-scales are the codebook's, set before every use
/// (``tiedBlocks``), so their gradients reach the codebook.
///
/// With ``TarFlowLMConfiguration/conditionerInput`` `.posterior`, block 0's
/// transformer reads each latent's posterior over the codebook instead of
/// the latent (``CodebookPosterior``, tied to the codebook the same way).
///
/// **Progressive training** (§3.3): ``frozenBlockCount`` blocks take no
/// gradient (their parameters enter the loss detached). A frozen block's
/// gradient is zero, so an optimizer with fresh moments and no weight decay
/// leaves it unchanged: train a stage, then start a new ``Trainer`` on
/// ``addingBlock(using:)``'s result with the earlier blocks frozen.
///
/// Parameters: `codebook.*`, `blocks.<index>.*`.
public struct TarFlowLM<Scalar: TensorScalar>: Layer {
  public var codebook: TokenCodebook<Scalar>
  /// The flows, data side first: block ℓ maps h⁽ℓ⁾ to h⁽ℓ⁺¹⁾.
  public var blocks: [TransformerAutoregressiveFlow<Scalar>]
  /// The architecture (with the current block and frozen counts).
  public private(set) var configuration: TarFlowLMConfiguration
  /// Whether training may start (there is no data-dependent initialisation).
  public var isPrepared = false

  /// A model at its initial parameters: the codebook random, every block
  /// at its starting map (the identity for affine blocks).
  /// - Parameters:
  ///   - configuration: precondition: ``TarFlowLMConfiguration/problem`` is `nil`.
  public init(configuration: TarFlowLMConfiguration) {
    if let problem = configuration.problem { preconditionFailure("TarFlowLM: \(problem)") }
    var generator = SeededGenerator(seed: configuration.seed)
    codebook = TokenCodebook(
      vocabularySize: configuration.vocabularySize, latentDimension: configuration.latentDimension,
      initialScale: Scalar(configuration.initialScale), using: &generator)
    blocks = []
    self.configuration = configuration
    for index in 0..<configuration.blockCount {
      blocks.append(Self.makeBlock(index: index, configuration: configuration, using: &generator))
    }
  }

  /// Block `index` of `configuration`: order alternating from identity,
  /// the transform of ``TarFlowLMTransform``.
  static func makeBlock(
    index: Int, configuration: TarFlowLMConfiguration, using generator: inout SeededGenerator
  ) -> TransformerAutoregressiveFlow<Scalar> {
    let transform: AutoregressiveTransform
    switch configuration.transform {
    case .affine:
      transform = .affine
    case .mix1:
      transform = .mixtureCDF(
        components: configuration.mixtureComponents, hiddenSize: configuration.mixtureHiddenSize)
    case .mixd:
      transform = index == 0
        ? .mixtureRosenblatt(components: configuration.vocabularySize)
        : .mixtureCDF(components: configuration.mixtureComponents, hiddenSize: configuration.mixtureHiddenSize)
    }
    // Only block 0 reads codebook latents; later blocks read the flows' outputs.
    let readsPosterior = index == 0 && configuration.conditionerInput == .posterior
    var block = TransformerAutoregressiveFlow<Scalar>(
      channels: configuration.latentDimension, length: configuration.length, patchSize: configuration.patchSize,
      width: configuration.width, layerCount: configuration.layersPerBlock, headCount: configuration.headCount,
      transform: transform, order: index % 2 == 0 ? .identity : .reversed,
      conditionerInput: readsPosterior ? .codebookPosterior(components: configuration.vocabularySize) : .features,
      using: &generator)
    if block.mixture != nil {
      block.mixture!.isTied = true
    }
    if block.codebookPosterior != nil {
      block.codebookPosterior!.isTied = true
    }
    return block
  }

  /// d, the latent width.
  public var latentDimension: Int { configuration.latentDimension }
  /// The context in tokens.
  public var length: Int { configuration.length }
  /// The number of frozen blocks (the first ones).
  public var frozenBlockCount: Int { configuration.frozenBlockCount }

  /// Freezes the first `count` blocks (progressive training).
  /// - Parameters:
  ///   - count: in `0...blocks.count`.
  public mutating func freezeBlocks(_ count: Int) {
    precondition(
      count >= 0 && count <= blocks.count, "TarFlowLM.freezeBlocks: \(count) outside 0…\(blocks.count)")
    configuration.frozenBlockCount = count
  }

  /// This model with one more block (at its starting map) on the base
  /// side, every existing block frozen: the next stage of progressive training.
  /// - Parameters:
  ///   - generator: the new block's initial values.
  public func addingBlock(using generator: inout SeededGenerator) -> TarFlowLM {
    var result = self
    result.blocks.append(Self.makeBlock(index: blocks.count, configuration: configuration, using: &generator))
    result.configuration.blockCount += 1
    result.configuration.frozenBlockCount = blocks.count
    return result
  }

  /// The blocks as the prior uses them: Mix-d's mixture set to the codebook,
  /// frozen blocks' parameters detached.
  public var tiedBlocks: [TransformerAutoregressiveFlow<Scalar>] {
    var result = blocks
    for index in result.indices {
      if index < frozenBlockCount {
        result[index].updateParameters { _, parameter in parameter = stopGradient(parameter) }
      }
      let frozen = index < frozenBlockCount
      let means = frozen ? stopGradient(codebook.means) : codebook.means
      let logScales = frozen ? stopGradient(codebook.logScales) : codebook.logScales
      if result[index].mixture?.isTied == true {
        result[index].mixture!.means = means
        result[index].mixture!.logScales = logScales
      }
      if result[index].codebookPosterior?.isTied == true {
        result[index].codebookPosterior!.means = means
        result[index].codebookPosterior!.logScales = logScales
      }
    }
    return result
  }

  /// log p(z) under the flow prior, in nats, summed over each sequence.
  /// - Parameters:
  ///   - latents: `[batch, length', d]`, length' ≤ ``length`` and a multiple of the patch size.
  /// - Returns: `[batch]`, differentiable.
  /// - Complexity: one forward pass of every block.
  public func priorLogDensity(_ latents: Tensor<Scalar>) -> Tensor<Scalar> {
    priorLogDensity(latents, blocks: tiedBlocks)
  }

  func priorLogDensity(_ latents: Tensor<Scalar>, blocks: [TransformerAutoregressiveFlow<Scalar>]) -> Tensor<Scalar> {
    var h = latents
    var logDeterminant = Tensor<Scalar>.zeros(shape: [latents.shape[0]])
    for block in blocks {
      let (next, blockLogDeterminant) = block.forward(h)
      h = next
      logDeterminant = logDeterminant + blockLogDeterminant
    }
    let events = Scalar(h.shape[1] * h.shape[2])
    let base = -0.5 * square(h).sum(alongAxes: [1, 2]) - events * Scalar(0.9189385332046728)
    return base + logDeterminant
  }

  /// What each flow adds to log p(z): flow ℓ's log-determinant plus
  /// log N(h⁽ℓ⁺¹⁾; 0, I) − log N(h⁽ℓ⁾; 0, I), the density it gives its
  /// input over a standard normal's, in nats per sequence. The gains and
  /// log N(z; 0, I) sum to ``priorLogDensity(_:)``; a flow whose gain is
  /// near zero leaves its input as Gaussian as it found it.
  /// - Parameters:
  ///   - latents: as for ``priorLogDensity(_:)``.
  /// - Returns: one `[batch]` per flow, data side first.
  /// - Complexity: one forward pass of every block.
  public func flowGains(_ latents: Tensor<Scalar>) -> [Tensor<Scalar>] {
    func standardNormalLogDensity(_ h: Tensor<Scalar>) -> Tensor<Scalar> {
      -0.5 * square(h).sum(alongAxes: [1, 2]) - Scalar(h.shape[1] * h.shape[2]) * Scalar(0.9189385332046728)
    }
    var h = latents
    var gains: [Tensor<Scalar>] = []
    for block in tiedBlocks {
      let (next, logDeterminant) = block.forward(h)
      gains.append(logDeterminant + standardNormalLogDensity(next) - standardNormalLogDensity(h))
      h = next
    }
    return gains
  }

  /// The ELBO's terms on `tokens` with fresh encoder noise.
  /// - Parameters:
  ///   - tokens: `[batch, length']`, as for ``priorLogDensity(_:)``.
  public func evidenceBound(of tokens: IndexTensor, using generator: inout SeededGenerator) -> TokenEvidenceBound<Scalar> {
    let blocks = tiedBlocks
    return codebook.evidenceLowerBound(of: tokens, using: &generator) { priorLogDensity($0, blocks: blocks) }
  }

  /// The importance-weighted bound in bits per character per sequence,
  /// over `samples` encoder draws; tighter than the ELBO's.
  /// - Returns: `[batch]`, bits per character (an upper bound on the cross-entropy).
  public func importanceWeightedBitsPerCharacter(
    of tokens: IndexTensor, samples: Int, using generator: inout SeededGenerator
  ) -> Tensor<Scalar> {
    let blocks = tiedBlocks
    let bound = codebook.importanceWeightedBound(of: tokens, samples: samples, using: &generator) {
      priorLogDensity($0, blocks: blocks)
    }
    return -bound / Scalar.log(2)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("codebook", &codebook)
    visitor.visit("blocks", &blocks)
  }
}
