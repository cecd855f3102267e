import Foundation
import FlowTensor

/// A mixture of von Mises–Fisher distributions on the unit sphere S² ⊂ R³
/// (d = 2, D = 3). Component k has density
/// κ_k / (4π sinh κ_k) · exp(κ_k μ_kᵀx) with respect to area.
public struct VonMisesFisherMixture: ManifoldDistribution {
  /// One component: a unit mean direction, a concentration and a weight.
  public struct Component: Equatable, Sendable {
    public var mean: [Double]
    public var concentration: Double
    public var weight: Double

    /// - Parameters:
    ///   - mean: three coordinates, normalised here.
    ///   - concentration: κ > 0.
    ///   - weight: > 0 (the weights are normalised by the mixture).
    public init(mean: [Double], concentration: Double, weight: Double = 1) {
      precondition(mean.count == 3, "VonMisesFisherMixture.Component: mean \(mean) is not in R³")
      let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
      precondition(norm > 0 && norm.isFinite, "VonMisesFisherMixture.Component: mean \(mean) has no direction")
      precondition(concentration > 0 && concentration.isFinite, "VonMisesFisherMixture.Component: κ = \(concentration)")
      precondition(weight > 0 && weight.isFinite, "VonMisesFisherMixture.Component: weight \(weight)")
      self.mean = mean.map { $0 / norm }
      self.concentration = concentration
      self.weight = weight
    }
  }

  /// The components, weights normalised to sum to 1.
  public let components: [Component]

  public init(components: [Component]) {
    precondition(!components.isEmpty, "VonMisesFisherMixture: no components")
    let total = components.reduce(0) { $0 + $1.weight }
    self.components = components.map { component in
      var normalized = component
      normalized.weight /= total
      return normalized
    }
  }

  /// This package's test case: three equal components of κ = 8 at polar
  /// angle 60° and azimuths 0°, 120°, 240°, leaving the south pole nearly
  /// empty (an injective image of R² cannot cover the whole sphere).
  public static let threeComponents = VonMisesFisherMixture(
    components: [0.0, 2.0, 4.0].map { sixths in
      let azimuth = sixths * Double.pi / 3
      let polar = Double.pi / 3
      return Component(
        mean: [Double.sin(polar) * Double.cos(azimuth), Double.sin(polar) * Double.sin(azimuth), Double.cos(polar)],
        concentration: 8)
    })

  public var latentSize: Int { 2 }
  public var ambientSize: Int { 3 }

  /// Picks a component by weight, then samples it by Wood's algorithm
  /// ("Simulation of the von Mises Fisher distribution", Communications in
  /// Statistics – Simulation and Computation 23, 1994) in dimension p = 3,
  /// where its Beta((p−1)/2, (p−1)/2) variate is uniform: w = μᵀx by
  /// rejection, then a uniform direction orthogonal to μ.
  public func samplePoints(count: Int, using generator: inout SeededGenerator) -> [[Double]] {
    (0..<count).map { _ in
      let u = Double.random(in: 0..<1, using: &generator)
      var cumulative = 0.0
      var chosen = components[components.count - 1]
      for component in components {
        cumulative += component.weight
        if u < cumulative {
          chosen = component
          break
        }
      }
      return Self.sampleComponent(chosen, using: &generator)
    }
  }

  static func sampleComponent(_ component: Component, using generator: inout SeededGenerator) -> [Double] {
    let kappa = component.concentration
    let dimensionLessOne = 2.0  // p − 1 for p = 3
    let b = (-2 * kappa + (4 * kappa * kappa + dimensionLessOne * dimensionLessOne).squareRoot()) / dimensionLessOne
    let x0 = (1 - b) / (1 + b)
    let c = kappa * x0 + dimensionLessOne * Double.log(1 - x0 * x0)
    var w = 0.0
    while true {
      let z = Double.random(in: 0..<1, using: &generator)  // Beta(1, 1)
      let u = Double.random(in: 0..<1, using: &generator)
      w = (1 - (1 + b) * z) / (1 - (1 - b) * z)
      if kappa * w + dimensionLessOne * Double.log(1 - x0 * w) - c >= Double.log(u) { break }
    }
    let phi = Double.random(in: 0..<(2 * Double.pi), using: &generator)
    let (first, second) = orthonormalComplement(of: component.mean)
    let radius = max(0, 1 - w * w).squareRoot()
    return (0..<3).map { i in
      w * component.mean[i] + radius * (Double.cos(phi) * first[i] + Double.sin(phi) * second[i])
    }
  }

