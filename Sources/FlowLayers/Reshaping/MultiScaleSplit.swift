import FlowTensor

/// The split of a multi-scale flow (RealNVP, Dinh et al. 2017, §3.6; Glow,
/// Kingma & Dhariwal 2018, §3): the second half of the channels is factored
/// out and modelled by a Gaussian, the first half flows on.
///
/// Glow writes the factored half's density as a Gaussian whose mean and
/// log-std a zero-initialised 3×3 convolution predicts from the kept half:
/// log p(x₂ | x₁) = log N(x₂; μ(x₁), σ(x₁)²). Here that density is a
/// bijection followed by the flow's standard-normal base instead, so the
/// split fits the ``Bijector`` protocol (dimension-preserving, a Jacobian the
/// conformance suite can check): with x = [x₁, x₂] split along the channels,
///
///     forward(x) = [x₁, (x₂ − μ(x₁)) · exp(−log σ(x₁))],
///     log|det J| = −Σ log σ(x₁)   (over the factored half's elements).
///
/// The Jacobian is lower triangular (x₁ passes unchanged, each standardised
/// element depends on its own x₂ element and on x₁ only), hence the
/// log-determinant. Why the density still comes out right: a ``Flow`` with a
/// ``StandardNormal`` base computes log N(z) + log|det J| with
/// z = [x₁, ε], ε = (x₂ − μ)/σ. The base factorises,
/// log N(z) = log N(x₁) + log N(ε), and
/// log N(ε) − Σ log σ = Σ [−½((x₂ − μ)/σ)² − log σ − ½ log 2π]
/// = log N(x₂; μ, σ²), Glow's term exactly. The kept half's N(x₁) term is
/// what the next level (applied to x₁ by ``MultiScale``) reshapes into its
/// own density.
///
/// With ``Prior/standardNormal`` the factored half is modelled by N(0, I)
/// directly (RealNVP): the map is the identity with log-determinant 0, and
/// the split only marks where ``MultiScale`` cuts. With ``Prior/learned`` the
/// convolution maps the kept half's `channels/2` channels to `channels`
/// channels: the first `channels/2` are μ, the last `channels/2` are log σ
/// (PyTorch Glow's `chunk(2, dim=1)`). Its filter and bias start at zero,
/// so a new learned split is the standard split. Any parameter value gives a
/// valid bijection.
///
/// log σ is the convolution's output as it is, Glow's choice, unless a
/// bound c is given: then log σ = c·tanh(r/c) for the convolution's output
/// r (the soft clamp of ``CouplingScale/softClamp(bound:)``), so that
/// σ ∈ (e^−c, e^c), and log σ ≈ r where |r| ≪ c (the identity's slope at
/// 0: a new split is still the standard one). Why bound it: the
/// convolution is affine in the kept half, so on an input far from the
/// training data (a kept half several times larger than any seen) it
/// extrapolates log σ far below every value training reached, and ε =
/// (x₂ − μ)/σ grows as e^(−log σ). A CDFlow on Fashion-MNIST (issue 6)
/// whose training images never gave log σ below −2.05 gave one test
/// image log σ = −6.0 at a pixel where x₂ − μ = 28: ε = 1.2·10⁴, and that
/// one image's log-density −9.4·10⁷ nats carried the whole test mean.
///
/// Parameters (learned prior only): `filter` `[channels, channels/2, 3, 3]`
/// and `bias` `[channels]`.
public struct MultiScaleSplit<Scalar: TensorScalar>: Bijector {
  /// How the factored half is modelled.
  public enum Prior: Sendable {
    /// N(0, I): the split is the identity.
    case standardNormal
    /// N(μ(x₁), σ(x₁)²) from a zero-initialised 3×3 convolution of the kept half.
    case learned
  }

  /// The channels of the input, both halves together.
  public let channels: Int
  public let prior: Prior
  /// c in log σ = c·tanh(r/c) (learned prior only); `nil` for log σ = r, unbounded.
  public let logStandardDeviationBound: Double?
  /// `[channels, channels/2, 3, 3]` for a learned prior, empty otherwise.
  public var filter: Tensor<Scalar>
  /// `[channels]` for a learned prior, empty otherwise.
  public var bias: Tensor<Scalar>

