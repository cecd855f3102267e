import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

/// `TransformerAutoregressiveFlow`: what the conformance suite does not
/// cover (the suite checks round trips, log-dets against the Jacobian,
/// triangular structure and parameter gradients of every configuration).
final class AutoregressiveFlowTests: XCTestCase {
  private static let transforms: [AutoregressiveTransform] = [
    .affine, .mixtureCDF(components: 3, hiddenSize: 8), .mixtureRosenblatt(components: 4),
  ]

  private func makeFlow<Scalar: TensorScalar>(
    _ transform: AutoregressiveTransform, patchSize: Int = 1, order: SequenceOrder = .identity, channels: Int = 3,
    length: Int = 6, parameterNoise: Double = 0, seed: UInt64 = 1
  ) -> TransformerAutoregressiveFlow<Scalar> {
    var generator = SeededGenerator(seed: seed)
    var flow = TransformerAutoregressiveFlow<Scalar>(
      channels: channels, length: length, patchSize: patchSize, width: 8, layerCount: 2, headCount: 2,
      expansion: 2, transform: transform, order: order, using: &generator)
    if parameterNoise > 0 {
      flow.updateParameters { _, value in
        value = value + Tensor.randomNormal(shape: value.shape, standardDeviation: Scalar(parameterNoise), using: &generator)
      }
    }
    return flow
  }

