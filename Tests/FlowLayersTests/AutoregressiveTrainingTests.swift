import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

/// A TarFlow block learns a sequence distribution end to end: gradients,
/// optimizer and log-determinant together.
final class AutoregressiveTrainingTests: XCTestCase {
  /// Sequences of a stationary AR(1) process per channel,
  /// x_t = 0.9·x_{t−1} + √0.19·ε_t, with N(0, 1) marginals: an affine
  /// autoregressive block can represent it exactly (μ_t = 0.9·x_{t−1},
  /// α = ½ log 0.19), at an NLL of 11.07 nats per sequence of 8 × 2, while
  /// the initial identity block scores the N(0, I) fit, 22.7 nats.
  private func sequences(count: Int, using generator: inout SeededGenerator) -> Tensor<Float> {
    let noise = Tensor<Float>.randomNormal(shape: [count, 8, 2], using: &generator).scalars
    var values = [Float](repeating: 0, count: noise.count)
    for sample in 0..<count {
      for channel in 0..<2 {
        var previous: Float = 0
        for position in 0..<8 {
          let index = (sample * 8 + position) * 2 + channel
          previous = position == 0 ? noise[index] : 0.9 * previous + Float(0.19).squareRoot() * noise[index]
          values[index] = previous
        }
      }
    }
    return Tensor(shape: [count, 8, 2], scalars: values)
  }

  func testAffineBlockLearnsAnAutoregressiveProcess() {
    var generator = SeededGenerator(seed: 1)
    let block = TransformerAutoregressiveFlow<Float>(
      channels: 2, length: 8, width: 16, layerCount: 1, headCount: 2, expansion: 2, using: &generator)
    var flow = Flow(base: StandardNormal<Float>(eventShape: [8, 2]), transform: block)
    var optimizer = Adam<Float>(learningRate: 1e-2)
    let heldOut = sequences(count: 256, using: &generator)
    func negativeLogLikelihood(_ model: Flow<StandardNormal<Float>, TransformerAutoregressiveFlow<Float>>) -> Float {
      -withoutRecording { model.logProbability(heldOut).mean().scalar }
    }
    let initial = negativeLogLikelihood(flow)
    XCTAssertEqual(initial, 22.7, accuracy: 1.5)
    for _ in 0..<150 {
      let batch = sequences(count: 64, using: &generator)
      let (_, gradients) = valueWithGradient(at: flow) { -$0.logProbability(batch).mean() }
      optimizer.update(&flow, along: gradients)
    }
    let final = negativeLogLikelihood(flow)
    XCTAssertLessThan(final, 12.5, "NLL \(initial) → \(final); the exact model scores 11.07")
    XCTAssertGreaterThan(final, 10.5, "below the entropy 11.07 would be an error")
    // The trained block still inverts its samples.
    let z = Tensor<Float>.randomNormal(shape: [4, 8, 2], using: &generator)
    let (x, _) = flow.transform.inverse(z)
    assertClose(flow.transform.forward(x).output, z, absolute: 1e-4, relative: 1e-4)
  }

  /// Mix-1 fits bimodal features, which no affine map of a Gaussian can:
  /// every feature ½N(−2, 0.3²) + ½N(2, 0.3²) independently, entropy
  /// 0.908 nats per feature (3.63 for 4 × 1), against 8.49 for the best
  /// Gaussian (where identical initial components would leave it).
  func testMixtureBlockLearnsBimodalFeatures() {
    var generator = SeededGenerator(seed: 2)
    func samples(_ count: Int) -> Tensor<Float> {
      let signs = Tensor<Float>.randomRademacher(shape: [count, 4, 1], using: &generator)
      return signs * 2 + Tensor<Float>.randomNormal(shape: [count, 4, 1], using: &generator) * 0.3
    }
    let block = TransformerAutoregressiveFlow<Float>(
      channels: 1, length: 4, width: 16, layerCount: 1, headCount: 2, expansion: 2,
      transform: .mixtureCDF(components: 3, hiddenSize: 8), using: &generator)
    var flow = Flow(base: StandardNormal<Float>(eventShape: [4, 1]), transform: block)
    var optimizer = Adam<Float>(learningRate: 2e-2)
    let heldOut = samples(256)
    func negativeLogLikelihood() -> Float { -withoutRecording { flow.logProbability(heldOut).mean().scalar } }
    let initial = negativeLogLikelihood()
    for _ in 0..<150 {
      let batch = samples(64)
      let (_, gradients) = valueWithGradient(at: flow) { -$0.logProbability(batch).mean() }
      optimizer.update(&flow, along: gradients)
    }
    let final = negativeLogLikelihood()
    XCTAssertLessThan(final, 4.5, "NLL \(initial) → \(final); the best Gaussian scores 8.49, the data 3.63")
    let z = Tensor<Float>.randomNormal(shape: [4, 4, 1], using: &generator)
    let (x, _) = flow.transform.inverse(z)
    assertClose(flow.transform.forward(x).output, z, absolute: 1e-4, relative: 1e-4)
  }

  /// Mix-d learns its codebook and the transitions of a Markov chain over
  /// three 2-D clusters (centres (±2, 0) and (0, 2), spread 0.3; the next
  /// token is the following cluster with probability 0.9): entropy
  /// log 3 + 3·H(0.9, 0.05, 0.05) + 8·½ log(2πe·0.09) = 4.0 nats per sequence
  /// (held-out estimates scatter by about ±0.15 around it).
  func testRosenblattBlockLearnsAMarkovChainOfClusters() {
    var generator = SeededGenerator(seed: 3)
    let centres: [[Float]] = [[2, 0], [-2, 0], [0, 2]]
    func samples(_ count: Int) -> Tensor<Float> {
      var values: [Float] = []
      for _ in 0..<count {
        var token = Int.random(in: 0..<3, using: &generator)
        for position in 0..<4 {
          if position > 0 {
            let draw = Double.random(in: 0..<1, using: &generator)
            token = (token + (draw < 0.9 ? 1 : draw < 0.95 ? 2 : 0)) % 3
          }
          values += centres[token]
        }
      }
      return Tensor(shape: [count, 4, 2], scalars: values) + Tensor.randomNormal(shape: [count, 4, 2], using: &generator) * 0.3
    }
    let block = TransformerAutoregressiveFlow<Float>(
      channels: 2, length: 4, width: 16, layerCount: 1, headCount: 2, expansion: 2,
      transform: .mixtureRosenblatt(components: 3), using: &generator)
    var flow = Flow(base: StandardNormal<Float>(eventShape: [4, 2]), transform: block)
    var optimizer = Adam<Float>(learningRate: 2e-2)
    let heldOut = samples(256)
    func negativeLogLikelihood() -> Float { -withoutRecording { flow.logProbability(heldOut).mean().scalar } }
    let initial = negativeLogLikelihood()
    for _ in 0..<400 {
      let batch = samples(64)
      let (_, gradients) = valueWithGradient(at: flow) { -$0.logProbability(batch).mean() }
      optimizer.update(&flow, along: gradients)
    }
    let final = negativeLogLikelihood()
    XCTAssertLessThan(final, 4.4, "NLL \(initial) → \(final); the data's entropy is 4.0")
    let z = Tensor<Float>.randomNormal(shape: [4, 4, 2], using: &generator)
    let (x, _) = flow.transform.inverse(z)
    assertClose(flow.transform.forward(x).output, z, absolute: 1e-4, relative: 1e-4)
  }
}
