import FlowTensor

/// Activation normalisation: a per-channel affine map whose parameters the
/// first batch sets so that every channel of the output has zero mean and
/// unit variance over that batch (Kingma & Dhariwal, "Glow: Generative Flow
/// with Invertible 1×1 Convolutions", 2018, §3.1 and Table 1).
///
/// `forward`: y = x·exp(logScale) + bias, channel by channel;
/// `inverse`: x = (y − bias)·exp(−logScale). The scale is parametrised by
/// its logarithm, so any parameter value (random noise, an optimizer step)
/// keeps the map invertible.
///
/// Inputs are `[batch, channels]` (features) or `[batch, channels,
/// spatial...]` with the channel on axis 1, such as images `[batch,
/// channels, height, width]`; every position of a channel shares its scale
/// and bias, so log|det J| = (height·width)·Σ logScale per sample (1 for
/// the spatial size of flat features).
///
/// Before ``initialize(from:)`` the layer is the identity (log-scales and
/// biases zero). A layer whose parameters come from a checkpoint should have
/// ``isInitialized`` set, so that a later `initialize(from:)` keeps them.
///
/// Parameters: `logScale` and `bias`, both `[channels]`.
public struct ActNorm<Scalar: TensorScalar>: Bijector {
  /// log s, `[channels]`.
  public var logScale: Tensor<Scalar>
  /// b, `[channels]`.
  public var bias: Tensor<Scalar>
  /// Whether the data-dependent initialisation has run (or the parameters
  /// were given); ``initialize(from:)`` then leaves the parameters alone.
  public var isInitialized: Bool

  /// The number of channels (features), the size of axis 1 of the inputs.
  public var channels: Int { logScale.shape[0] }

  /// An uninitialised ActNorm: the identity until ``initialize(from:)`` sees a batch.
  /// - Parameters:
  ///   - channels: ≥ 0.
  public init(channels: Int) {
    precondition(channels >= 0, "ActNorm(channels: \(channels)): the channel count is negative")
    logScale = Tensor.zeros(shape: [channels])
    bias = Tensor.zeros(shape: [channels])
    isInitialized = false
  }

  /// An ActNorm with given parameters, marked initialised.
  /// - Parameters:
  ///   - logScale: `[channels]`.
  ///   - bias: `[channels]`, the shape of `logScale`.
  public init(logScale: Tensor<Scalar>, bias: Tensor<Scalar>) {
    precondition(
      logScale.rank == 1 && bias.shape == logScale.shape,
      "ActNorm(logScale:bias:): shapes \(logScale.shape) and \(bias.shape) are not both [channels]")
    self.logScale = logScale
    self.bias = bias
    isInitialized = true
  }

  /// Maps `x` to x·exp(logScale) + bias, channel by channel.
  /// - Parameters:
  ///   - x: `[batch, channels, spatial...]` (rank ≥ 2).
  /// - Returns: the output, shaped as `x`, and (spatial size)·Σ logScale for
  ///   every sample (`[batch]`).
  /// - Complexity: O(x.scalarCount).
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let (parameterShape, spatialSize) = layout(of: x, operation: "ActNorm.forward")
    let y = x * exp(logScale).reshaped(to: parameterShape) + bias.reshaped(to: parameterShape)
    return (y, (logScale.sum() * Scalar(spatialSize)).broadcast(to: [x.shape[0]]))
  }

  /// Maps `y` to (y − bias)·exp(−logScale), channel by channel.
  /// - Parameters:
  ///   - y: `[batch, channels, spatial...]` (rank ≥ 2).
  /// - Returns: the output, shaped as `y`, and −(spatial size)·Σ logScale
  ///   for every sample (`[batch]`).
  /// - Complexity: O(y.scalarCount).
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let (parameterShape, spatialSize) = layout(of: y, operation: "ActNorm.inverse")
    let x = (y - bias.reshaped(to: parameterShape)) * exp(-logScale).reshaped(to: parameterShape)
    return (x, (logScale.sum() * Scalar(-spatialSize)).broadcast(to: [y.shape[0]]))
  }

  /// On the first call, sets the parameters from `x` so that the output
  /// has, in every channel, mean 0 and variance 1 over the batch and the
  /// spatial positions; later calls (``isInitialized`` set) keep them.
  ///
  /// With m and σ² the channel's mean and population variance (divisor
  /// N, not N − 1), logScale = −log σ and bias = −m·exp(logScale), so
  /// y = (x − m)/σ. A channel with σ = 0 (constant, or a single position)
  /// cannot reach unit variance: it gets logScale 0 and is only centred.
  /// No gradient flows into the statistics.
  /// - Parameters:
  ///   - x: `[batch, channels, spatial...]` with batch·(spatial size) > 0.
  /// - Returns: ``forward(_:)`` of `x` with the parameters set.
  /// - Complexity: O(x.scalarCount), two passes for the statistics.
  public mutating func initialize(from x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    if !isInitialized {
      let (_, spatialSize) = layout(of: x, operation: "ActNorm.initialize(from:)")
      precondition(
        x.shape[0] * spatialSize > 0,
        "ActNorm.initialize(from:): input \(x.shape) has no positions to take channel statistics over")
      let reduced = [0] + Array(2..<x.rank)
      let (means, variances) = withoutRecording {
        let data = stopGradient(x)
        return (data.mean(alongAxes: reduced).scalars, data.variance(alongAxes: reduced).scalars)
      }
      var logScales = [Scalar]()
      var biases = [Scalar]()
      for (mean, variance) in zip(means, variances) {
        let logScale = variance > 0 ? -Scalar.log(variance) / 2 : 0
        logScales.append(logScale)
        biases.append(-mean * Scalar.exp(logScale))
      }
      logScale = Tensor(shape: [channels], scalars: logScales)
      bias = Tensor(shape: [channels], scalars: biases)
      isInitialized = true
    }
    return forward(x)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("logScale", &logScale)
    visitor.visit("bias", &bias)
  }

  /// The shape that broadcasts a `[channels]` parameter against `x`
  /// (`[channels, 1, …]`), and the number of positions per channel.
  private func layout(of x: Tensor<Scalar>, operation: String) -> (parameterShape: [Int], spatialSize: Int) {
    precondition(
      x.rank >= 2 && x.shape[1] == channels,
      "\(operation): input \(x.shape) is not [batch, \(channels), spatial...] for \(channels) channels")
    let spatial = x.shape.dropFirst(2)
    return ([channels] + spatial.map { _ in 1 }, spatial.reduce(1, *))
  }
}
