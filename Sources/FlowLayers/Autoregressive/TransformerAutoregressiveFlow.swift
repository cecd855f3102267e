import FlowTensor

/// A TarFlow block (Zhai et al. 2024, arXiv 2412.06329; TarFlowLM, arXiv
/// 2507.00425): a causal transformer reads the positions before i and
/// predicts the parameters of an invertible map of position i.
///
/// Input `[batch, length, channels]`. Every `patchSize` consecutive tokens
/// form one position of `patchSize·channels` features; positions are read
/// in `order` (stacks alternate identity and reversed). The network's
/// output is shifted right by one position, so position i's parameters
/// depend only on positions < i, and position 0's are zero; the output
/// projection starts at zero, so a new block is the identity (affine), a
/// fixed near-identity mixture map (Mix-1: components spread over the
/// data's range, see `mixtureBias`)
/// or the codebook's Rosenblatt map (Mix-d). The transformer reads the
/// positions themselves or, over codebook latents, each token's posterior
/// over the codebook (``ConditionerInput``).
///
/// `forward` (data → base) is one parallel pass; `inverse` is sequential
/// over positions and reuses the attention keys and values through a
/// ``TransformerCache``.
///
/// **Which direction is safe to check.** The inverse of an autoregressive
/// stack is ill-conditioned when its scales are strongly expansive: a
/// rounding error at an early position changes the parameters of every
/// later one, and the expansion amplifies it. Measured with PyTorch on
/// this block (issue 8: head weights of std 0.05, |α| up to 3.1),
/// z → x → z stayed within 1e-5 while x → z → x was off by 18.5 in `Float`
/// and 0.043 in `Double`; with std 0.01 both directions were within 1e-6
/// in `Float`. So z → x → z (sample, then evaluate the density) is the
/// safe direction, and the tests check it with weights far from the
/// identity; x → z → x is accurate for mild weights, as a zero-initialised
/// or trained block has them, and the conformance suite checks it there.
///
/// Parameters: `network.*`, and `maskedHead.*` (Mix-1) or `mixture.*` (Mix-d),
/// and `codebookPosterior.*` when the transformer reads one (untied).
public struct TransformerAutoregressiveFlow<Scalar: TensorScalar>: Bijector {
  public var network: CausalTransformer<Scalar>
  /// The within-position MADE of Mix-1; `nil` otherwise.
  public var maskedHead: MaskedAutoregressiveHead<Scalar>?
  /// The codebook of Mix-d; `nil` otherwise.
  public var mixture: RosenblattMixture<Scalar>?
  /// The codebook whose posterior the transformer reads
  /// (``ConditionerInput/codebookPosterior(components:)``); `nil` when it
  /// reads the features.
  public var codebookPosterior: CodebookPosterior<Scalar>?
  public let channels: Int
  public let patchSize: Int
  public let transform: AutoregressiveTransform
  public let order: SequenceOrder

