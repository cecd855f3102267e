import FlowLayers
import FlowModels
import FlowTensor
import XCTest
import _TestSupport

final class CDFlowDiagnosticsTests: XCTestCase {
  /// Image [1, 8, 8], L = 2, K = 2, hidden 8, every parameter moved off its
  /// initial value (so splits, couplings and ActNorms are not identities).
  private func perturbedModel<Scalar: TensorScalar>(_: Scalar.Type, seed: UInt64 = 7) -> CDFlow<Scalar> {
    let configuration = CDFlowConfiguration(
      channels: 1, height: 8, width: 8, levels: 2, stepsPerLevel: 2, hiddenChannels: 8,
      mixer: .circulantDiagonal(factors: 2), seed: seed)
    var model = CDFlow<Scalar>(configuration: configuration)
    var generator = SeededGenerator(seed: seed + 100)
    model.updateParameters { _, value in
      value = value + Tensor<Scalar>.randomNormal(shape: value.shape, using: &generator) * Scalar(0.1)
    }
    model.isInitialized = true
    return model
  }

  private func dataset(count: Int, seed: UInt64) -> ImageDataset {
    var generator = SeededGenerator(seed: seed)
    let pixels = (0..<(count * 64)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    return ImageDataset(pixels: pixels, labels: [UInt8](repeating: 0, count: count), rows: 8, columns: 8)
  }

  func testTermsAddUpToTheLogProbabilityAndFollowTheLayers() {
    check(Double.self, tolerance: 1e-10)
    check(Float.self, tolerance: 1e-4)

    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Double) {
      let model = perturbedModel(Scalar.self)
      var generator = SeededGenerator(seed: 3)
      let x = Tensor<Scalar>.randomUniform(shape: [1, 1, 8, 8], in: -0.5..<0.5, using: &generator)
      let terms = model.logProbabilityTerms(x)
      let expected = Double(model.logProbability(x).scalar)
      let total = terms.reduce(0) { $0 + $1.value }
      XCTAssertEqual(total, expected, accuracy: tolerance * Swift.max(1, abs(expected)), "\(Scalar.self)")

      // Level 0: Squeeze, 2 × (ActNorm, mixer, coupling), the split's two
      // terms, level 1 (Squeeze, 2 × 3, Unsqueeze), Unsqueeze; then the base.
      XCTAssertEqual(terms.count, 1 + 6 + 2 + 8 + 1 + 1, "\(Scalar.self)")
      XCTAssertEqual(terms.first?.path, "transform.layers.0")
      XCTAssertEqual(terms.first?.layer, "Squeeze")
      XCTAssertEqual(terms[1].path, "transform.layers.1.layers.0")
      XCTAssertEqual(terms[1].layer, "ActNorm")
      XCTAssertEqual(terms[2].layer, "CirculantDiagonalConv1x1")
      XCTAssertEqual(terms[3].layer, "AffineCoupling")
      XCTAssertEqual(terms[7].kind, .splitLogDeterminant)
      XCTAssertEqual(terms[8].kind, .splitFactored)
      XCTAssertEqual(terms[7].path, "transform.layers.3.split")
      XCTAssertEqual(terms[9].path, "transform.layers.3.inner.layers.0")
      XCTAssertEqual(terms[10].path, "transform.layers.3.inner.layers.1.layers.0")
      XCTAssertEqual(terms.last?.kind, .base)
      XCTAssertEqual(terms.filter { $0.smallestLogStandardDeviation != nil }.count, 1)
      // Squeezes and unsqueezes move elements only.
      for term in terms where term.layer == "Squeeze" || term.layer == "Unsqueeze" {
        XCTAssertEqual(term.value, 0, "\(Scalar.self) \(term.path)")
      }

      // The split's two terms are Glow's log N(x₂; μ(x₁), σ(x₁)²), computed
      // here from its definition on the split's input.
      let level = model.transform.layers
      let beforeSplit = Chain(Array(level[0..<3])).forward(x).output
      let halves = beforeSplit.split(count: 2, alongAxis: 1)
      let split = (level[3] as! MultiScale<Chain<Scalar>>).split
      let (mean, logSD) = split.gaussianParameters(halves[0])!
      var glow = 0.0
      var smallest = Double.infinity
      for ((x2, m), s) in zip(zip(halves[1].scalars, mean.scalars), logSD.scalars) {
        let standardised = (Double(x2) - Double(m)) / Double.exp(Double(s))
        glow += -0.5 * standardised * standardised - Double(s) - 0.5 * Double.log(2 * Double.pi)
        smallest = Swift.min(smallest, Double(s))
      }
      XCTAssertEqual(terms[7].value + terms[8].value, glow, accuracy: tolerance * Swift.max(1, abs(glow)), "\(Scalar.self)")
      XCTAssertEqual(terms[7].smallestLogStandardDeviation!, smallest, accuracy: tolerance, "\(Scalar.self)")
      XCTAssertNotEqual(terms[7].value, 0, "the perturbed split must not be the identity")
    }
  }

