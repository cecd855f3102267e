import FlowModels
import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// log N(z; mean, variance·I) summed over the sequence: a simple learnable
/// Gaussian prior standing in for the flow. `latents`: `[batch, length, d]`,
/// `mean`: `[d]`. Returns `[batch]`.
private func gaussianPriorLogDensity<Scalar: TensorScalar>(
  _ latents: Tensor<Scalar>, mean: Tensor<Scalar>, variance: Scalar
) -> Tensor<Scalar> {
  let perDimension = -0.5 * square(latents - mean) / variance - 0.5 * Scalar.log(2 * Scalar.pi * variance)
  return perDimension.sum(alongAxes: [1, 2])
}

private func logSumExp(_ values: [Double]) -> Double {
  let largest = values.max()!
  return largest + Double.log(values.reduce(0) { $0 + Double.exp($1 - largest) })
}

final class CodebookTests: XCTestCase {
  /// A codebook of 4 tokens in 2 dimensions, with distinct scales.
  private func smallCodebook<Scalar: TensorScalar>(_: Scalar.Type, learnsTokenPrior: Bool) -> TokenCodebook<Scalar> {
    TokenCodebook(
      means: Tensor([[0.0, 0.0], [1.0, 0.5], [-0.8, 1.2], [0.3, -1.1]].map { $0.map { Scalar($0) } }),
      logScales: Tensor([-0.5, -0.2, 0.1, -0.9].map { Scalar($0) }),
      tokenLogits: learnsTokenPrior ? Tensor([0.3, -0.2, 0.5, -0.6].map { Scalar($0) }) : nil)
  }

