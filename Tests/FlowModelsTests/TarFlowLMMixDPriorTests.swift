import FlowLayers
import FlowModels
import FlowTensor
import Foundation
import XCTest

/// Mix-d's prior density is the codebook mixture Σ_k π_k N(z; μ_k, σ_k² I)
/// with π the flow's predicted weights (§3.2.2): checked in Double
/// against that sum written out here, from the block's own transformer,
/// for codes overlapping (1 apart, σ = 0.5) to far apart (10 apart,
/// σ = 10⁻⁴, where every per-dimension CDF of the Rosenblatt map
/// saturates but the log-density must not).
final class TarFlowLMMixDPriorTests: XCTestCase {
  func testMixDPriorIsTheCodebookMixture() {
    let (vocabulary, length, batch) = (27, 8, 3)
    for (spacing, scale) in [(1.0, 0.5), (3.0, 0.5), (10.0, 0.5), (10.0, 0.1), (10.0, 1e-4)] {
      var model = TarFlowLM<Double>(
        configuration: TarFlowLMConfiguration(
          vocabularySize: vocabulary, latentDimension: vocabulary, length: length, blockCount: 1, layersPerBlock: 1,
          width: 16, headCount: 1, transform: .mixd, seed: 5))
      var oneHot = [Double](repeating: 0, count: vocabulary * vocabulary)
      for token in 0..<vocabulary { oneHot[token * vocabulary + token] = spacing }
      model.codebook.means = Tensor(shape: [vocabulary, vocabulary], scalars: oneHot)
      model.codebook.logScales = Tensor.full(Double.log(scale), shape: [vocabulary])
      var noise = SeededGenerator(seed: 11)
      model.blocks[0].updateParameters { _, parameter in
        parameter = parameter + 0.3 * Tensor<Double>.randomNormal(shape: parameter.shape, using: &noise)
      }
      var draws = SeededGenerator(seed: 12)
      let tokenValues = (0..<(batch * length)).map { _ in Int.random(in: 0..<vocabulary, using: &draws) }
      let tokens = IndexTensor(shape: [batch, length], indices: tokenValues)
      // z: the codes plus a fixed perturbation of 0.3σ.
      var perturbation = SeededGenerator(seed: 13)
      let z = model.codebook.encoderMeans(for: tokens)
        + 0.3 * scale * Tensor<Double>.randomNormal(shape: [batch, length, vocabulary], using: &perturbation)
      let prior = model.priorLogDensity(z).scalars

      let outputs = model.blocks[0].network(z).scalars
      let zs = z.scalars
      for row in 0..<batch {
        var expected = 0.0
        for position in 0..<length {
          var logits = [Double](repeating: 0, count: vocabulary)
          if position > 0 {
            let start = (row * length + position - 1) * vocabulary
            logits = Array(outputs[start ..< start + vocabulary])
          }
          let largest = logits.max()!
          let logNormaliser = largest + Double.log(logits.reduce(0) { $0 + Double.exp($1 - largest) })
          var terms: [Double] = []
          for component in 0..<vocabulary {
            var logDensity = 0.0
            for dimension in 0..<vocabulary {
              let value = zs[(row * length + position) * vocabulary + dimension]
              let mean = oneHot[component * vocabulary + dimension]
              logDensity += -0.5 * ((value - mean) / scale) * ((value - mean) / scale) - Double.log(scale)
                - 0.5 * Double.log(2 * Double.pi)
            }
            terms.append(logits[component] - logNormaliser + logDensity)
          }
          let top = terms.max()!
          expected += top + Double.log(terms.reduce(0) { $0 + Double.exp($1 - top) })
        }
        XCTAssertEqual(
          prior[row], expected, accuracy: 1e-9 * Swift.max(1, abs(expected)), "spacing \(spacing), σ \(scale), sequence \(row)")
      }
    }
  }
}
