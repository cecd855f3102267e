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

/// TarFlowLM's Prop. 4 (App. F): with one Mix-d flow whose transformer
/// reads the codebook posterior, separated codes and σ → 0, the ELBO is
/// the discrete autoregressive log-likelihood Σ_t log π_t[x_t] of that same
/// transformer reading one-hot characters (position 0 uniform: the
/// shifted-in zeros). Checked in Double with the real sizes (V = 27,
/// d = 5, the codebook's random codes at least 0.3 apart, σ = 10⁻⁴) and
/// encoder noise ε = ±1 per dimension, so that each token's sampled
/// log N(z; μ_x, σ) + H[q] = (d − ‖ε‖²)/2 is exactly 0 rather than a χ²
/// draw, and the bound has no sampling error to hide behind.
final class TarFlowLMPropositionFourTests: XCTestCase {
  func testMixDReadingThePosteriorIsTheDiscreteModel() {
    let (vocabulary, dimension, length, batch) = (27, 5, 12, 3)
    var model = TarFlowLM<Double>(
      configuration: TarFlowLMConfiguration(
        vocabularySize: vocabulary, latentDimension: dimension, length: length, blockCount: 1, layersPerBlock: 2,
        width: 16, headCount: 2, transform: .mixd, conditionerInput: .posterior, seed: 21))
    let means = model.codebook.means.scalars
    var closest = Double.infinity
    for a in 0..<vocabulary {
      for b in 0..<a {
        let distance = (0..<dimension).reduce(0) { $0 + pow(means[a * dimension + $1] - means[b * dimension + $1], 2) }
        closest = min(closest, distance.squareRoot())
      }
    }
    XCTAssertGreaterThan(closest, 0.3, "the seed's codes are not separated")
    model.codebook.logScales = Tensor.full(Double.log(1e-4), shape: [vocabulary])
    var noise = SeededGenerator(seed: 22)
    model.blocks[0].updateParameters { _, parameter in
      parameter = parameter + 0.3 * Tensor<Double>.randomNormal(shape: parameter.shape, using: &noise)
    }
    var draws = SeededGenerator(seed: 23)
    let tokenValues = (0..<(batch * length)).map { _ in Int.random(in: 0..<vocabulary, using: &draws) }
    let tokens = IndexTensor(shape: [batch, length], indices: tokenValues)
    let signs = (0..<(batch * length * dimension)).map { _ in Bool.random(using: &draws) ? 1.0 : -1.0 }
    let bound = model.codebook.evidenceLowerBound(
      of: tokens, noise: Tensor(shape: [batch, length, dimension], scalars: signs)
    ) { model.priorLogDensity($0) }

    // The discrete model: the block's transformer on one-hot characters,
    // its output at t − 1 the logits of character t.
    var oneHot = [Double](repeating: 0, count: batch * length * vocabulary)
    for (index, token) in tokenValues.enumerated() { oneHot[index * vocabulary + token] = 1 }
    let logits = model.blocks[0].network(Tensor(shape: [batch, length, vocabulary], scalars: oneHot))
    let logProbabilities = logSoftmax(logits, alongAxis: -1).scalars
    for row in 0..<batch {
      var expected = -Double.log(Double(vocabulary))
      for position in 1..<length {
        let previous = row * length + position - 1
        expected += logProbabilities[previous * vocabulary + tokenValues[row * length + position]]
      }
      let perCharacter = expected / Double(length)
      XCTAssertEqual(bound.sequenceBounds.scalars[row], perCharacter, accuracy: 1e-10, "sequence \(row)")
    }
    // The reading is the characters' one-hot rows exactly.
    let latents = model.codebook.latents(
      for: tokens, noise: Tensor(shape: [batch, length, dimension], scalars: signs))
    XCTAssertEqual(model.tiedBlocks[0].codebookPosterior!(latents).scalars, oneHot)
  }
}
