import FlowTensor

extension TransformerAutoregressiveFlow {
  /// The transform of every position at once.
  /// - Parameters:
  ///   - x: `[batch, positions, features]`.
  ///   - parameters: `[batch, positions, network.outputSize]`, already shifted.
  /// - Returns: z of `x`'s shape and the log-determinant per sample `[batch]`.
  func transformForward(_ x: Tensor<Scalar>, parameters: Tensor<Scalar>) -> (Tensor<Scalar>, Tensor<Scalar>) {
    switch transform {
    case .affine:
      let (shift, logScale) = affineParameters(parameters)
      // TarFlow: z = (x − μ)·exp(−α), log-det = −Σα.
      return ((x - shift) * exp(-logScale), -logScale.sum(alongAxes: [1, 2]))
    case .mixtureCDF:
      let (logits, means, logScales) = mixtureParameters(maskedHead!(x, context: parameters))
      let (u, logDerivative) = mixtureCDFTransform(x, logits: logits, means: means, logScales: logScales)
      return (u, logDerivative.sum(alongAxes: [1, 2]))
    case .mixtureRosenblatt:
      let (batch, count) = (x.shape[0], x.shape[1])
      let mixture = self.mixture!
      let (u, logDerivative) = mixture.forward(
        x.reshaped(to: [batch * count * patchSize, channels]),
        logits: parameters.reshaped(to: [batch * count * patchSize, mixture.components]))
      return (
        u.reshaped(to: x.shape),
        logDerivative.reshaped(to: [batch, count * features]).sum(alongAxes: [1])
      )
    }
  }

  /// The inverse transform of one position.
  /// - Parameters:
  ///   - z: `[batch, 1, features]`.
  ///   - parameters: `[batch, 1, network.outputSize]`, predicted from the positions before.
  /// - Returns: x of `z`'s shape and the *forward* log-determinant at x, `[batch]`.
  ///   - decoder: Mix-1's head prepared once for the whole inverse (made here when `nil`).
  func transformInverse(
    _ z: Tensor<Scalar>, parameters: Tensor<Scalar>, decoder: MaskedAutoregressiveDecoder<Scalar>? = nil
  ) -> (Tensor<Scalar>, Tensor<Scalar>) {
    let batch = z.shape[0]
    switch transform {
    case .affine:
      let (shift, logScale) = affineParameters(parameters)
      return (z * exp(logScale) + shift, -logScale.sum(alongAxes: [1, 2]))
    case .mixtureCDF:
      // Feature d's mixture depends on features < d of the same position:
      // decode them in order, the unknown ones zero (the mask ignores them).
      let decoder = decoder ?? maskedHead!.makeDecoder()
      var columns: [Tensor<Scalar>] = []
      var logDeterminant = Tensor<Scalar>.zeros(shape: [batch])
      for feature in 0..<features {
        let known = columns + [Tensor.zeros(shape: [batch, 1, features - feature])]
        let raw = decoder(Tensor(concatenating: known, alongAxis: 2), context: parameters, feature: feature)
        let (logits, means, logScales) = mixtureParameters(raw.expandingShape(at: 2))
        let (x, logDerivative) = inverseMixtureCDFTransform(
          z.sliced(alongAxis: 2, from: feature, to: feature + 1), logits: logits, means: means, logScales: logScales)
        columns.append(x)
        logDeterminant = logDeterminant + logDerivative.reshaped(to: [batch])
      }
      return (Tensor(concatenating: columns, alongAxis: 2), logDeterminant)
    case .mixtureRosenblatt:
      let mixture = self.mixture!
      let (x, logDerivative) = mixture.inverse(
        z.reshaped(to: [batch * patchSize, channels]),
        logits: parameters.reshaped(to: [batch * patchSize, mixture.components]))
      return (x.reshaped(to: z.shape), logDerivative.reshaped(to: [batch, features]).sum(alongAxes: [1]))
    }
  }

  /// μ and α, each `[batch, positions, features]`, from the affine parameters.
  private func affineParameters(_ parameters: Tensor<Scalar>) -> (Tensor<Scalar>, Tensor<Scalar>) {
    let parts = parameters.split(count: 2, alongAxis: 2)
    return (parts[0], parts[1])
  }

  /// Mixture logits, means and log-scales, each `[..., components]`, from
  /// the masked head's `[..., 3·components]` outputs.
  private func mixtureParameters(_ raw: Tensor<Scalar>) -> (Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>) {
    let parts = raw.split(count: 3, alongAxis: raw.rank - 1)
    return (parts[0], parts[1], parts[2])
  }
}