  /// A block that starts at the identity (affine, Mix-1).
  /// - Parameters:
  ///   - channels: ≥ 1, features per token.
  ///   - length: ≥ 1, the longest input in tokens, a multiple of `patchSize`.
  ///   - patchSize: ≥ 1, tokens per position.
  ///   - width, layerCount, headCount, expansion: the transformer's shape.
  ///   - transform: the map applied at each position.
  ///   - order: identity or reversed.
  ///   - conditionerInput: what the transformer reads (its input width follows).
  ///   - generator: the seeded source of the initial values.
  public init(
    channels: Int, length: Int, patchSize: Int = 1, width: Int, layerCount: Int, headCount: Int,
    expansion: Int = 4, transform: AutoregressiveTransform = .affine, order: SequenceOrder = .identity,
    conditionerInput: ConditionerInput = .features, using generator: inout SeededGenerator
  ) {
    precondition(
      channels >= 1 && patchSize >= 1 && length >= 1 && length % patchSize == 0,
      "TransformerAutoregressiveFlow(channels: \(channels), length: \(length), patchSize: \(patchSize)): "
        + "sizes must be ≥ 1 and length a multiple of patchSize")
    let features = channels * patchSize
    let outputSize: Int
    switch transform {
    case .affine:
      outputSize = 2 * features
    case .mixtureCDF(let components, let hiddenSize):
      precondition(
        components >= 1 && hiddenSize >= 1,
        "TransformerAutoregressiveFlow: mixtureCDF(components: \(components), hiddenSize: \(hiddenSize)) needs both ≥ 1")
      outputSize = hiddenSize
    case .mixtureRosenblatt(let components):
      precondition(
        components >= 1, "TransformerAutoregressiveFlow: mixtureRosenblatt(components: \(components)) needs ≥ 1")
      outputSize = patchSize * components
    }
    let inputSize: Int
    switch conditionerInput {
    case .features:
      inputSize = features
    case .codebookPosterior(let components):
      precondition(
        components >= 1, "TransformerAutoregressiveFlow: codebookPosterior(components: \(components)) needs ≥ 1")
      inputSize = patchSize * components
    }
    network = CausalTransformer(
      inputSize: inputSize, outputSize: outputSize, maxLength: length / patchSize, width: width,
      layerCount: layerCount, headCount: headCount, expansion: expansion, using: &generator)
    switch transform {
    case .affine:
      break
    case .mixtureCDF(let components, let hiddenSize):
      var head = MaskedAutoregressiveHead<Scalar>(
        features: features, hiddenSize: hiddenSize, outputsPerFeature: 3 * components, using: &generator)
      head.output.bias = Self.mixtureBias(features: features, components: components)
      maskedHead = head
    case .mixtureRosenblatt(let components):
      mixture = RosenblattMixture(components: components, channels: channels, using: &generator)
    }
    if case .codebookPosterior(let components) = conditionerInput {
      codebookPosterior = CodebookPosterior(components: components, channels: channels, using: &generator)
    }
    self.channels = channels
    self.patchSize = patchSize
    self.transform = transform
    self.order = order
  }

  /// The initial Mix-1 parameters of every feature: equal weights, a
  /// common scale s = ½ (1 for one component), and means at the standard
  /// normal's quantiles Φ⁻¹((k + ½)/K), rescaled so that the mixture's
  /// variance is 1. The map is fixed (the head's weights start at zero)
  /// and monotone, within 0.34 of the identity for |z| ≤ 3 at K = 27
  /// (0.98 at K = 4; exactly the identity at K = 1).
  ///
  /// Identical components would stay identical under gradient descent
  /// (their gradients agree), so they must start apart. Spreading them
  /// over the data's range (a codebook's means are standard normal), each
  /// half as wide as the data, lets a block model a multimodal
  /// conditional (a Markov chain over separated tokens) by learning
  /// weights rather than only by carrying every mean out to a mode at the
  /// optimizer's pace of about one learning rate per step.
  static func mixtureBias(features: Int, components: Int) -> Tensor<Scalar> {
    let scale = components == 1 ? 1.0 : 0.5
    let quantiles = (0..<components).map { inverseNormalCDF((Double($0) + 0.5) / Double(components)) }
    let spread = quantiles.reduce(0) { $0 + $1 * $1 } / Double(components)
    // Σ_k m_k = 0 by symmetry, so the variance is mean(m²) + s² = 1.
    let stretch = spread > 0 ? ((1 - scale * scale) / spread).squareRoot() : 0
    let perFeature =
      Array(repeating: Scalar(0), count: components) + quantiles.map { Scalar($0 * stretch) }
      + Array(repeating: Scalar(Double.log(scale)), count: components)
    return Tensor(shape: [features * 3 * components], scalars: Array((0..<features).map { _ in perFeature }.joined()))
  }

  /// Features per position, `patchSize·channels`.
  public var features: Int { patchSize * channels }

