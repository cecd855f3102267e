import FlowTensor

/// One cut of a multi-scale flow: the split factors out half of the
/// channels, and an inner bijector (the coarser levels) transforms only the
/// kept half.
///
/// With x = [x₁, x₂] split along the channels (`[batch, channels, …]`),
///
///     forward(x) = [inner(x₁), (x₂ − μ(x₁))·exp(−log σ(x₁))],
///     log|det J| = log|det ∂inner/∂x₁| − Σ log σ(x₁),
///
/// the second half being ``MultiScaleSplit``'s standardisation. The split
/// conditions on x₁ before the inner bijector, as Glow's split prior sees
/// the level's output z₁, which is the input of the next level. The Jacobian
/// is block lower triangular ([∂inner/∂x₁, 0; ∂ε/∂x₁, diag(1/σ)]), so its
/// log-determinant is the sum of the two blocks'. Under a ``Flow`` with a
/// ``StandardNormal`` base, log p(x) = log N(z) + log|det J| =
/// [log N(inner(x₁)) + log|det ∂inner/∂x₁|] + log N(x₂; μ(x₁), σ(x₁)²):
/// the inner model's density of x₁ plus the split's Gaussian of x₂ given x₁,
/// the factorisation p(x₁)·p(x₂ | x₁) of RealNVP and Glow.
///
/// The inner bijector must keep the shape of x₁ (its event size, at least,
/// is what a bijection keeps; its layout is what lets the output reuse x's
/// shape). A level that squeezes ends with an ``Unsqueeze``, so that L levels
/// nest as
///
///     level(ℓ) = Chain([Squeeze(), steps…, MultiScale(inner: level(ℓ + 1),
///                       split: MultiScaleSplit(channels: 4·c)), Unsqueeze()])
///
/// and every level maps `[batch, c, h, w]` to itself; the latent of the whole
/// model has the data's shape, ready for a ``StandardNormal`` base over it.
/// Each level's factored channels keep their resolution; only x₁ is squeezed
/// again.
///
/// Parameters are named `inner.…` and `split.…`.
public struct MultiScale<Inner: Bijector>: Bijector {
  public typealias Scalar = Inner.Scalar
  /// The bijector of the kept half: the coarser levels.
  public var inner: Inner
  /// The split and its model of the factored half.
  public var split: MultiScaleSplit<Scalar>

  /// - Parameters:
  ///   - inner: a shape-preserving bijector of `[batch, channels/2, …]`.
  ///   - split: the split of the input's `channels` channels.
  public init(inner: Inner, split: MultiScaleSplit<Scalar>) {
    self.inner = inner
    self.split = split
  }

  /// - Parameters:
  ///   - x: `[batch, split.channels, event...]` (`[batch, channels, height,
  ///     width]` for a learned split).
  /// - Returns: `[inner(x₁), standardised x₂]`, shaped like `x`, and the
  ///   inner and split log-determinants added (`[batch]`).
  /// - Complexity: the split's cost plus the inner bijector's on half the input.
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let (standardised, splitLogDeterminant) = split.forward(x)
    let halves = standardised.split(count: 2, alongAxis: 1)
    let (kept, innerLogDeterminant) = inner.forward(halves[0])
    return (joined(kept, halves[1], input: halves[0], operation: "forward"), innerLogDeterminant + splitLogDeterminant)
  }

  /// The inverse of ``forward(_:)``: the inner inverse on the first half,
  /// then the split's inverse given the restored x₁.
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    precondition(
      y.rank >= 2 && y.shape[1] == split.channels,
      "MultiScale.inverse: input \(y.shape) is not [batch, \(split.channels), event...]")
    let halves = y.split(count: 2, alongAxis: 1)
    let (kept, innerLogDeterminant) = inner.inverse(halves[0])
    let (x, splitLogDeterminant) = split.inverse(joined(kept, halves[1], input: halves[0], operation: "inverse"))
    return (x, innerLogDeterminant + splitLogDeterminant)
  }

  /// Initialises the inner bijector from the kept half of the batch (the
  /// split has no data-dependent initialisation).
  public mutating func initialize(from x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let (standardised, splitLogDeterminant) = split.forward(x)
    let halves = standardised.split(count: 2, alongAxis: 1)
    let (kept, innerLogDeterminant) = inner.initialize(from: halves[0])
    return (joined(kept, halves[1], input: halves[0], operation: "initialize"), innerLogDeterminant + splitLogDeterminant)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("inner", &inner)
    visitor.visit("split", &split)
  }

  /// [kept, factored] along the channels, once the inner bijector is known
  /// to have kept its input's shape.
  private func joined(_ kept: Tensor<Scalar>, _ factored: Tensor<Scalar>, input: Tensor<Scalar>, operation: String) -> Tensor<Scalar> {
    precondition(
      kept.shape == input.shape,
      "MultiScale.\(operation): the inner bijector \(Inner.self) maps \(input.shape) to \(kept.shape); it must keep the shape")
    return Tensor(concatenating: [kept, factored], alongAxis: 1)
  }
}