  /// A split of `channels` channels into two halves.
  /// - Parameters:
  ///   - channels: even, at least 2.
  ///   - prior: the factored half's model; a learned prior starts as the standard one.
  ///   - logStandardDeviationBound: c > 0 (finite) to soft-clamp a learned
  ///     prior's log σ to (−c, c); `nil` (the default) leaves it unbounded.
  public init(channels: Int, prior: Prior = .learned, logStandardDeviationBound: Double? = nil) {
    precondition(
      channels >= 2 && channels % 2 == 0, "MultiScaleSplit(channels: \(channels)): channels must be even and at least 2")
    if let bound = logStandardDeviationBound {
      precondition(
        bound > 0 && bound.isFinite,
        "MultiScaleSplit(logStandardDeviationBound: \(bound)): the bound must be positive and finite")
    }
    self.channels = channels
    self.prior = prior
    self.logStandardDeviationBound = logStandardDeviationBound
    switch prior {
    case .standardNormal:
      filter = Tensor.zeros(shape: [0])
      bias = Tensor.zeros(shape: [0])
    case .learned:
      filter = Tensor.zeros(shape: [channels, channels / 2, 3, 3])
      bias = Tensor.zeros(shape: [channels])
    }
  }

  /// μ(x₁) and log σ(x₁) (soft-clamped when ``logStandardDeviationBound``
  /// is set), each shaped like `kept`; `nil` for the standard prior.
  /// - Parameters:
  ///   - kept: the kept half, `[batch, channels/2, height, width]`.
  public func gaussianParameters(_ kept: Tensor<Scalar>) -> (mean: Tensor<Scalar>, logStandardDeviation: Tensor<Scalar>)? {
    guard prior == .learned else { return nil }
    let pieces = conv2d(kept, filter: filter, bias: bias, padding: (1, 1)).split(count: 2, alongAxis: 1)
    guard let bound = logStandardDeviationBound else { return (pieces[0], pieces[1]) }
    let c = Scalar(bound)
    return (pieces[0], tanh(pieces[1] / c) * c)
  }

  /// Standardises the factored half given the kept half.
  /// - Parameters:
  ///   - x: `[batch, channels, event...]` (`[batch, channels, height, width]`
  ///     for a learned prior).
  /// - Returns: `[x₁, (x₂ − μ)·exp(−log σ)]`, shaped like `x`, and −Σ log σ per sample (`[batch]`).
  /// - Complexity: O(n) plus, for a learned prior, one 3×3 convolution of
  ///   the kept half to `channels` channels.
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    pass(x, direction: 1, operation: "MultiScaleSplit.forward")
  }

  /// Restores the factored half: `[z₁, z₂·exp(log σ(z₁)) + μ(z₁)]`.
  /// - Parameters:
  ///   - y: shaped as ``forward(_:)``'s input.
  /// - Returns: the input of ``forward(_:)`` and +Σ log σ per sample.
  /// - Complexity: as ``forward(_:)``.
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    pass(y, direction: -1, operation: "MultiScaleSplit.inverse")
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    guard prior == .learned else { return }
    visitor.visit("filter", &filter)
    visitor.visit("bias", &bias)
  }

  /// The forward (`direction` 1) or inverse (`direction` −1) pass.
  private func pass(_ x: Tensor<Scalar>, direction: Int, operation: String) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    precondition(
      x.rank >= 2 && x.shape[1] == channels && (prior == .standardNormal || x.rank == 4),
      "\(operation): input \(x.shape) is not [batch, \(channels), "
        + (prior == .learned ? "height, width]" : "event...]"))
    let batch = x.shape[0]
    let halves = x.split(count: 2, alongAxis: 1)
    guard let (mean, logStandardDeviation) = gaussianParameters(halves[0]) else {
      return (x, Tensor.zeros(shape: [batch]))
    }
    let factored =
      direction > 0
      ? (halves[1] - mean) * exp(-logStandardDeviation)
      : halves[1] * exp(logStandardDeviation) + mean
    let logScaleSum = logStandardDeviation.reshaped(to: [batch, halves[1].scalarCount / Swift.max(batch, 1)])
      .sum(alongAxes: [1])
    return (
      Tensor(concatenating: [halves[0], factored], alongAxis: 1),
      direction > 0 ? -logScaleSum : logScaleSum
    )
  }
}
