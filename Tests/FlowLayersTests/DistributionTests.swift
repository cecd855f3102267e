import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

/// DiagonalGaussian and GaussianMixture: log-densities against closed forms
/// and direct evaluation in `Double` scalar arithmetic, parameter gradients
/// against central differences, and seeded samples' moments.
final class DistributionTests: XCTestCase {
  private static let logTwoPi = Double.log(2 * Double.pi)

  func testDiagonalGaussianMatchesTheClosedForm() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let mean: [Double] = [1, -2, 0.5, 0, 3, -1]
      let logDeviation: [Double] = [0, 0.7, -1.2, 0.3, -0.4, 1.5]
      let xs: [Double] = [0.5, -1, 2, -0.3, 3.5, 0, 1.2, -2.5, 0.4, 0.1, 2.2, -4]
      let distribution = DiagonalGaussian<Scalar>(
        mean: Tensor(shape: [2, 3], scalars: mean.map { Scalar($0) }),
        logStandardDeviation: Tensor(shape: [2, 3], scalars: logDeviation.map { Scalar($0) }))
      XCTAssertEqual(distribution.eventShape, [2, 3])
      let logProbability = distribution.logProbability(Tensor(shape: [2, 2, 3], scalars: xs.map { Scalar($0) }))
      var expected = [0.0, 0.0]
      for index in xs.indices {
        let element = index % 6
        let sigma = Double.exp(logDeviation[element])
        let z = (xs[index] - mean[element]) / sigma
        expected[index / 6] += -0.5 * z * z - Double.log(sigma) - 0.5 * Self.logTwoPi
      }
      assertClose(logProbability, Tensor(expected.map { Scalar($0) }), absolute: tolerance, relative: tolerance)

