import FlowTensor

/// The von Mises distribution on the unit circle in R² (d = 1, D = 2): the
/// angle θ has density exp(κ cos(θ − μ)) / (2π I₀(κ)) with respect to arc
/// length, and the point is (cos θ, sin θ). The synthetic data set of
/// Caterini et al. 2021 (§5.1, `two_d.py`) is κ = 1, μ = π/2.
public struct VonMisesCircle: ManifoldDistribution {
  /// μ, the mean direction (radians).
  public var meanAngle: Double
  /// κ > 0, the concentration.
  public var concentration: Double

  public init(meanAngle: Double = Double.pi / 2, concentration: Double = 1) {
    precondition(concentration > 0 && concentration.isFinite, "VonMisesCircle: κ = \(concentration) must be positive and finite")
    self.meanAngle = meanAngle
    self.concentration = concentration
  }

  public var latentSize: Int { 1 }
  public var ambientSize: Int { 2 }

  /// Angles by Best & Fisher's rejection sampler ("Efficient simulation of
  /// the von Mises distribution", Applied Statistics 28, 1979, Algorithm
  /// VM), in (μ − π, μ + π].
  /// - Complexity: O(count), about 1.5 trials each at κ = 1.
  public func sampleAngles(count: Int, using generator: inout SeededGenerator) -> [Double] {
    let kappa = concentration
    let tau = 1 + (1 + 4 * kappa * kappa).squareRoot()
    let rho = (tau - (2 * tau).squareRoot()) / (2 * kappa)
    let r = (1 + rho * rho) / (2 * rho)
    return (0..<count).map { _ in
      while true {
        let u1 = Double.random(in: 0..<1, using: &generator)
        let u2 = Double.random(in: 0..<1, using: &generator)
        let u3 = Double.random(in: 0..<1, using: &generator)
        let z = Double.cos(Double.pi * u1)
        let f = (1 + r * z) / (r + z)
        let c = kappa * (r - f)
        if c * (2 - c) - u2 > 0 || Double.log(c / u2) + 1 - c >= 0 {
          return meanAngle + (u3 > 0.5 ? 1 : -1) * Double.acos(min(1, max(-1, f)))
        }
      }
    }
  }

  public func samplePoints(count: Int, using generator: inout SeededGenerator) -> [[Double]] {
    sampleAngles(count: count, using: &generator).map { [Double.cos($0), Double.sin($0)] }
  }

  /// log density of the angle θ, with respect to arc length.
  public func logDensity(angle: Double) -> Double {
    concentration * Double.cos(angle - meanAngle) - Double.log(2 * Double.pi * besselI0(concentration))
  }

  /// log density at the point of the circle at `point`'s angle.
  public func logDensity(at point: [Double]) -> Double {
    logDensity(angle: Double.atan2(y: point[1], x: point[0]))
  }

  /// `resolution` equally spaced angles (2π(i + ½)/n), weight 2π/n each: the
  /// midpoint rule, which converges geometrically for smooth periodic functions.
  public func quadrature(resolution: Int) -> ManifoldQuadrature {
    precondition(resolution >= 1, "VonMisesCircle.quadrature: resolution \(resolution) must be at least 1")
    let step = 2 * Double.pi / Double(resolution)
    let angles = (0..<resolution).map { (Double($0) + 0.5) * step }
    return ManifoldQuadrature(
      points: angles.map { [Double.cos($0), Double.sin($0)] }, weights: Array(repeating: step, count: resolution))
  }
}

/// The modified Bessel function I₀(x) = Σ_k (x/2)^{2k} / (k!)², summed until
/// the terms stop changing the total (fine for the moderate x of a
/// concentration).
func besselI0(_ x: Double) -> Double {
  let quarterSquare = x * x / 4
  var term = 1.0
  var sum = 1.0
  var k = 1.0
  while term > sum * 1e-17 {
    term *= quarterSquare / (k * k)
    sum += term
    k += 1
  }
  return sum
}
