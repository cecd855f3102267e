import FlowLayers
import FlowModels
import FlowTensor
import XCTest
import _TestSupport

final class ManifoldTests: XCTestCase {
  /// Values from scipy (`Fixtures/manifold_reference.py`).
  private struct Reference: Decodable {
    let von_mises_i0: Double
    let von_mises_mean_cos: Double
    let von_mises_mean_cos2: Double
    let von_mises_kl_to_uniform: Double
    let von_mises_tv_to_uniform: Double
    let vmf_mean_cos_kappa2: Double
    let vmf_mean_cos_squared_kappa2: Double
    let vmf_mean_cos_kappa8: Double
    let vmf_mean_cos_squared_kappa8: Double
  }

  private func reference() throws -> Reference {
    try Fixtures.load(Reference.self, named: "manifold_reference.json")
  }

  /// |sample mean − expected| ≤ 4 standard errors, the standard error from the samples.
  private func assertMean(
    _ values: [Double], _ expected: Double, _ message: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
    let standardError = (variance / Double(values.count)).squareRoot()
    XCTAssertLessThanOrEqual(
      abs(mean - expected), 4 * standardError + 1e-12, "\(message): mean \(mean), expected \(expected) ± \(standardError)",
      file: file, line: line)
  }

  func testVonMisesDensityIsNormalisedWithTheBesselConstant() throws {
    let reference = try reference()
    let circle = VonMisesCircle()
    XCTAssertEqual(circle.latentSize, 1)
    XCTAssertEqual(circle.ambientSize, 2)
    XCTAssertEqual(
      circle.logDensity(angle: Double.pi / 2), 1 - Double.log(2 * Double.pi * reference.von_mises_i0), accuracy: 1e-14)
    XCTAssertEqual(circle.logDensity(at: [0, 3]), circle.logDensity(angle: Double.pi / 2), accuracy: 1e-14)
    let quadrature = circle.quadrature(resolution: 64)
    XCTAssertEqual(quadrature.integrate(quadrature.points.map { Double.exp(circle.logDensity(at: $0)) }), 1, accuracy: 1e-13)
    XCTAssertTrue(quadrature.points.allSatisfy { abs($0[0] * $0[0] + $0[1] * $0[1] - 1) < 1e-15 })
  }

  /// Best–Fisher samples have the von Mises moments E[cos(θ − μ)] = I₁/I₀,
  /// E[cos 2(θ − μ)] = I₂/I₀, E[sin(θ − μ)] = 0, lie on the circle, and
  /// repeat with the seed.
  func testVonMisesSamplerHasTheExactMoments() throws {
    let reference = try reference()
    for (mean, kappa, meanCos, meanCos2) in [
      (Double.pi / 2, 1.0, reference.von_mises_mean_cos, reference.von_mises_mean_cos2),
    ] {
      let circle = VonMisesCircle(meanAngle: mean, concentration: kappa)
      var generator = SeededGenerator(seed: 1)
      let angles = circle.sampleAngles(count: 20_000, using: &generator)
      assertMean(angles.map { Double.cos($0 - mean) }, meanCos, "cos")
      assertMean(angles.map { Double.cos(2 * ($0 - mean)) }, meanCos2, "cos 2")
      assertMean(angles.map { Double.sin($0 - mean) }, 0, "sin")
      var again = SeededGenerator(seed: 1)
      let points = circle.samplePoints(count: 5, using: &again)
      XCTAssertEqual(points.map { $0[0] }, angles.prefix(5).map { Double.cos($0) })
      let tensor: Tensor<Float> = circle.sample(count: 3, using: &again)
      XCTAssertEqual(tensor.shape, [3, 2])
    }
  }