  /// log Σ_k w_k κ_k/(4π sinh κ_k) exp(κ_k μ_kᵀx), with log sinh κ computed
  /// as κ + log(1 − e^{−2κ}) − log 2 so that large κ does not overflow.
  public func logDensity(at point: [Double]) -> Double {
    let terms = components.map { component -> Double in
      let kappa = component.concentration
      let cosine = zip(component.mean, point).reduce(0) { $0 + $1.0 * $1.1 }
      let logNormalizer = Double.log(kappa) - Double.log(2 * Double.pi) - kappa - Double.log(-expm1(-2 * kappa))
      return Double.log(component.weight) + logNormalizer + kappa * cosine
    }
    let largest = terms.max()!
    return largest + Double.log(terms.reduce(0) { $0 + Double.exp($1 - largest) })
  }

  /// Gauss–Legendre nodes in cos θ (`resolution` of them) times
  /// 2·`resolution` equally spaced azimuths: exact for polynomials of
  /// degree 2·resolution − 1 in cos θ and for trigonometric polynomials in φ.
  public func quadrature(resolution: Int) -> ManifoldQuadrature {
    precondition(resolution >= 1, "VonMisesFisherMixture.quadrature: resolution \(resolution) must be at least 1")
    let (nodes, nodeWeights) = gaussLegendre(count: resolution)
    let azimuths = 2 * resolution
    let step = 2 * Double.pi / Double(azimuths)
    var points: [[Double]] = []
    var weights: [Double] = []
    for (cosine, weight) in zip(nodes, nodeWeights) {
      let sine = max(0, 1 - cosine * cosine).squareRoot()
      for index in 0..<azimuths {
        let phi = (Double(index) + 0.5) * step
        points.append([sine * Double.cos(phi), sine * Double.sin(phi), cosine])
        weights.append(weight * step)
      }
    }
    return ManifoldQuadrature(points: points, weights: weights)
  }
}

/// Two unit vectors completing `direction` (a unit vector) to an
/// orthonormal basis.
private func orthonormalComplement(of direction: [Double]) -> ([Double], [Double]) {
  // Start from the axis least aligned with the direction.
  let axis = direction.indices.min { abs(direction[$0]) < abs(direction[$1]) }!
  var helper = [0.0, 0.0, 0.0]
  helper[axis] = 1
  let dot = zip(helper, direction).reduce(0) { $0 + $1.0 * $1.1 }
  var first = zip(helper, direction).map { $0 - dot * $1 }
  let norm = first.reduce(0) { $0 + $1 * $1 }.squareRoot()
  first = first.map { $0 / norm }
  let second = [
    direction[1] * first[2] - direction[2] * first[1],
    direction[2] * first[0] - direction[0] * first[2],
    direction[0] * first[1] - direction[1] * first[0],
  ]
  return (first, second)
}

/// Gauss–Legendre nodes and weights on [−1, 1], by Newton's method on the
/// Legendre polynomial from Chebyshev starting points (Press et al.,
/// "Numerical Recipes", 3rd ed., §4.6, `gauleg`).
func gaussLegendre(count: Int) -> (nodes: [Double], weights: [Double]) {
  var nodes = [Double](repeating: 0, count: count)
  var weights = [Double](repeating: 0, count: count)
  let n = Double(count)
  for i in 0..<((count + 1) / 2) {
    var x = Double.cos(Double.pi * (Double(i) + 0.75) / (n + 0.5))
    var derivative = 0.0
    for _ in 0..<100 {
      var p0 = 1.0
      var p1 = 0.0
      for j in 0..<count {
        let p2 = p1
        p1 = p0
        p0 = ((2 * Double(j) + 1) * x * p1 - Double(j) * p2) / Double(j + 1)
      }
      derivative = n * (x * p0 - p1) / (x * x - 1)
      let previous = x
      x = previous - p0 / derivative
      if abs(x - previous) <= 1e-15 { break }
    }
    nodes[i] = -x
    nodes[count - 1 - i] = x
    weights[i] = 2 / ((1 - x * x) * derivative * derivative)
    weights[count - 1 - i] = weights[i]
  }
  return (nodes, weights)
}
