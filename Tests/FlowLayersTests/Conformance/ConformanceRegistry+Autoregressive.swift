import FlowLayers
import FlowTensor

extension ConformanceRegistry {
  /// Transformer autoregressive flows (TarFlow) with each transform and patch
  /// size, in both reading orders, and TarFlowLM's ChannelMix. Each case checks that the Jacobian is
  /// lower triangular with positions in reading order and, inside a
  /// position, features in order (the MADE order of Mix-1, the channel
  /// order of Mix-d's Rosenblatt map).
  static var autoregressive: [ConformanceCase] {
    let configurations: [(AutoregressiveTransform, Int, SequenceOrder, channels: Int, ConditionerInput)] = [
      (.affine, 1, .identity, 4, .features),
      (.affine, 2, .reversed, 4, .features),
      (.affine, 3, .identity, 2, .features),
      (.mixtureCDF(components: 3, hiddenSize: 8), 1, .identity, 3, .features),
      (.mixtureCDF(components: 2, hiddenSize: 6), 2, .reversed, 2, .features),
      (.mixtureRosenblatt(components: 4), 1, .reversed, 3, .features),
      (.mixtureRosenblatt(components: 3), 2, .identity, 3, .features),
      // The transformer reading a codebook posterior (its own, untied, so
      // the parameter gradients cover the posterior's means and scales).
      (.affine, 2, .reversed, 3, .codebookPosterior(components: 5)),
      (.mixtureCDF(components: 3, hiddenSize: 8), 1, .identity, 2, .codebookPosterior(components: 4)),
      (.mixtureRosenblatt(components: 4), 1, .identity, 3, .codebookPosterior(components: 4)),
    ]
    let length = 6
    let mix = [
      ConformanceCase(
        name: "ChannelMix(5 channels)", inputShape: [2, 3, 5],
        double: { _ in ChannelMix<Double>(channels: 5) }, float: { _ in ChannelMix<Float>(channels: 5) })
    ]
    return mix + configurations.map { transform, patchSize, order, channels, conditionerInput in
      var options = BijectorConformanceOptions()
      options.triangularOrder = autoregressiveOrder(
        length: length, channels: channels, patchSize: patchSize, order: order)
      func make<Scalar: TensorScalar>(_ generator: inout SeededGenerator) -> TransformerAutoregressiveFlow<Scalar> {
        TransformerAutoregressiveFlow(
          channels: channels, length: length, patchSize: patchSize, width: 8, layerCount: 2, headCount: 2,
          expansion: 2, transform: transform, order: order, conditionerInput: conditionerInput, using: &generator)
      }
      let reads = conditionerInput == .features ? "" : ", reads \(conditionerInput)"
      return ConformanceCase(
        name: "TransformerAutoregressiveFlow(\(transform), patch \(patchSize), \(order)\(reads))",
        inputShape: [2, length, channels], options: options,
        double: { make(&$0) as TransformerAutoregressiveFlow<Double> },
        float: { make(&$0) as TransformerAutoregressiveFlow<Float> })
    }
  }

  /// Flattened event indices (token·channels + channel) in the order the
  /// flow conditions them: positions in reading order, features in order.
  static func autoregressiveOrder(length: Int, channels: Int, patchSize: Int, order: SequenceOrder) -> [Int] {
    let positions = length / patchSize
    let features = patchSize * channels
    let reading = order == .identity ? Array(0..<positions) : Array((0..<positions).reversed())
    return reading.flatMap { position in (0..<features).map { position * features + $0 } }
  }
}