  /// A new affine block is the identity: its head starts at zero. A new
  /// Mix-1 block applies one fixed mixture map to every feature, whatever
  /// the context: equal weights, scale ½, means at the normal quantiles
  /// Φ⁻¹(k/3 + 1/6) stretched to a unit variance (for 3 components ∓√(9/8)
  /// and 0, since 2·(9/8)/3 + ¼ = 1); one component is the identity.
  func testNewBlocksStartAtTheIdentityOrAFixedMixtureMap() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 2)
      let x = Tensor<Scalar>.randomUniform(shape: [2, 6, 3], in: -3..<3, using: &generator)
      let (z, logDeterminant) = makeFlow(.affine, patchSize: 2, order: .reversed).forward(x) as (Tensor<Scalar>, Tensor<Scalar>)
      assertClose(z, x, absolute: tolerance, relative: tolerance)
      assertClose(logDeterminant, Tensor.zeros(shape: [2]), absolute: tolerance)

      let mixture: TransformerAutoregressiveFlow<Scalar> = makeFlow(
        .mixtureCDF(components: 3, hiddenSize: 8), patchSize: 2, order: .reversed)
      let (u, mixtureLogDeterminant) = mixture.forward(x)
      let mean = Scalar((9.0 / 8).squareRoot())
      let (expected, logDerivative) = mixtureCDFTransform(
        x, logits: Tensor.zeros(shape: [3]), means: Tensor([-mean, 0, mean]),
        logScales: Tensor(repeating: -Scalar.log(2), shape: [3]))
      assertClose(u, expected, absolute: tolerance, relative: tolerance)
      assertClose(mixtureLogDeterminant, logDerivative.sum(alongAxes: [1, 2]), absolute: tolerance * 10, relative: tolerance)

      let single: TransformerAutoregressiveFlow<Scalar> = makeFlow(.mixtureCDF(components: 1, hiddenSize: 8))
      let (identity, singleLogDeterminant) = single.forward(x)
      assertClose(identity, x, absolute: tolerance * 10, relative: tolerance)
      assertClose(singleLogDeterminant, Tensor.zeros(shape: [2]), absolute: tolerance * 10)
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-12)
  }

  /// The initial Mix-1 means are the normal quantiles Φ⁻¹((k + ½)/K),
  /// stretched to a unit variance with scale ½ (values from scipy.stats.norm.ppf),
  /// the same for every feature.
  func testInitialMixtureComponentsSpanTheDataRange() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Double) {
      let components = 27
      let flow: TransformerAutoregressiveFlow<Scalar> = makeFlow(
        .mixtureCDF(components: components, hiddenSize: 8), patchSize: 2, channels: 1)
      let bias = flow.maskedHead!.output.bias.scalars.map(Double.init)
      XCTAssertEqual(bias.count, 2 * 3 * components)
      XCTAssertEqual(Array(bias[0..<(3 * components)]), Array(bias[(3 * components)...]))
      let logits = bias[0..<components]
      let means = Array(bias[components..<(2 * components)])
      let logScales = bias[(2 * components)..<(3 * components)]
      XCTAssertEqual(Set(logits), [0])
      for logScale in logScales { XCTAssertEqual(logScale, -Double.log(2), accuracy: tolerance) }
      for (mean, expected) in zip(means, [-1.84886388, -1.41253835, -1.17469963]) {
        XCTAssertEqual(mean, expected, accuracy: 1e-8 + tolerance)
      }
      XCTAssertEqual(means[13], 0, accuracy: tolerance)
      for k in 0..<components { XCTAssertEqual(means[k], -means[components - 1 - k], accuracy: tolerance) }
      let variance = means.reduce(0) { $0 + $1 * $1 } / Double(components) + 0.25
      XCTAssertEqual(variance, 1, accuracy: tolerance * 10)
    }
    check(Float.self, tolerance: 1e-6)
    check(Double.self, tolerance: 1e-12)
  }

  /// The affine map leaves the first position in reading order alone (its
  /// parameters are the zeros shifted in) and moves the others.
  func testTheFirstPositionHasNoContext() {
    var generator = SeededGenerator(seed: 3)
    let x = Tensor<Double>.randomNormal(shape: [2, 6, 3], using: &generator)
    for order in [SequenceOrder.identity, .reversed] {
      let flow: TransformerAutoregressiveFlow<Double> = makeFlow(.affine, patchSize: 2, order: order, parameterNoise: 0.2)
      let z = flow.forward(x).output
      let first = order == .identity ? 0..<2 : 4..<6
      let rest = order == .identity ? 2..<6 : 0..<4
      XCTAssertEqual(z.sliced(alongAxis: 1, from: first.lowerBound, to: first.upperBound),
                     x.sliced(alongAxis: 1, from: first.lowerBound, to: first.upperBound))
      XCTAssertNotEqual(z.sliced(alongAxis: 1, from: rest.lowerBound, to: rest.upperBound),
                        x.sliced(alongAxis: 1, from: rest.lowerBound, to: rest.upperBound))
    }
    // One position holding the whole sequence: nothing to condition on.
    let whole: TransformerAutoregressiveFlow<Double> = makeFlow(.affine, patchSize: 6, parameterNoise: 0.2)
    XCTAssertEqual(whole.forward(x).output, x)
    XCTAssertEqual(whole.inverse(x).output, x)
  }

  /// The sequential inverse is the inverse of the parallel forward in the
  /// safe direction z → x → z, with weights far from the identity (noise
  /// 0.3 on every parameter), for every transform, patch size and order.
  func testSequentialInverseInvertsTheParallelForward() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 4)
      let z = Tensor<Scalar>.randomNormal(shape: [3, 6, 3], using: &generator)
      for transform in Self.transforms {
        for (patchSize, order) in [(1, SequenceOrder.identity), (2, .reversed), (3, .identity)] {
          let flow: TransformerAutoregressiveFlow<Scalar> = makeFlow(
            transform, patchSize: patchSize, order: order, parameterNoise: 0.3, seed: 5)
          let (x, inverseLogDeterminant) = flow.inverse(z)
          let (back, logDeterminant) = flow.forward(x)
          let label = "\(transform), patch \(patchSize), \(order)"
          assertClose(back, z, absolute: tolerance, relative: tolerance, label)
          assertClose(inverseLogDeterminant, -logDeterminant, absolute: tolerance * 10, relative: tolerance, label)
          XCTAssertGreaterThan(abs(logDeterminant).max().scalar, Scalar(1e-3), "\(label): the map is not the identity")
        }
      }
    }
    check(Float.self, tolerance: 1e-4)
    check(Double.self, tolerance: 1e-10)
  }

  /// Decoding through the key/value cache gives the numbers of rerunning
  /// the network on the whole prefix at every step.
  func testCachedInverseMatchesRecomputation() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 6)
      let z = Tensor<Scalar>.randomNormal(shape: [2, 6, 3], using: &generator)
      for transform in Self.transforms {
        let flow: TransformerAutoregressiveFlow<Scalar> = makeFlow(
          transform, patchSize: 2, order: .reversed, parameterNoise: 0.2, seed: 7)
        let cached = flow.inverse(z, usingCache: true)
        let recomputed = flow.inverse(z, usingCache: false)
        assertClose(cached.output, recomputed.output, absolute: tolerance, relative: tolerance, "\(transform)")
        assertClose(
          cached.logDeterminant, recomputed.logDeterminant, absolute: tolerance, relative: tolerance, "\(transform)")
      }
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-12)
  }

  /// Mix-d's log-determinant is log p_mix(z) − log N(u; 0, I) per token
  /// (Bayes-updated weights chain to the joint mixture density), checked
  /// against the mixture density of each whole token in scalar loops.
  func testRosenblattLogDeterminantIsTheMixtureDensityOverTheBase() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 8)
      var mixture = RosenblattMixture<Scalar>(components: 3, channels: 4, using: &generator)
      mixture.logScales = Tensor([-0.3, 0.2, 0.5])
      let z = Tensor<Scalar>.randomNormal(shape: [5, 4], using: &generator) * 2
      let logits = Tensor<Scalar>.randomNormal(shape: [5, 3], using: &generator)
      let (u, logDerivative) = mixture.forward(z, logits: logits)
      for token in 0..<5 {
        let weights = (0..<3).map { Double.exp(Double(logits[token, $0])) }
        let total = weights.reduce(0, +)
        var density = 0.0
        for k in 0..<3 {
          let scale = Double.exp(Double(mixture.logScales[k]))
          var product = weights[k] / total
          for c in 0..<4 {
            let t = (Double(z[token, c]) - Double(mixture.means[k, c])) / scale
            product *= Double.exp(-0.5 * t * t) / (scale * (2 * Double.pi).squareRoot())
          }
          density += product
        }
        let logBase = (0..<4).reduce(0.0) { $0 - 0.5 * Double(u[token, $1] * u[token, $1]) - 0.5 * Double.log(2 * .pi) }
        let logDeterminant = (0..<4).reduce(0.0) { $0 + Double(logDerivative[token, $1]) }
        assertClose(Scalar(logDeterminant), Scalar(Double.log(density) - logBase), absolute: tolerance, relative: tolerance)
        // The first channel uses the prior weights alone: its u is Φ⁻¹ of that mixture's CDF.
        var cdf = 0.0
        for k in 0..<3 {
          let t = (Double(z[token, 0]) - Double(mixture.means[k, 0])) / Double.exp(Double(mixture.logScales[k]))
          cdf += weights[k] / total * normalCDF(t)
        }
        assertClose(Scalar(normalCDF(Double(u[token, 0]))), Scalar(cdf), absolute: tolerance)
      }
      let (back, inverseLog) = mixture.inverse(u, logits: logits)
      assertClose(back, z, absolute: tolerance, relative: tolerance)
      assertClose(inverseLog, logDerivative, absolute: tolerance * 10, relative: tolerance * 10)
    }
    check(Float.self, tolerance: 1e-4)
    check(Double.self, tolerance: 1e-10)
  }

  /// A tied codebook is not the block's parameter, but gradients reach it
  /// through the graph (checked against central differences).
  func testTiedCodebookIsNotVisitedButReceivesGradients() {
    var flow: TransformerAutoregressiveFlow<Double> = makeFlow(.mixtureRosenblatt(components: 3), parameterNoise: 0.2)
    var generator = SeededGenerator(seed: 9)
    let means = Tensor<Double>.randomNormal(shape: [3, 3], using: &generator)
    let logScales = Tensor<Double>([0.1, -0.2, 0.3])
    flow.mixture = RosenblattMixture(means: means, logScales: logScales, isTied: true)
    XCTAssertFalse(flow.parameters.contains { $0.name.hasPrefix("mixture") })
    flow.mixture!.isTied = false
    XCTAssertEqual(flow.parameters.filter { $0.name.hasPrefix("mixture") }.map(\.name), ["mixture.means", "mixture.logScales"])
    let x = Tensor<Double>.randomNormal(shape: [2, 6, 3], using: &generator)
    let body: ([Tensor<Double>]) -> Tensor<Double> = { p in
      var copy = flow
      copy.mixture = RosenblattMixture(means: p[0], logScales: p[1], isTied: true)
      let (z, logDeterminant) = copy.forward(x)
      return Tensor(concatenating: [z.reshaped(to: [36]), logDeterminant], alongAxis: 0)
    }
    let report = checkVJP(of: body, at: [means, logScales])
    XCTAssertTrue(report.passed, "\(report)")
  }

  /// The conformance suite's triangular check sees the reading order: an
  /// identity-order block fails it under the reversed order.
  func testTriangularCheckRejectsTheWrongReadingOrder() {
    var generator = SeededGenerator(seed: 10)
    let flow: TransformerAutoregressiveFlow<Double> = makeFlow(.affine, channels: 2, length: 4)
    var options = BijectorConformanceOptions()
    options.triangularOrder = Array((0..<8).reversed())
    let report = checkBijector(flow, input: Tensor.randomNormal(shape: [2, 4, 2], using: &generator), options: options)
    XCTAssertTrue(report.failures.contains { $0.contains("not lower triangular") }, "\(report)")
  }

  /// An empty batch and a batch of one pass through every transform.
  func testEmptyAndSingleBatches() {
    for transform in Self.transforms {
      let flow: TransformerAutoregressiveFlow<Float> = makeFlow(transform, patchSize: 2, parameterNoise: 0.1)
      let empty = Tensor<Float>.zeros(shape: [0, 6, 3])
      let (z, logDeterminant) = flow.forward(empty)
      XCTAssertEqual(z.shape, [0, 6, 3], "\(transform)")
      XCTAssertEqual(logDeterminant.shape, [0], "\(transform)")
      let (x, inverseLogDeterminant) = flow.inverse(empty)
      XCTAssertEqual(x.shape, [0, 6, 3], "\(transform)")
      XCTAssertEqual(inverseLogDeterminant.shape, [0], "\(transform)")
      var generator = SeededGenerator(seed: 12)
      let one = Tensor<Float>.randomNormal(shape: [1, 4, 3], using: &generator)  // shorter than the longest input
      let (back, _) = flow.inverse(flow.forward(one).output)
      assertClose(back, one, absolute: 1e-4, relative: 1e-4, "\(transform)")
    }
  }
}