  /// The mixture's density integrates to 1 by the Gauss–Legendre × midpoint
  /// rule, which itself integrates 1 and z² exactly; one component's
  /// density at its mean is κ e^κ / (4π sinh κ).
  func testVonMisesFisherDensityIsNormalised() {
    let mixture = VonMisesFisherMixture.threeComponents
    XCTAssertEqual(mixture.components.map(\.weight).reduce(0, +), 1, accuracy: 1e-15)
    let quadrature = mixture.quadrature(resolution: 40)
    XCTAssertEqual(quadrature.weights.reduce(0, +), 4 * Double.pi, accuracy: 1e-12)
    XCTAssertEqual(quadrature.integrate(quadrature.points.map { $0[2] * $0[2] }), 4 * Double.pi / 3, accuracy: 1e-12)
    XCTAssertEqual(quadrature.integrate(quadrature.points.map { Double.exp(mixture.logDensity(at: $0)) }), 1, accuracy: 1e-10)
    let single = VonMisesFisherMixture(components: [.init(mean: [0, 3, 4], concentration: 2)])
    XCTAssertEqual(
      single.logDensity(at: [0, 0.6, 0.8]), Double.log(2 * Double.exp(2) / (4 * Double.pi * Double.sinh(2))), accuracy: 1e-14)
    // Large κ does not overflow.
    let sharp = VonMisesFisherMixture(components: [.init(mean: [0, 0, 1], concentration: 2000)])
    XCTAssertEqual(sharp.logDensity(at: [0, 0, 1]), Double.log(2000 / (2 * Double.pi)), accuracy: 1e-10)
  }

  /// Wood's samples have E[μᵀx] = coth κ − 1/κ and E[(μᵀx)²] = 1 − 2A(κ)/κ
  /// about a mean off the axes (the rotation is exercised), mean 0 across
  /// it, lie on the sphere; the three-component mixture's mean is
  /// A(8)·cos 60° along z and 0 across.
  func testVonMisesFisherSamplerHasTheExactMoments() throws {
    let reference = try reference()
    let mean = [0.0, 0.6, 0.8]
    let single = VonMisesFisherMixture(components: [.init(mean: mean, concentration: 2)])
    var generator = SeededGenerator(seed: 2)
    let points = single.samplePoints(count: 20_000, using: &generator)
    XCTAssertTrue(points.allSatisfy { abs($0.reduce(0) { $0 + $1 * $1 } - 1) < 1e-12 })
    let cosines = points.map { zip($0, mean).reduce(0) { $0 + $1.0 * $1.1 } }
    assertMean(cosines, reference.vmf_mean_cos_kappa2, "μᵀx")
    assertMean(cosines.map { $0 * $0 }, reference.vmf_mean_cos_squared_kappa2, "(μᵀx)²")
    assertMean(points.map { $0[0] }, 0, "x across")
    assertMean(points.map { 0.8 * $0[1] - 0.6 * $0[2] }, 0, "y–z across")

    let mixture = VonMisesFisherMixture.threeComponents
    let mixed = mixture.samplePoints(count: 20_000, using: &generator)
    assertMean(mixed.map { $0[2] }, reference.vmf_mean_cos_kappa8 * 0.5, "mixture z")
    assertMean(mixed.map { $0[0] }, 0, "mixture x")
    assertMean(mixed.map { $0[1] }, 0, "mixture y")
    // Each component gets a third of the points: the nearest mean.
    let counts = mixture.components.indices.map { k in
      mixed.filter { point in
        let scores = mixture.components.map { zip($0.mean, point).reduce(0) { $0 + $1.0 * $1.1 } }
        return scores.indices.max { scores[$0] < scores[$1] } == k
      }.count
    }
    for count in counts { XCTAssertEqual(Double(count) / 20_000, 1.0 / 3, accuracy: 0.02, "\(counts)") }
  }

