import FlowLayers
import FlowTensor

/// The shape of a ``RealNVPRectangularFlow``: the paper's flat construction
/// (Caterini et al. 2021, tabular and synthetic settings): g = f⁻¹ ∘ pad
/// with f a RealNVP of affine couplings on R^D, and a prior p_Z that is a
/// RealNVP on R^d over N(0, I) (a learnable scalar affine map when d = 1,
/// which a coupling cannot split).
public struct RectangularFlowConfiguration: Equatable, Sendable {
  /// D.
  public var ambientSize: Int
  /// d, 1 ≤ d ≤ D.
  public var latentSize: Int
  /// The affine couplings of f (masks alternate halves).
  public var couplingLayers: Int
  /// The hidden widths of each coupling's MLP in f.
  public var hiddenSizes: [Int]
  /// The affine couplings of the prior (used when d ≥ 2).
  public var priorCouplingLayers: Int
  /// The hidden widths of the prior couplings' MLPs.
  public var priorHiddenSizes: [Int]
  /// The MLPs' activation; smooth (tanh) so that the exact estimator's
  /// second derivatives are not zero almost everywhere.
  public var activation: Activation
  /// Seeds the padding's permutation and the networks' initial weights.
  public var seed: UInt64

  public init(
    ambientSize: Int, latentSize: Int, couplingLayers: Int = 5, hiddenSizes: [Int] = [32, 32],
    priorCouplingLayers: Int = 3, priorHiddenSizes: [Int] = [16, 16], activation: Activation = .tanh, seed: UInt64 = 0
  ) {
    precondition(
      ambientSize >= 2 && latentSize >= 1 && latentSize <= ambientSize,
      "RectangularFlowConfiguration: need 1 ≤ d ≤ D and D ≥ 2, got d = \(latentSize), D = \(ambientSize)")
    precondition(couplingLayers >= 0 && priorCouplingLayers >= 0, "RectangularFlowConfiguration: negative layer count")
    self.ambientSize = ambientSize
    self.latentSize = latentSize
    self.couplingLayers = couplingLayers
    self.hiddenSizes = hiddenSizes
    self.priorCouplingLayers = priorCouplingLayers
    self.priorHiddenSizes = priorHiddenSizes
    self.activation = activation
    self.seed = seed
  }
}

/// A rectangular flow of the flat RealNVP construction.
public typealias RealNVPRectangularFlow<Scalar: TensorScalar> = RectangularFlow<
  InjectiveComposition<ZeroPadding<Scalar>, Chain<Scalar>>, StandardNormal<Scalar>, Chain<Scalar>
>

extension RectangularFlow {
  /// A flat RealNVP rectangular flow (see ``RectangularFlowConfiguration``).
  /// Every coupling starts as the identity map (zero last layers with the
  /// soft-clamped scale), so g starts as the padding.
  public init<T: TensorScalar>(configuration: RectangularFlowConfiguration)
  where Injection == InjectiveComposition<ZeroPadding<T>, Chain<T>>, PriorBase == StandardNormal<T>, PriorTransform == Chain<T> {
    var generator = SeededGenerator(seed: configuration.seed)
    let padding = ZeroPadding<T>(
      latentSize: configuration.latentSize, ambientSize: configuration.ambientSize, using: &generator)
    let f: Chain<T> = Self.realNVP(
      features: configuration.ambientSize, layers: configuration.couplingLayers,
      hiddenSizes: configuration.hiddenSizes, activation: configuration.activation, using: &generator)
    let h: Chain<T>
    if configuration.latentSize == 1 {
      h = Chain([ScalarAffine<T>(learnable: true)])
    } else {
      h = Self.realNVP(
        features: configuration.latentSize, layers: configuration.priorCouplingLayers,
        hiddenSizes: configuration.priorHiddenSizes, activation: configuration.activation, using: &generator)
    }
    self.init(
      injection: InjectiveComposition(injection: padding, transform: f),
      prior: Flow(base: StandardNormal(eventShape: [configuration.latentSize]), transform: h))
  }

  private static func realNVP<T: TensorScalar>(
    features: Int, layers: Int, hiddenSizes: [Int], activation: Activation, using generator: inout SeededGenerator
  ) -> Chain<T> {
    Chain<T>(
      (0..<layers).map { index -> any Bijector<T> in
        AffineCoupling<MLP<T>>(
          features: features, hiddenSizes: hiddenSizes, mask: index % 2 == 0 ? .channelHalf : CouplingMask.channelHalf.swapped,
          scale: .softClamp(bound: 3), activation: activation, using: &generator)
      })
  }
}