  func testImageScoresRepeatTheEvaluationAndTheReplayedImage() {
    check(Double.self, tolerance: 1e-12)
    check(Float.self, tolerance: 1e-5)

    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Double) {
      let model = perturbedModel(Scalar.self, seed: 11)
      let images = dataset(count: 5, seed: 4)
      var scoring = SeededGenerator(seed: 21)
      let scores = model.imageScores(on: images, batchSize: 2, using: &scoring)
      XCTAssertEqual(scores.map(\.index), Array(0..<5))

      var evaluating = SeededGenerator(seed: 21)
      let evaluation = model.evaluate(on: images, batchSize: 3, using: &evaluating)
      let mean = scores.reduce(0) { $0 + $1.bitsPerDimension } / 5
      XCTAssertEqual(evaluation, mean, accuracy: tolerance * evaluation, "\(Scalar.self)")

      for score in scores {
        var replay = SeededGenerator(seed: 21)
        let x = model.dequantizedImage(score.index, of: images, using: &replay)
        XCTAssertEqual(x.shape, [1, 1, 8, 8])
        let value = Double(model.logProbability(x).scalar)
        XCTAssertEqual(value, score.logProbability, accuracy: tolerance * Swift.max(1, abs(value)), "\(Scalar.self)")
        let bits = (-value + 64 * Double.log(256)) / (64 * Double.log(2))
        XCTAssertEqual(score.bitsPerDimension, bits, accuracy: tolerance * bits, "\(Scalar.self)")
      }
    }
  }

  func testWorstListsTheLowestLikelihoodsFirstWithNaNLowest() {
    let scores = [
      CDFlowImageScore(index: 0, logProbability: 10, bitsPerDimension: 1),
      CDFlowImageScore(index: 1, logProbability: -5, bitsPerDimension: 2),
      CDFlowImageScore(index: 2, logProbability: .nan, bitsPerDimension: .nan),
      CDFlowImageScore(index: 3, logProbability: -5, bitsPerDimension: 2),
      CDFlowImageScore(index: 4, logProbability: -.infinity, bitsPerDimension: .infinity),
      CDFlowImageScore(index: 5, logProbability: -1e8, bitsPerDimension: 300),
    ]
    XCTAssertEqual(CDFlowImageScore.worst(scores, count: 4).map(\.index), [2, 4, 5, 1])
    XCTAssertEqual(CDFlowImageScore.worst(scores, count: 10).map(\.index), [2, 4, 5, 1, 3, 0])
    XCTAssertEqual(CDFlowImageScore.worst(scores.reversed(), count: 6).map(\.index), [2, 4, 5, 1, 3, 0])
    XCTAssertEqual(CDFlowImageScore.worst(scores, count: 0), [])
    XCTAssertEqual(CDFlowImageScore.worst([], count: 3), [])
  }
}