  /// Maps data to the base: all positions in one pass.
  /// - Parameters:
  ///   - x: `[batch, length, channels]`, length a multiple of `patchSize`
  ///     and at most the length given at initialisation.
  /// - Returns: z of `x`'s shape and log|det ∂z/∂x| per sample `[batch]`.
  /// - Complexity: one transformer pass, O(batch·length·width² + batch·length²·width) per layer.
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let positions = self.positions(x)
    let output = network(conditionerInput(positions))
    let (batch, count) = (positions.shape[0], positions.shape[1])
    let shifted = Tensor(
      concatenating: [
        Tensor.zeros(shape: [batch, 1, network.outputSize]), output.sliced(alongAxis: 1, from: 0, to: count - 1),
      ],
      alongAxis: 1)
    let (z, logDeterminant) = transformForward(positions, parameters: shifted)
    return (tokens(z), logDeterminant)
  }

  /// Maps base samples back to data, position by position, with the
  /// attention keys and values cached.
  /// - Parameters:
  ///   - y: `[batch, length, channels]`, as for ``forward(_:)``.
  /// - Returns: x and the inverse's log|det ∂x/∂y| (minus the forward's at x), `[batch]`.
  /// - Complexity: one transformer step per position; see ``inverse(_:usingCache:)``.
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    inverse(y, usingCache: true)
  }

  /// Maps base samples back to data, position by position.
  /// - Parameters:
  ///   - y: `[batch, length, channels]`, as for ``forward(_:)``.
  ///   - usingCache: feed each decoded position once through a
  ///     ``TransformerCache`` (O(positions) network rows in all), or rerun
  ///     the network on the whole prefix at every step (O(positions²) rows;
  ///     the reference the cache is checked against).
  /// - Returns: x and the inverse's log-determinant `[batch]`.
  public func inverse(_ y: Tensor<Scalar>, usingCache: Bool) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let positions = self.positions(y)
    let (batch, count) = (positions.shape[0], positions.shape[1])
    var cache = network.makeCache()
    let decoder = maskedHead?.makeDecoder()
    var decoded: [Tensor<Scalar>] = []
    var logDeterminant = Tensor<Scalar>.zeros(shape: [batch])
    for index in 0..<count {
      let parameters: Tensor<Scalar>
      if index == 0 {
        parameters = Tensor.zeros(shape: [batch, 1, network.outputSize])
      } else if usingCache {
        parameters = network(conditionerInput(decoded[index - 1]), cache: &cache)
      } else {
        parameters = network(conditionerInput(Tensor(concatenating: decoded, alongAxis: 1)))
          .sliced(alongAxis: 1, from: index - 1, to: index)
      }
      let (x, positionLogDeterminant) = transformInverse(
        positions.sliced(alongAxis: 1, from: index, to: index + 1), parameters: parameters, decoder: decoder)
      decoded.append(x)
      logDeterminant = logDeterminant + positionLogDeterminant
    }
    let x = count == 0 ? positions : Tensor(concatenating: decoded, alongAxis: 1)
    return (tokens(x), -logDeterminant)
  }

  /// What the transformer reads: the positions themselves, or each
  /// token's codebook posterior.
  /// - Parameters:
  ///   - positions: `[batch, positions, features]`.
  /// - Returns: `[batch, positions, network.inputSize]`.
  func conditionerInput(_ positions: Tensor<Scalar>) -> Tensor<Scalar> {
    guard let codebookPosterior else { return positions }
    let (batch, count) = (positions.shape[0], positions.shape[1])
    return codebookPosterior(positions.reshaped(to: [batch, count * patchSize, channels]))
      .reshaped(to: [batch, count, patchSize * codebookPosterior.components])
  }

  /// `[batch, length, channels]` → `[batch, positions, features]` in reading order.
  func positions(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(
      x.rank == 3 && x.shape[2] == channels && x.shape[1] % patchSize == 0
        && x.shape[1] / patchSize <= network.maxLength,
      "TransformerAutoregressiveFlow: input \(x.shape) is not [batch, length, \(channels)] with length a multiple of "
        + "\(patchSize) and at most \(network.maxLength * patchSize)")
    let patched = x.reshaped(to: [x.shape[0], x.shape[1] / patchSize, features])
    return order == .reversed ? patched.reversed(alongAxes: [1]) : patched
  }

  /// The inverse of `positions(_:)`.
  func tokens(_ positions: Tensor<Scalar>) -> Tensor<Scalar> {
    let ordered = order == .reversed ? positions.reversed(alongAxes: [1]) : positions
    return ordered.reshaped(to: [positions.shape[0], positions.shape[1] * patchSize, channels])
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("network", &network)
    visitor.visit("maskedHead", &maskedHead)
    visitor.visit("mixture", &mixture)
    visitor.visit("codebookPosterior", &codebookPosterior)
  }
}
