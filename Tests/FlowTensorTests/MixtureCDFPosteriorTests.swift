import FlowTensor
import XCTest
import _TestSupport

/// The Mixture-Rosenblatt posterior logits a_{t,i,k} = l_{t,k} + Σ_{j<i} log N(z_{t,j}; μ_{k,j}, σ_k²).
final class MixtureCDFPosteriorTests: XCTestCase {
  /// Against the sum written out per entry, with one channel (nothing
  /// accumulated) and four, one component and three.
  func testValuesAreThePriorPlusEarlierLogDensities() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 31)
      for (channels, components) in [(1, 3), (4, 1), (4, 3)] {
        let tokens = 5
        let z = Tensor<Scalar>.randomNormal(shape: [tokens, channels], using: &generator) * 2
        let logits = Tensor<Scalar>.randomNormal(shape: [tokens, components], using: &generator)
        let means = Tensor<Scalar>.randomNormal(shape: [components, channels], using: &generator)
        let logScales = Tensor<Scalar>.randomNormal(shape: [components], using: &generator) * 0.4
        let result = mixturePosteriorLogits(z, logits: logits, means: means, logScales: logScales)
        XCTAssertEqual(result.shape, [tokens, channels, components])
        var expected: [Scalar] = []
        for t in 0..<tokens {
          for i in 0..<channels {
            for k in 0..<components {
              var value = Double(logits[t, k])
              let logScale = Double(logScales[k])
              for j in 0..<i {
                let standardized = (Double(z[t, j]) - Double(means[k, j])) / Double.exp(logScale)
                value += -0.5 * standardized * standardized - logScale - 0.5 * Double.log(2 * Double.pi)
              }
              expected.append(Scalar(value))
            }
          }
        }
        assertClose(
          result, Tensor(shape: [tokens, channels, components], scalars: expected), absolute: tolerance,
          relative: tolerance, "\(channels) channels, \(components) components")
      }
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-12)
  }

  /// Reverse and forward mode (batched tangents too) against central
  /// differences, for every operand.
  func testDerivativesMatchCentralDifferences() {
    var generator = SeededGenerator(seed: 32)
    let z = Tensor<Double>.randomNormal(shape: [3, 4], using: &generator) * 1.5
    let logits = Tensor<Double>.randomNormal(shape: [3, 2], using: &generator)
    let means = Tensor<Double>.randomNormal(shape: [2, 4], using: &generator)
    let logScales = Tensor<Double>.randomNormal(shape: [2], using: &generator) * 0.3
    let body: ([Tensor<Double>]) -> Tensor<Double> = {
      mixturePosteriorLogits($0[0], logits: $0[1], means: $0[2], logScales: $0[3])
    }
    let reverse = checkVJP(of: body, at: [z, logits, means, logScales], absoluteTolerance: 1e-7, relativeTolerance: 1e-6)
    XCTAssertTrue(reverse.passed, "\(reverse)")
    let forward = checkJVP(of: body, at: [z, logits, means, logScales], absoluteTolerance: 1e-7, relativeTolerance: 1e-6)
    XCTAssertTrue(forward.passed, "\(forward)")
  }

  /// No tokens: an empty result, and empty or zero cotangents.
  func testEmptyBatch() {
    let means = Tensor<Float>([[0, 1], [2, 3]])
    let logScales = Tensor<Float>([0, 0.5])
    let (value, gradients) = valueWithGradient(
      at: [Tensor<Float>.zeros(shape: [0, 2]), Tensor.zeros(shape: [0, 2]), means, logScales]
    ) { p in mixturePosteriorLogits(p[0], logits: p[1], means: p[2], logScales: p[3]).sum() }
    XCTAssertEqual(value.scalar, 0)
    XCTAssertEqual(gradients.map(\.shape), [[0, 2], [0, 2], [2, 2], [2]])
    XCTAssertEqual(gradients[2].scalars, [0, 0, 0, 0])
    XCTAssertEqual(gradients[3].scalars, [0, 0])
  }
}