      // Its initial state is the standard normal.
      var generator = SeededGenerator(seed: 3)
      let x = Tensor<Scalar>.randomNormal(shape: [4, 5], using: &generator)
      assertClose(
        DiagonalGaussian<Scalar>(eventShape: [5]).logProbability(x), StandardNormal<Scalar>(eventShape: [5]).logProbability(x),
        absolute: tolerance, relative: tolerance)
    }
    check(Double.self, tolerance: 1e-13)
    check(Float.self, tolerance: 1e-5)
  }

  /// The mixture against Σₖ wₖ·Πⱼ N(xⱼ; μₖⱼ, σₖⱼ²) evaluated directly, where
  /// that does not underflow, and against its dominant component far from
  /// every component, where it does.
  func testGaussianMixtureMatchesADirectEvaluation() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let logits: [Double] = [0.3, -1, 1.2]
      let means: [[Double]] = [[0, 1], [-2, 0.5], [1.5, -1]]
      let logDeviations: [[Double]] = [[0, -0.5], [0.4, 0.2], [-0.3, 0.6]]
      let mixture = GaussianMixture<Scalar>(
        logits: Tensor(logits.map { Scalar($0) }), means: Tensor(means.map { $0.map { Scalar($0) } }),
        logStandardDeviations: Tensor(logDeviations.map { $0.map { Scalar($0) } }))
      XCTAssertEqual(mixture.eventShape, [2])
      XCTAssertEqual(mixture.componentCount, 3)
      let normaliser = logits.map(Double.exp).reduce(0, +)
      let weights = logits.map { Double.exp($0) / normaliser }
      assertClose(mixture.weights, Tensor(weights.map { Scalar($0) }), relative: tolerance)

      func componentLog(_ x: [Double], _ k: Int) -> Double {
        (0..<2).map { j in
          let sigma = Double.exp(logDeviations[k][j])
          let z = (x[j] - means[k][j]) / sigma
          return -0.5 * z * z - Double.log(sigma) - 0.5 * Self.logTwoPi
        }.reduce(0, +)
      }
      let points: [[Double]] = [[0, 0], [-1.5, 0.7], [2, -2], [0.3, 1.1], [-3, -1]]
      let direct = points.map { x in Double.log((0..<3).map { weights[$0] * Double.exp(componentLog(x, $0)) }.reduce(0, +)) }
      let computed = mixture.logProbability(Tensor(points.map { $0.map { Scalar($0) } }))
      assertClose(computed, Tensor(direct.map { Scalar($0) }), absolute: tolerance, relative: tolerance)

      // 60 standard deviations out every density underflows (e^−1800 in
      // Double), yet log p is the dominant component's, the others
      // contributing less than e^−100 relative.
      let far: [Double] = [60, -60]
      XCTAssertEqual((0..<3).map { weights[$0] * Double.exp(componentLog(far, $0)) }.reduce(0, +), 0)
      let dominant = (0..<3).map { Double.log(weights[$0]) + componentLog(far, $0) }.max()!
      let farValue = mixture.logProbability(Tensor([far.map { Scalar($0) }]))
      assertClose(Double(farValue[0]), dominant, relative: Double(tolerance))

      // With one component it is that diagonal Gaussian.
      let single = GaussianMixture<Scalar>(
        logits: Tensor([Scalar(2)]), means: Tensor([means[1].map { Scalar($0) }]),
        logStandardDeviations: Tensor([logDeviations[1].map { Scalar($0) }]))
      let gaussian = DiagonalGaussian<Scalar>(
        mean: Tensor(means[1].map { Scalar($0) }), logStandardDeviation: Tensor(logDeviations[1].map { Scalar($0) }))
      let x = Tensor(points.map { $0.map { Scalar($0) } })
      assertClose(single.logProbability(x), gaussian.logProbability(x), absolute: tolerance, relative: tolerance)
    }
    check(Double.self, tolerance: 1e-13)
    check(Float.self, tolerance: 2e-5)
  }

  func testDiagonalGaussianGradientsMatchCentralDifferences() {
    var generator = SeededGenerator(seed: 7)
    let mean = Tensor<Double>.randomNormal(shape: [2, 2], using: &generator)
    let logDeviation = Tensor<Double>.randomNormal(shape: [2, 2], standardDeviation: 0.5, using: &generator)
    let x = Tensor<Double>.randomNormal(shape: [3, 2, 2], using: &generator)
    let report = checkVJP(
      of: { DiagonalGaussian(mean: $0[0], logStandardDeviation: $0[1]).logProbability($0[2]) },
      at: [mean, logDeviation, x])
    XCTAssertTrue(report.passed, "\(report)")
  }

  func testGaussianMixtureGradientsMatchCentralDifferences() {
    var generator = SeededGenerator(seed: 8)
    let mixture = GaussianMixture<Double>(componentCount: 3, dimension: 2, using: &generator)
    let logits = Tensor<Double>.randomNormal(shape: [3], using: &generator)
    let logDeviations = Tensor<Double>.randomNormal(shape: [3, 2], standardDeviation: 0.3, using: &generator)
    let x = Tensor<Double>.randomNormal(shape: [4, 2], standardDeviation: 1.5, using: &generator)
    let report = checkVJP(
      of: { GaussianMixture(logits: $0[0], means: $0[1], logStandardDeviations: $0[2]).logProbability($0[3]) },
      at: [logits, mixture.means, logDeviations, x])
    XCTAssertTrue(report.passed, "\(report)")
  }

  /// Far from every component the gradient is the dominant component's:
  /// ∂ log p/∂μ = (x − μ)/σ² for it and 0 for the others, finite although
  /// each density underflows.
  func testGaussianMixtureGradientIsFiniteFarAway() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let mixture = GaussianMixture<Scalar>(
        logits: Tensor([0, 0]), means: Tensor([[0], [5]]), logStandardDeviations: Tensor([[0], [0]]))
      let (_, gradients) = valueWithGradient(at: mixture) { $0.logProbability(Tensor([[Scalar(100)]])).sum() }
      // The responsibility of component 0 is e^(−(100² − 95²)/2) = e^−487.5, below Float's and Double's range.
      assertClose(gradients["means"]!, Tensor([[0], [95]]), absolute: tolerance, relative: tolerance)
      assertClose(gradients["logStandardDeviations"]!, Tensor([[0], [95 * 95 - 1]]), absolute: tolerance, relative: tolerance)
      assertClose(gradients["logits"]!, Tensor([-0.5, 0.5]), absolute: tolerance, relative: tolerance)
    }
    check(Double.self, tolerance: 1e-12)
    check(Float.self, tolerance: 1e-5)
  }

  /// Mean and variance of 20 000 seeded samples within 4 standard errors
  /// (the variance's from the fourth central moment, 3σ⁴ for a Gaussian).
  func testDiagonalGaussianSamplesHaveTheRightMoments() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let mean: [Double] = [1, -2, 0.5]
      let deviation: [Double] = [1, 2, 0.5]
      let distribution = DiagonalGaussian<Scalar>(
        mean: Tensor(mean.map { Scalar($0) }), logStandardDeviation: Tensor(deviation.map { Scalar(Double.log($0)) }))
      var generator = SeededGenerator(seed: 21)
      let count = 20_000
      let samples = distribution.sample(count: count, using: &generator)
      XCTAssertEqual(samples.shape, [count, 3])
      for j in 0..<3 {
        let variance = deviation[j] * deviation[j]
        assertMoments(
          of: samples, column: j, mean: mean[j], variance: variance, fourthCentralMoment: 3 * variance * variance)
      }
      // Seeded: the same seed gives the same samples.
      var first = SeededGenerator(seed: 4)
      var second = SeededGenerator(seed: 4)
      XCTAssertEqual(distribution.sample(count: 5, using: &first), distribution.sample(count: 5, using: &second))
      XCTAssertEqual(distribution.sample(count: 0, using: &first).shape, [0, 3])
    }
    check(Double.self)
    check(Float.self)
  }

  /// The mixture's moments: mean Σwμ, variance Σw(σ² + μ²) − mean², the
  /// fourth central moment Σw(δ⁴ + 6δ²σ² + 3σ⁴) with δ = μ − mean; and with
  /// well separated components, how often each is chosen (binomial, 4
  /// standard errors), a component of weight 0 never.
  func testGaussianMixtureSamplesHaveTheRightMoments() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let weights = [1.0 / 6, 2.0 / 6, 3.0 / 6]
      let means: [[Double]] = [[-1, 2], [0.5, 0], [2, -1]]
      let deviations: [[Double]] = [[0.5, 1], [1, 0.3], [0.8, 2]]
      let mixture = GaussianMixture<Scalar>(
        logits: Tensor(weights.map { Scalar(Double.log($0)) }), means: Tensor(means.map { $0.map { Scalar($0) } }),
        logStandardDeviations: Tensor(deviations.map { $0.map { Scalar(Double.log($0)) } }))
      var generator = SeededGenerator(seed: 22)
      let count = 20_000
      let samples = mixture.sample(count: count, using: &generator)
      XCTAssertEqual(samples.shape, [count, 2])
      for j in 0..<2 {
        var mean = 0.0
        var secondMoment = 0.0
        for k in 0..<3 {
          let (mu, sigma) = (means[k][j], deviations[k][j])
          mean += weights[k] * mu
          secondMoment += weights[k] * (sigma * sigma + mu * mu)
        }
        let variance = secondMoment - mean * mean
        let fourth = (0..<3).map { k -> Double in
          let delta = means[k][j] - mean
          let sigma2 = deviations[k][j] * deviations[k][j]
          return weights[k] * (delta * delta * delta * delta + 6 * delta * delta * sigma2 + 3 * sigma2 * sigma2)
        }.reduce(0, +)
        assertMoments(of: samples, column: j, mean: mean, variance: variance, fourthCentralMoment: fourth)
      }

      // Components 20 apart with σ = 0.1: each sample's nearest mean is its component.
      let separated = GaussianMixture<Scalar>(
        logits: Tensor([Scalar(Double.log(0.2)), -Scalar.infinity, Scalar(Double.log(0.8)), Scalar(Double.log(0.2))]),
        means: Tensor([[-20], [0], [20], [40]]), logStandardDeviations: Tensor(repeating: Scalar(Double.log(0.1)), shape: [4, 1]))
      let picks = separated.sample(count: count, using: &generator).scalars.map { Int((Double($0) + 30) / 20) }
      let expected = [0.2 / 1.2, 0, 0.8 / 1.2, 0.2 / 1.2]
      for k in 0..<4 {
        let observed = Double(picks.filter { $0 == k }.count)
        let standardError = (Double(count) * expected[k] * (1 - expected[k])).squareRoot()
        XCTAssertLessThanOrEqual(abs(observed - Double(count) * expected[k]), 4 * standardError, "component \(k)")
      }
      XCTAssertEqual(picks.filter { $0 == 1 }.count, 0)
    }
    check(Double.self)
    check(Float.self)
  }

  /// Samples are μₖ + σₖ·ε: the gradient of their sum is, for each
  /// component, its number of samples (means) and Σ σ·ε = Σ (x − μ) over its
  /// samples (log standard deviations).
  func testSamplesAreReparameterised() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let mixture = GaussianMixture<Scalar>(
        logits: Tensor([0, 1]), means: Tensor([[-10, 0], [10, 5]]),
        logStandardDeviations: Tensor([[Scalar(Double.log(0.5)), 0], [0, Scalar(Double.log(2))]]))
      var generator = SeededGenerator(seed: 30)
      let samples = mixture.sample(count: 50, using: &generator)
      let (_, gradients) = valueWithGradient(at: mixture) { model in
        var replay = SeededGenerator(seed: 30)
        return model.sample(count: 50, using: &replay).sum()
      }
      var counts: [Scalar] = [0, 0]
      var deviations: [[Scalar]] = [[0, 0], [0, 0]]
      for row in 0..<50 {
        let k = samples[row, 0] < 0 ? 0 : 1
        counts[k] += 1
        for j in 0..<2 { deviations[k][j] += samples[row, j] - mixture.means[k, j] }
      }
      assertClose(gradients["means"]!, Tensor([[counts[0], counts[0]], [counts[1], counts[1]]]), relative: tolerance)
      assertClose(gradients["logStandardDeviations"]!, Tensor(deviations), absolute: tolerance, relative: tolerance)
      assertClose(gradients["logits"]!, Tensor.zeros(shape: [2]), absolute: 0)

      let gaussian = DiagonalGaussian<Scalar>(mean: Tensor([1, 2, 3]), logStandardDeviation: Tensor([0, 0.5, -1]))
      let (_, gaussianGradients) = valueWithGradient(at: gaussian) { model in
        var replay = SeededGenerator(seed: 31)
        return model.sample(count: 7, using: &replay).sum()
      }
      assertClose(gaussianGradients["mean"]!, Tensor(repeating: 7, shape: [3]), relative: tolerance)
    }
    check(Double.self, tolerance: 1e-12)
    check(Float.self, tolerance: 1e-5)
  }

  /// Empty batches and events, and one-element axes.
  func testEmptyAndSingletonAxes() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 40)
      // d = 0: the one empty event has probability 1.
      let flat = GaussianMixture<Scalar>(componentCount: 3, dimension: 0, using: &generator)
      XCTAssertEqual(flat.logProbability(Tensor.zeros(shape: [2, 0])), Tensor.zeros(shape: [2]))
      XCTAssertEqual(flat.sample(count: 4, using: &generator).shape, [4, 0])
      let mixture = GaussianMixture<Scalar>(componentCount: 2, dimension: 3, using: &generator)
      XCTAssertEqual(mixture.logProbability(Tensor.zeros(shape: [0, 3])).shape, [0])
      XCTAssertEqual(mixture.sample(count: 0, using: &generator).shape, [0, 3])
      let gaussian = DiagonalGaussian<Scalar>(eventShape: [2, 0])
      XCTAssertEqual(gaussian.logProbability(Tensor.zeros(shape: [3, 2, 0])), Tensor.zeros(shape: [3]))
      // One sample, one element: −½x² − log σ − ½ log 2π by hand.
      let single = DiagonalGaussian<Scalar>(mean: Tensor([Scalar(0.5)]), logStandardDeviation: Tensor([Scalar(Double.log(2))]))
      let expected = -0.5 * 0.25 * 0.25 - Double.log(2) - 0.5 * Self.logTwoPi
      assertClose(Double(single.logProbability(Tensor([[Scalar(1)]]))[0]), expected, relative: 1e-6)
    }
    check(Double.self)
    check(Float.self)
  }

  func testParametersAreNamedAndShaped() {
    var generator = SeededGenerator(seed: 9)
    let mixture = GaussianMixture<Float>(componentCount: 4, dimension: 3, using: &generator)
    XCTAssertEqual(mixture.parameters.map(\.name), ["logits", "means", "logStandardDeviations"])
    XCTAssertEqual(mixture.parameters.map(\.value.shape), [[4], [4, 3], [4, 3]])
    let gaussian = DiagonalGaussian<Float>(eventShape: [2, 5])
    XCTAssertEqual(gaussian.parameters.map(\.name), ["mean", "logStandardDeviation"])
    XCTAssertEqual(gaussian.parameters.map(\.value.shape), [[2, 5], [2, 5]])
  }

  /// Sample mean within 4 standard errors √(var/n), sample variance within 4
  /// standard errors √((μ₄ − var²)/n), accumulated in `Double`.
  private func assertMoments<Scalar: TensorScalar>(
    of samples: Tensor<Scalar>, column: Int, mean: Double, variance: Double, fourthCentralMoment: Double,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    let columns = samples.shape[1]
    let values = stride(from: column, to: samples.scalarCount, by: columns).map { Double(samples.scalars[$0]) }
    let n = Double(values.count)
    let sampleMean = values.reduce(0, +) / n
    let sampleVariance = values.map { ($0 - sampleMean) * ($0 - sampleMean) }.reduce(0, +) / (n - 1)
    XCTAssertLessThanOrEqual(
      abs(sampleMean - mean), 4 * (variance / n).squareRoot(), "mean of column \(column)", file: file, line: line)
    XCTAssertLessThanOrEqual(
      abs(sampleVariance - variance), 4 * ((fourthCentralMoment - variance * variance) / n).squareRoot(),
      "variance of column \(column)", file: file, line: line)
  }
}