  func testDecoderProbabilitiesSumToOneAndFavourTheNearestToken() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      for learns in [false, true] {
        let codebook = smallCodebook(Scalar.self, learnsTokenPrior: learns)
        var generator = SeededGenerator(seed: 1)
        let latents = Tensor<Scalar>.randomNormal(shape: [3, 5, 2], standardDeviation: 2, using: &generator)
        let logProbabilities = codebook.tokenLogProbabilities(given: latents)
        XCTAssertEqual(logProbabilities.shape, [3, 5, 4])
        assertClose(exp(logProbabilities).sum(alongAxes: [-1]), Tensor.ones(shape: [3, 5]), absolute: tolerance)
        XCTAssertTrue(logProbabilities.scalars.allSatisfy { $0 <= 0 })
        // A latent at a token's mean decodes to that token (the scales
        // are small against the distances between the means).
        let atMeans = codebook.means.reshaped(to: [1, 4, 2])
        XCTAssertEqual(codebook.mostLikelyTokens(given: atMeans), IndexTensor(shape: [1, 4], indices: [0, 1, 2, 3]))
      }
      // Any rank of latents, including one position.
      let single = smallCodebook(Scalar.self, learnsTokenPrior: false).tokenLogProbabilities(given: Tensor([Scalar(0.2), 0.1]))
      XCTAssertEqual(single.shape, [4])
      assertClose(exp(single).sum(), Tensor(1), absolute: tolerance)
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-12)
  }

  /// The ELBO per character, written out in Double loops from the formulas
  /// (arXiv 2507.00425 §3.1) with a Gaussian prior N(m, v·I).
  private func handELBO(
    means: [[Double]], logScales: [Double], tokenLogits: [Double]?, tokens: [[Int]], noise: [[[Double]]],
    priorMean: [Double], priorVariance: Double
  ) -> (reconstruction: Double, prior: Double, entropy: Double, perSequence: [Double]) {
    let d = means[0].count
    let vocabulary = means.count
    let logPi: [Double] = tokenLogits.map { logits in logits.map { $0 - logSumExp(logits) } }
      ?? [Double](repeating: -Double.log(Double(vocabulary)), count: vocabulary)
    var reconstruction = 0.0, prior = 0.0, entropy = 0.0
    var perSequence: [Double] = []
    for (b, sequence) in tokens.enumerated() {
      var sequenceReconstruction = 0.0, sequencePrior = 0.0, sequenceEntropy = 0.0
      for (t, token) in sequence.enumerated() {
        let sigma = Double.exp(logScales[token])
        let z = (0..<d).map { means[token][$0] + sigma * noise[b][t][$0] }
        let scores = (0..<vocabulary).map { k -> Double in
          let squared = (0..<d).reduce(0.0) { $0 + (z[$1] - means[k][$1]) * (z[$1] - means[k][$1]) }
          return logPi[k] - 0.5 * squared / Double.exp(2 * logScales[k]) - Double(d) * logScales[k]
            - Double(d) / 2 * Double.log(2 * Double.pi)
        }
        sequenceReconstruction += scores[token] - logSumExp(scores)
        sequenceEntropy += Double(d) / 2 * (1 + Double.log(2 * Double.pi)) + Double(d) * logScales[token]
        for i in 0..<d {
          sequencePrior += -0.5 * (z[i] - priorMean[i]) * (z[i] - priorMean[i]) / priorVariance
            - 0.5 * Double.log(2 * Double.pi * priorVariance)
        }
      }
      let length = Double(sequence.count)
      reconstruction += sequenceReconstruction / length
      prior += sequencePrior / length
      entropy += sequenceEntropy / length
      perSequence.append((sequenceReconstruction + sequencePrior + sequenceEntropy) / length)
    }
    let batch = Double(tokens.count)
    return (reconstruction / batch, prior / batch, entropy / batch, perSequence)
  }

  func testEvidenceLowerBoundMatchesAHandComputation() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let tokenRows = [[0, 2, 2, 1, 3], [3, 3, 0, 1, 2]]
      let tokens = IndexTensor(shape: [2, 5], indices: tokenRows.flatMap { $0 })
      var generator = SeededGenerator(seed: 12)
      let noise = Tensor<Double>.randomNormal(shape: [2, 5, 2], using: &generator)
      let noiseRows = (0..<2).map { b in (0..<5).map { t in (0..<2).map { noise[b, t, $0] } } }
      let priorMean = [0.2, -0.1]
      for learns in [false, true] {
        let codebook = smallCodebook(Scalar.self, learnsTokenPrior: learns)
        let bound = codebook.evidenceLowerBound(of: tokens, noise: Tensor(shape: [2, 5, 2], scalars: noise.scalars.map { Scalar($0) })) {
          gaussianPriorLogDensity($0, mean: Tensor(priorMean.map { Scalar($0) }), variance: Scalar(1.7))
        }
        let expected = handELBO(
          means: [[0.0, 0.0], [1.0, 0.5], [-0.8, 1.2], [0.3, -1.1]], logScales: [-0.5, -0.2, 0.1, -0.9],
          tokenLogits: learns ? [0.3, -0.2, 0.5, -0.6] : nil, tokens: tokenRows, noise: noiseRows,
          priorMean: priorMean, priorVariance: 1.7)
        let label = learns ? "learned token prior" : "uniform token prior"
        assertClose(bound.reconstruction, Tensor(Scalar(expected.reconstruction)), absolute: tolerance, label)
        assertClose(bound.prior, Tensor(Scalar(expected.prior)), absolute: tolerance, relative: tolerance, label)
        assertClose(bound.entropy, Tensor(Scalar(expected.entropy)), absolute: tolerance, label)
        assertClose(bound.sequenceBounds, Tensor(expected.perSequence.map { Scalar($0) }), absolute: tolerance, relative: tolerance, label)
        let total = expected.reconstruction + expected.prior + expected.entropy
        assertClose(bound.evidenceLowerBound, Tensor(Scalar(total)), absolute: tolerance, relative: tolerance, label)
        assertClose(bound.bitsPerCharacter, Tensor(Scalar(-total / Double.log(2))), absolute: tolerance, relative: tolerance, label)
        assertClose(bound.evidenceLowerBound, bound.sequenceBounds.mean(), absolute: tolerance, relative: tolerance, label)
      }
      assertClose(TokenEvidenceBound<Scalar>.bits(fromNats: Scalar(Double.log(2) * 3)), Scalar(3), relative: tolerance)
    }
    check(Float.self, tolerance: 2e-5)
    check(Double.self, tolerance: 1e-12)
  }

  func testTheGeneratorFormDrawsItsNoiseFromTheGenerator() {
    let codebook = smallCodebook(Double.self, learnsTokenPrior: false)
    let tokens = IndexTensor(shape: [3, 4], indices: [0, 1, 2, 3, 3, 2, 1, 0, 1, 1, 2, 2])
    let prior = { (z: Tensor<Double>) in gaussianPriorLogDensity(z, mean: Tensor([0.0, 0.0]), variance: 1) }
    var generator = SeededGenerator(seed: 3)
    let drawn = codebook.evidenceLowerBound(of: tokens, using: &generator, priorLogDensity: prior)
    var replay = SeededGenerator(seed: 3)
    let noise = codebook.noise(for: tokens, using: &replay)
    XCTAssertEqual(noise.shape, [3, 4, 2])
    XCTAssertEqual(generator, replay)
    assertIdentical(drawn.sequenceBounds, codebook.evidenceLowerBound(of: tokens, noise: noise, priorLogDensity: prior).sequenceBounds)
    // The encoder's samples are μ_x + σ_x ε.
    let latents = codebook.latents(for: tokens, noise: noise)
    assertClose(latents[1, 0, 1], -1.1 + Double.exp(-0.9) * noise[1, 0, 1], absolute: 1e-15)
  }

  func testEncoderLogDensityIsTheGaussianLogDensity() {
    let codebook = smallCodebook(Double.self, learnsTokenPrior: false)
    let tokens = IndexTensor(shape: [2], indices: [2, 3])
    let latents = Tensor([[0.1, 0.4], [-2.0, 0.7]])
    let density = codebook.encoderLogDensity(of: latents, given: tokens)
    func expected(_ z: [Double], _ mean: [Double], _ logScale: Double) -> Double {
      let variance = Double.exp(2 * logScale)
      return zip(z, mean).reduce(0.0) { $0 - 0.5 * ($1.0 - $1.1) * ($1.0 - $1.1) / variance - 0.5 * Double.log(2 * Double.pi * variance) }
    }
    assertClose(density, Tensor([expected([0.1, 0.4], [-0.8, 1.2], 0.1), expected([-2.0, 0.7], [0.3, -1.1], -0.9)]), absolute: 1e-13)
    // Its mean over encoder samples is minus the entropy.
    var generator = SeededGenerator(seed: 2)
    let many = IndexTensor(shape: [20_000], indices: [Int](repeating: 3, count: 20_000))
    let samples = codebook.latents(for: many, noise: codebook.noise(for: many, using: &generator))
    assertClose(codebook.encoderLogDensity(of: samples, given: many).mean().scalar,
      -codebook.encoderEntropy(for: IndexTensor(shape: [1], indices: [3])).scalars[0], absolute: 0.03)
  }

  func testGradientsMatchCentralDifferences() {
    let tokens = IndexTensor(shape: [2, 3], indices: [0, 2, 1, 3, 3, 2])
    var generator = SeededGenerator(seed: 30)
    let noise = Tensor<Double>.randomNormal(shape: [2, 3, 2], using: &generator)
    let codebook = smallCodebook(Double.self, learnsTokenPrior: true)
    let inputs = [codebook.means, codebook.logScales, codebook.tokenLogits, Tensor([0.2, -0.3])]
    func rebuilt(_ inputs: [Tensor<Double>]) -> TokenCodebook<Double> {
      TokenCodebook(means: inputs[0], logScales: inputs[1], tokenLogits: inputs[2])
    }
    let elbo = checkVJP(of: { inputs in
      rebuilt(inputs).evidenceLowerBound(of: tokens, noise: noise) {
        gaussianPriorLogDensity($0, mean: inputs[3], variance: 0.8)
      }.bitsPerCharacter
    }, at: inputs)
    XCTAssertTrue(elbo.passed, elbo.description)
    let importanceWeighted = checkVJP(of: { inputs in
      var generator = SeededGenerator(seed: 31)
      return rebuilt(inputs).importanceWeightedBound(of: tokens, samples: 3, using: &generator) {
        gaussianPriorLogDensity($0, mean: inputs[3], variance: 0.8)
      }
    }, at: inputs)
    XCTAssertTrue(importanceWeighted.passed, importanceWeighted.description)
    let decoder = checkVJP(of: { inputs in
      rebuilt(inputs).tokenLogProbabilities(given: noise)
    }, at: inputs)
    XCTAssertTrue(decoder.passed, decoder.description)
  }

  func testParametersAreVisitedByName() {
    var generator = SeededGenerator(seed: 1)
    let fixed = TokenCodebook<Float>(latentDimension: 5, using: &generator)
    XCTAssertEqual(fixed.parameters.map(\.name), ["means", "logScales"])
    XCTAssertEqual(fixed.parameters.map(\.value.shape), [[27, 5], [27]])
    XCTAssertEqual(fixed.logScales.scalars, [Float](repeating: Float.log(0.5), count: 27))
    let learned = TokenCodebook<Float>(latentDimension: 5, learnsTokenPrior: true, using: &generator)
    XCTAssertEqual(learned.parameters.map(\.name), ["means", "logScales", "tokenLogits"])
    XCTAssertEqual(learned.parameterCount, 27 * 5 + 27 + 27)
    XCTAssertEqual(learned.vocabularySize, 27)
    XCTAssertEqual(learned.latentDimension, 5)
    // A gradient reaches every parameter through the bound.
    let tokens = IndexTensor(shape: [1, 27], indices: Array(0..<27))
    let (_, gradients) = valueWithGradient(at: learned) { codebook in
      var draws = SeededGenerator(seed: 2)
      return codebook.evidenceLowerBound(of: tokens, using: &draws) {
        gaussianPriorLogDensity($0, mean: Tensor.zeros(shape: [5]), variance: 1)
      }.bitsPerCharacter
    }
    for name in ["means", "logScales", "tokenLogits"] {
      XCTAssertTrue(gradients[name]!.scalars.contains { $0 != 0 }, name)
    }
  }

  /// A codebook of broad, overlapping tokens: q(z | x) is wider than the
  /// posterior p(z | x) ∝ N(z; 0, 1) p(x | z), so the ELBO's gap
  /// KL(q ‖ posterior) is large while the importance weights stay bounded
  /// and the importance-weighted bound closes the gap quickly.
  private func broadCodebook() -> TokenCodebook<Double> {
    TokenCodebook(means: Tensor([[-1.0], [0.0], [1.2]]), logScales: Tensor([0.4, 0.3, 0.5]))
  }

  func testImportanceWeightingTightensTheBoundTowardTheLikelihood() {
    // One token, d = 1, standard normal prior: log p(x) = log ∫ p(x|z) N(z) dz
    // is a one-dimensional integral, done here by the trapezoidal rule.
    let codebook = broadCodebook()
    let prior = { (z: Tensor<Double>) in gaussianPriorLogDensity(z, mean: Tensor([0.0]), variance: 1) }
    let grid = stride(from: -12.0, through: 12.0, by: 0.001).map { $0 }
    let decoded = codebook.tokenLogProbabilities(given: Tensor(shape: [grid.count, 1], scalars: grid))
    for token in 0..<3 {
      var integral = 0.0
      for (index, z) in grid.enumerated() {
        let weight = index == 0 || index == grid.count - 1 ? 0.5 : 1
        integral += weight * Double.exp(decoded[index, token]) * Double.exp(-0.5 * z * z) / (2 * Double.pi).squareRoot()
      }
      let logLikelihood = Double.log(integral * 0.001)

      // 4,000 repetitions of each bound for the same token, as a batch.
      let tokens = IndexTensor(shape: [4000, 1], indices: [Int](repeating: token, count: 4000))
      var generator = SeededGenerator(seed: UInt64(40 + token))
      let elbo = codebook.evidenceLowerBound(of: tokens, using: &generator, priorLogDensity: prior).evidenceLowerBound.scalar
      var means: [Double] = []
      for samples in [1, 4, 16, 64] {
        means.append(codebook.importanceWeightedBound(of: tokens, samples: samples, using: &generator, priorLogDensity: prior).mean().scalar)
      }
      let label = "token \(token): log p(x) \(logLikelihood), ELBO \(elbo), IWAE \(means)"
      // Every bound is below log p(x) on average (up to the Monte Carlo
      // error of 4,000 repetitions), and the gap shrinks with S.
      XCTAssertLessThan(elbo, logLikelihood + 0.005, label)
      XCTAssertLessThan(means[3], logLikelihood + 0.005, label)
      // S = 1 is the ELBO in expectation; the log-weights' spread (about 1.3
      // nats) makes the difference of the two means' standard deviation ~0.02.
      assertClose(means[0], elbo, absolute: 0.08, label)
      XCTAssertGreaterThan(means[1], means[0], label)
      XCTAssertGreaterThan(means[2], means[1], label)
      XCTAssertGreaterThan(means[3], means[2], label)
      XCTAssertGreaterThan(logLikelihood - elbo, 0.1, label)  // the ELBO's gap is real
      XCTAssertLessThan(logLikelihood - means[3], 0.1 * (logLikelihood - elbo), label)
    }
  }

  func testImportanceWeightedBoundIsAtLeastTheELBOOnAverageOverSequences() {
    let codebook = smallCodebook(Double.self, learnsTokenPrior: false)
    var generator = SeededGenerator(seed: 50)
    let tokens = IndexTensor(shape: [500, 4], indices: (0..<2000).map { _ in Int(generator.next() % 4) })
    let prior = { (z: Tensor<Double>) in gaussianPriorLogDensity(z, mean: Tensor([0.1, 0.0]), variance: 1.5) }
    let elbo = codebook.evidenceLowerBound(of: tokens, using: &generator, priorLogDensity: prior).sequenceBounds
    let bound = codebook.importanceWeightedBound(of: tokens, samples: 8, using: &generator, priorLogDensity: prior)
    XCTAssertEqual(bound.shape, [500])
    XCTAssertGreaterThan(bound.mean().scalar, elbo.mean().scalar + 0.01)
  }
}