  /// Against itself the comparison gives 0 and mass 1; a density twice as
  /// large gives mass 2 and still 0; the uniform density on the circle
  /// against von Mises κ = 1 gives scipy's KL and total variation.
  func testDensityComparisonAgainstKnownValues() throws {
    let reference = try reference()
    let circle = VonMisesCircle()
    let quadrature = circle.quadrature(resolution: 256)
    let truth = quadrature.points.map { circle.logDensity(at: $0) }
    let same = ManifoldDensityComparison(learnedLogDensity: truth, trueLogDensity: truth, quadrature: quadrature)
    XCTAssertEqual(same.klDivergence, 0, accuracy: 1e-14)
    XCTAssertEqual(same.totalVariation, 0, accuracy: 1e-14)
    XCTAssertEqual(same.learnedMass, 1, accuracy: 1e-13)
    let doubled = ManifoldDensityComparison(
      learnedLogDensity: truth.map { $0 + Double.log(2) }, trueLogDensity: truth, quadrature: quadrature)
    XCTAssertEqual(doubled.klDivergence, 0, accuracy: 1e-13)
    XCTAssertEqual(doubled.learnedMass, 2, accuracy: 1e-12)
    XCTAssertEqual(doubled.totalVariation, 0, accuracy: 1e-13)
    XCTAssertEqual(doubled.unnormalizedTotalVariation, 0.5, accuracy: 1e-12)  // ½∫|p − 2p| = ½
    XCTAssertEqual(same.unnormalizedTotalVariation, 0, accuracy: 1e-14)
    let uniform = ManifoldDensityComparison(
      learnedLogDensity: Array(repeating: -Double.log(2 * Double.pi), count: truth.count), trueLogDensity: truth,
      quadrature: quadrature)
    XCTAssertEqual(uniform.klDivergence, reference.von_mises_kl_to_uniform, accuracy: 1e-12)
    // |p − u| has kinks, where the midpoint rule is only second order.
    XCTAssertEqual(uniform.totalVariation, reference.von_mises_tv_to_uniform, accuracy: 1e-4)
    XCTAssertEqual(uniform.learnedMass, 1, accuracy: 1e-13)
    XCTAssertEqual(uniform.unnormalizedTotalVariation, uniform.totalVariation, accuracy: 1e-12)
  }

  /// An untrained rectangular flow on the circle is the padding (couplings
  /// start as the identity): z is one coordinate of x, JᵀJ = 1, and its
  /// density at the nodes is the prior's N(x_k; 0, 1) — the comparison is
  /// built from exactly that.
  func testRectangularFlowDensityComparisonOnTheCircle() throws {
    let model = RealNVPRectangularFlow<Double>(
      configuration: RectangularFlowConfiguration(ambientSize: 2, latentSize: 1, couplingLayers: 2, hiddenSizes: [4], seed: 3))
    let position = model.injection.injection.latentPositions[0]
    let circle = VonMisesCircle()
    let comparison = try model.compareDensity(with: circle, resolution: 128, chunkSize: 50)
    let quadrature = circle.quadrature(resolution: 128)
    let learned = quadrature.points.map { -0.5 * $0[position] * $0[position] - 0.5 * Double.log(2 * Double.pi) }
    let computed = try model.logDensities(at: quadrature, chunkSize: 7)
    XCTAssertEqual(computed.count, 128)
    for (value, expected) in zip(computed, learned) { XCTAssertEqual(value, expected, accuracy: 1e-12) }
    let expected = ManifoldDensityComparison(
      learnedLogDensity: learned, trueLogDensity: quadrature.points.map { circle.logDensity(at: $0) },
      quadrature: quadrature)
    XCTAssertEqual(comparison.klDivergence, expected.klDivergence, accuracy: 1e-12)
    XCTAssertEqual(comparison.totalVariation, expected.totalVariation, accuracy: 1e-12)
    XCTAssertEqual(comparison.learnedMass, expected.learnedMass, accuracy: 1e-12)
    XCTAssertEqual(comparison.unnormalizedTotalVariation, expected.unnormalizedTotalVariation, accuracy: 1e-12)
    XCTAssertGreaterThan(comparison.klDivergence, 0.01)
  }
}
