import FlowTensor

/// A distribution on a known d-dimensional manifold in R^D, with seeded
/// sampling and its exact density with respect to the manifold's volume
/// (arc length on a curve, area on a surface): the synthetic data of a
/// rectangular flow and the truth its learned density is compared with.
public protocol ManifoldDistribution: Sendable {
  /// d, the manifold's dimension.
  var latentSize: Int { get }
  /// D, the dimension of the space it lies in.
  var ambientSize: Int { get }

  /// `count` independent points, each of `ambientSize` coordinates.
  func samplePoints(count: Int, using generator: inout SeededGenerator) -> [[Double]]

  /// log of the density at a point of the manifold, with respect to its volume.
  func logDensity(at point: [Double]) -> Double

  /// Nodes on the manifold with volume weights, for integrals over it.
  /// - Parameters:
  ///   - resolution: ≥ 1; more nodes with a larger value (its meaning is
  ///     the manifold's: nodes along the circle, polar nodes on the sphere).
  func quadrature(resolution: Int) -> ManifoldQuadrature

  /// A regular grid of points on the manifold for pictures of a density.
  /// - Parameters:
  ///   - resolution: ≥ 1; points along the circle, polar angles on the sphere.
  func chart(resolution: Int) -> ManifoldChart
}

extension ManifoldDistribution {
  /// `count` points as a tensor `[count, ambientSize]`.
  public func sample<Scalar: TensorScalar>(
    count: Int, as _: Scalar.Type = Scalar.self, using generator: inout SeededGenerator
  ) -> Tensor<Scalar> {
    let points = samplePoints(count: count, using: &generator)
    return Tensor(shape: [count, ambientSize], scalars: points.flatMap { $0.map { Scalar($0) } })
  }
}

/// Quadrature nodes on a manifold: ∫ f dV ≈ Σ_i weights[i]·f(points[i]).
public struct ManifoldQuadrature: Codable, Equatable, Sendable {
  /// The nodes, each a point of the ambient space.
  public var points: [[Double]]
  /// The volume weights, one per node.
  public var weights: [Double]

  public init(points: [[Double]], weights: [Double]) {
    precondition(
      points.count == weights.count,
      "ManifoldQuadrature: \(points.count) points but \(weights.count) weights")
    self.points = points
    self.weights = weights
  }

  /// The nodes as a tensor `[nodes, D]`.
  public func pointTensor<Scalar: TensorScalar>(_: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
    Tensor(shape: [points.count, points.first?.count ?? 0], scalars: points.flatMap { $0.map { Scalar($0) } })
  }

  /// Σ_i weights[i]·values[i].
  public func integrate(_ values: [Double]) -> Double {
    precondition(values.count == weights.count, "ManifoldQuadrature.integrate: \(values.count) values for \(weights.count) nodes")
    return zip(weights, values).reduce(0) { $0 + $1.0 * $1.1 }
  }
}

/// How far a learned density on a manifold is from the true one, by
/// quadrature over the true manifold.
///
/// The learned density q is read at the nodes (for a rectangular flow:
/// its density at g(g†(x)), the nearest point of the learned manifold) and
/// renormalised over the true manifold, q̃ = q / ∫q, since mass the model
/// puts off that manifold is not comparable; ∫q is reported beside.
public struct ManifoldDensityComparison: Codable, Equatable, Sendable {
  /// KL(p ‖ q̃) = ∫ p log(p / q̃), nats.
  public var klDivergence: Double
  /// ½ ∫ |p − q̃|, in [0, 1].
  public var totalVariation: Double
  /// ∫ q over the true manifold (1 for a density that lives exactly on it).
  public var learnedMass: Double
  /// ½ ∫ |p − q| without renormalising q: also counts mass put beside the
  /// manifold, or a density that ignores the volume change (two-step training).
  public var unnormalizedTotalVariation: Double

  public init(klDivergence: Double, totalVariation: Double, learnedMass: Double, unnormalizedTotalVariation: Double) {
    self.klDivergence = klDivergence
    self.totalVariation = totalVariation
    self.learnedMass = learnedMass
    self.unnormalizedTotalVariation = unnormalizedTotalVariation
  }

  /// Compares log-densities given at the nodes of `quadrature`.
  /// - Parameters:
  ///   - learnedLogDensity: log q at each node.
  ///   - trueLogDensity: log p at each node.
  ///   - quadrature: the nodes and weights.
  public init(learnedLogDensity: [Double], trueLogDensity: [Double], quadrature: ManifoldQuadrature) {
    precondition(
      learnedLogDensity.count == quadrature.weights.count && trueLogDensity.count == quadrature.weights.count,
      "ManifoldDensityComparison: \(learnedLogDensity.count) learned and \(trueLogDensity.count) true values for \(quadrature.weights.count) nodes")
    // Work relative to the largest learned value so that exp does not overflow.
    let reference = learnedLogDensity.max() ?? 0
    let scaledMass = quadrature.integrate(learnedLogDensity.map { Double.exp($0 - reference) })
    let logMass = Double.log(scaledMass) + reference
    let normalized = learnedLogDensity.map { $0 - logMass }
    var kl = 0.0
    var variation = 0.0
    var unnormalizedVariation = 0.0
    for index in quadrature.weights.indices {
      let p = Double.exp(trueLogDensity[index])
      let weight = quadrature.weights[index]
      if p > 0 { kl += weight * p * (trueLogDensity[index] - normalized[index]) }
      variation += weight * abs(p - Double.exp(normalized[index]))
      unnormalizedVariation += weight * abs(p - Double.exp(learnedLogDensity[index]))
    }
    self.init(
      klDivergence: kl, totalVariation: variation / 2, learnedMass: Double.exp(logMass),
      unnormalizedTotalVariation: unnormalizedVariation / 2)
  }
}
