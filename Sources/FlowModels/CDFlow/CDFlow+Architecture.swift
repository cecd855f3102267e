import FlowLayers
import FlowTensor

extension CDFlow {
  /// Level `index` of `configuration.levels`, for inputs of `channels` channels:
  ///
  ///     Chain([Squeeze(), step…, MultiScale(inner: level(index + 1),
  ///            split: MultiScaleSplit(channels: 4·channels)), Unsqueeze()])
  ///
  /// (the last level has no split), so every level maps `[batch, channels,
  /// h, w]` to itself (see ``FlowLayers/MultiScale``).
  static func level(
    _ index: Int, channels: Int, configuration: CDFlowConfiguration, using generator: inout SeededGenerator
  ) -> Chain<Scalar> {
    let squeezed = 4 * channels
    var layers: [any Bijector<Scalar>] = [Squeeze<Scalar>()]
    for _ in 0..<configuration.stepsPerLevel {
      layers.append(step(channels: squeezed, configuration: configuration, using: &generator))
    }
    if index < configuration.levels - 1 {
      let inner = level(index + 1, channels: squeezed / 2, configuration: configuration, using: &generator)
      let prior: MultiScaleSplit<Scalar>.Prior = configuration.learnedSplitPrior ? .learned : .standardNormal
      let split = MultiScaleSplit<Scalar>(
        channels: squeezed, prior: prior,
        logStandardDeviationBound: configuration.splitPriorLogStandardDeviationBound)
      layers.append(MultiScale(inner: inner, split: split))
    }
    layers.append(Unsqueeze<Scalar>())
    return Chain(layers)
  }

  /// One step of flow: ActNorm → mixer → affine coupling (channel halves,
  /// ``GlowConditioner``), as `Chain` layers 0, 1, 2.
  static func step(
    channels: Int, configuration: CDFlowConfiguration, using generator: inout SeededGenerator
  ) -> Chain<Scalar> {
    let counts = CouplingMask.channelHalf.conditionerChannels(forChannels: channels)
    let conditioner = GlowConditioner<Scalar>(
      inputChannels: counts.input, hiddenChannels: configuration.hiddenChannels, outputChannels: 2 * counts.output,
      using: &generator)
    return Chain([
      ActNorm<Scalar>(channels: channels),
      mixer(channels: channels, configuration: configuration, using: &generator),
      AffineCoupling(mask: .channelHalf, scale: configuration.couplingScale.couplingScale, conditioner: conditioner),
    ])
  }

  /// The 1×1 mixer of `channels` channels, at its standard initialisation
  /// (random orthogonal, or the reversal; the circulant-diagonal one as
  /// the configuration's initialisation and normalisation say).
  static func mixer(
    channels: Int, configuration: CDFlowConfiguration, using generator: inout SeededGenerator
  ) -> any Bijector<Scalar> {
    switch configuration.mixer {
    case .circulantDiagonal(let factors):
      if configuration.circulantDiagonalInitialization == .identity {
        // Draw (and drop) the random factors all the same, so that every
        // other layer gets the draws it gets with the random
        // initialisation: the two initialisations then differ in the
        // mixers alone, which is what a comparison of them needs.
        _ = CirculantDiagonalFactors<Scalar>(
          size: channels, diagonalCount: factors, initialization: .random, using: &generator)
      }
      return CirculantDiagonalConv1x1<Scalar>(
        channels: channels, diagonalCount: factors, initialization: configuration.circulantDiagonalInitialization,
        normalization: configuration.circulantDiagonalNormalization, using: &generator)
    case .lu:
      return LUInvertibleConvolution1x1<Scalar>(channels: channels, using: &generator)
    case .dense:
      return InvertibleConvolution1x1<Scalar>(channels: channels, using: &generator)
    case .reverse:
      return ChannelPermutation<Scalar>(reversingChannels: channels)
    }
  }
}
