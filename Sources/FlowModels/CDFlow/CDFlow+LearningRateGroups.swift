import FlowLayers
import FlowTensor

extension CDFlow {
  /// CDFlow's channel-aware learning-rate scaling (Feng & Liao, NeurIPS
  /// 2025, §4.1, "to prevent abrupt updates"; the paper gives no formula):
  /// one ``FlowTensor/LearningRateGroup`` per circulant-diagonal mixer, its
  /// parameters trained at `scale`/√n times the learning rate, n being
  /// that mixer's channel count. Empty for the other mixers.
  ///
  /// Why 1/√n (this project's choice): Adam moves every scalar by about η
  /// per step whatever its gradient's size, so a mixer's ≈(2m − 1)·n
  /// log-magnitudes all move by ≈η, and log|det W| per pixel, their
  /// weighted sum, by a sum of about (2m − 1)·n such steps. Steps of
  /// independent signs add to ≈√n·η, steps of one sign (the
  /// log-determinant term pushes every log-magnitude the same way) to
  /// n·η: the change per step grows with the channels, the deeper levels
  /// (more channels after each squeeze) moving fastest. Dividing by √n
  /// makes the first case independent of n and halves the growth of the
  /// second; at n = 4 and 8 (Fashion-MNIST's two levels) and `scale` 1 the
  /// multipliers are 0.5 and 0.35.
  /// - Parameters:
  ///   - scale: finite and ≥ 0; the multiplier of a one-channel mixer.
  /// - Returns: one group per mixer, its path the mixer's (e.g.
  ///   `transform.layers.1.layers.1`, holding its `diagonals.…` and
  ///   `circulants.…` parameters), in parameter order.
  /// - Complexity: O(parameters).
  public func circulantDiagonalLearningRateGroups(scale: Double) -> [LearningRateGroup] {
    precondition(
      scale.isFinite && scale >= 0,
      "CDFlow.circulantDiagonalLearningRateGroups(scale: \(scale)): the scale must be finite and ≥ 0")
    guard case .circulantDiagonal = configuration.mixer else { return [] }
    // Every circulant-diagonal mixer has exactly one first diagonal, whose
    // log-magnitudes are `[n]`; no other layer of the model has diagonals.
    let marker = ".diagonals.0.logMagnitude"
    return parameters.compactMap { parameter in
      guard parameter.name.hasSuffix(marker) else { return nil }
      let path = String(parameter.name.dropLast(marker.count))
      let channels = parameter.value.shape[0]
      return LearningRateGroup(path: path, multiplier: scale / Double(channels).squareRoot())
    }
  }
}
