import FlowTensor

/// How the ½·log det(JᵀJ) term of a ``RectangularFlow`` enters training.
public enum RectangularFlowEstimator: Codable, Equatable, Sendable {
  /// The full Jacobian from one forward pass with d tangents, JᵀJ, its
  /// Cholesky factor with jitter retries, log det = 2Σ log diag L,
  /// differentiated in reverse mode (Caterini et al. 2021, §3.1).
  case exact
  /// Hutchinson's estimator of the gradient (Caterini et al. 2021, §3.2):
  /// ∂ log det A = tr(A⁻¹ ∂A) = E[εᵀA⁻¹(∂A)ε], A = JᵀJ, with A⁻¹ε from
  /// conjugate gradients.
  case stochastic(HutchinsonSettings)
  /// The two-step baseline (RNFs-TS): no log-det term; the likelihood
  /// trains only the prior (its input z is cut from the graph) and the
  /// reconstruction only g.
  ///
  /// The reference code alternates epochs of the two with separate
  /// optimizers; here both terms sit in one loss. Their gradients reach
  /// disjoint parameters and Adam's update is per parameter, so one step
  /// here is one step of each of the two optimisations side by side.
  case twoStep
}

/// The distribution of Hutchinson probes: any with E[εεᵀ] = I.
public enum ProbeDistribution: String, Codable, Equatable, Sendable, CaseIterable {
  /// ε ~ N(0, I).
  case gaussian
  /// Independent ±1 entries (lower variance for the trace estimator).
  case rademacher
}

/// The settings of ``RectangularFlowEstimator/stochastic(_:)``.
public struct HutchinsonSettings: Codable, Equatable, Sendable {
  /// K, the probes per sample, ≥ 1.
  public var probes: Int
  /// The probes' distribution.
  public var distribution: ProbeDistribution
  /// CG stops a row at ‖r‖ ≤ tolerance·‖ε‖.
  public var tolerance: Double
  /// The CG iteration cap; `nil` means d (exact arithmetic needs at most d).
  public var maximumIterations: Int?

  /// - Parameters:
  ///   - probes: K ≥ 1 (the paper's runs use 1, 4 and 10).
  ///   - distribution: Gaussian by default, as in the reference code.
  ///   - tolerance: ≥ 0; 1e-3 as in the paper's MNIST K = 1 run.
  ///   - maximumIterations: ≥ 1, or `nil` for d.
  public init(
    probes: Int = 1, distribution: ProbeDistribution = .gaussian, tolerance: Double = 1e-3,
    maximumIterations: Int? = nil
  ) {
    precondition(probes >= 1, "HutchinsonSettings: probes \(probes) must be at least 1")
    precondition(tolerance >= 0, "HutchinsonSettings: tolerance \(tolerance) is negative")
    precondition(
      maximumIterations.map { $0 >= 1 } ?? true,
      "HutchinsonSettings: maximumIterations \(maximumIterations!) must be at least 1")
    self.probes = probes
    self.distribution = distribution
    self.tolerance = tolerance
    self.maximumIterations = maximumIterations
  }
}

/// A linear ramp of the likelihood's weight in the loss, from 0 at `start`
/// to 1 at `end` (steps), as the reference code's
/// `likelihood_warmup_start`/`_end` (there in epochs): early steps fit the
/// manifold by reconstruction before the density pulls on it.
public struct LikelihoodWarmup: Codable, Equatable, Sendable {
  /// The last step at weight 0.
  public var start: Int
  /// The first step at weight 1.
  public var end: Int

  /// - Parameters:
  ///   - start, end: 0 ≤ start ≤ end.
  public init(start: Int, end: Int) {
    precondition(0 <= start && start <= end, "LikelihoodWarmup: need 0 ≤ start ≤ end, got \(start), \(end)")
    self.start = start
    self.end = end
  }

  /// Full weight from step 0.
  public static let none = LikelihoodWarmup(start: 0, end: 0)

  /// The weight at `step` (0-based): 0 up to `start`, 1 from `end`, linear between.
  public func weight(atStep step: Int) -> Double {
    if step >= end { return 1 }
    if step <= start { return 0 }
    return Double(step - start) / Double(end - start)
  }
}

/// The training objective of a ``RectangularFlow`` (Caterini et al. 2021,
/// eq. 6, as a loss to minimise, averaged over the batch):
///
///     w(step)·(−log p_Z(g†(x)) + ½ log det JᵀJ) + β‖x − g(g†(x))‖².
public struct RectangularFlowObjective: Codable, Equatable, Sendable {
  /// How ½ log det JᵀJ is handled.
  public var estimator: RectangularFlowEstimator
  /// β, the weight of the squared reconstruction error. At β = 5 maximum
  /// likelihood collapses the manifold (issue 7); 50 is the default.
  public var reconstructionWeight: Double
  /// The likelihood weight w over the steps.
  public var warmup: LikelihoodWarmup

  public init(estimator: RectangularFlowEstimator, reconstructionWeight: Double = 50, warmup: LikelihoodWarmup = .none) {
    precondition(
      reconstructionWeight >= 0 && reconstructionWeight.isFinite,
      "RectangularFlowObjective: β = \(reconstructionWeight) must be finite and ≥ 0")
    self.estimator = estimator
    self.reconstructionWeight = reconstructionWeight
    self.warmup = warmup
  }
}

// Decoding goes through the checked initialisers, so a settings file with
// an impossible value is a thrown `DecodingError`, not a failed precondition.

extension HutchinsonSettings {
  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let probes = try container.decode(Int.self, forKey: .probes)
    let tolerance = try container.decode(Double.self, forKey: .tolerance)
    let maximumIterations = try container.decodeIfPresent(Int.self, forKey: .maximumIterations)
    try requireDecoded(probes >= 1, "probes \(probes) must be at least 1", key: .probes, in: container)
    try requireDecoded(tolerance >= 0, "tolerance \(tolerance) is negative", key: .tolerance, in: container)
    try requireDecoded(
      maximumIterations.map { $0 >= 1 } ?? true, "maximumIterations must be at least 1", key: .maximumIterations,
      in: container)
    self.init(
      probes: probes, distribution: try container.decode(ProbeDistribution.self, forKey: .distribution),
      tolerance: tolerance, maximumIterations: maximumIterations)
  }
}

extension LikelihoodWarmup {
  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let start = try container.decode(Int.self, forKey: .start)
    let end = try container.decode(Int.self, forKey: .end)
    try requireDecoded(0 <= start && start <= end, "need 0 ≤ start ≤ end, got \(start), \(end)", key: .end, in: container)
    self.init(start: start, end: end)
  }
}

extension RectangularFlowObjective {
  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let weight = try container.decode(Double.self, forKey: .reconstructionWeight)
    try requireDecoded(weight >= 0 && weight.isFinite, "β = \(weight) must be finite and ≥ 0", key: .reconstructionWeight, in: container)
    self.init(
      estimator: try container.decode(RectangularFlowEstimator.self, forKey: .estimator), reconstructionWeight: weight,
      warmup: try container.decode(LikelihoodWarmup.self, forKey: .warmup))
  }
}
