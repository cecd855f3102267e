import FlowLayers
import FlowModels
import FlowTensor
import Foundation
import XCTest
import _TestSupport

private func tinyCharLMConfiguration(length: Int = 8, layerCount: Int = 1) -> CharacterLanguageModelConfiguration {
  CharacterLanguageModelConfiguration(length: length, layerCount: layerCount, width: 16, headCount: 1, seed: 2)
}

final class CharLMTests: XCTestCase {
  /// The zero output projection predicts uniformly: log₂ 27 bits per character.
  func testUntrainedModelPredictsUniformly() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let model = CharacterLanguageModel<Scalar>(configuration: tinyCharLMConfiguration())
      let batch = IndexTensor(shape: [2, 5], indices: [1, 2, 3, 0, 26, 5, 5, 5, 5, 5])
      assertClose(model.bitsPerCharacter(of: batch), Tensor.full(Scalar.log2(27), shape: [2]), absolute: tolerance)
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-12)
  }

  /// Position t's prediction depends on x_<t only.
  func testPredictionsAreCausal() {
    var model = CharacterLanguageModel<Double>(configuration: tinyCharLMConfiguration())
    var generator = SeededGenerator(seed: 4)
    model.updateParameters { _, parameter in
      parameter = parameter + Tensor.randomNormal(shape: parameter.shape, standardDeviation: 0.1, using: &generator)
    }
    let original = [3, 1, 4, 1, 5, 9, 2, 6]
    var changed = original
    changed[4] = 20
    let a = model.logProbabilities(IndexTensor(shape: [1, 8], indices: original)).scalars
    let b = model.logProbabilities(IndexTensor(shape: [1, 8], indices: changed)).scalars
    for position in 0..<8 {
      let differs = (0..<27).contains { abs(a[position * 27 + $0] - b[position * 27 + $0]) > 1e-12 }
      XCTAssertEqual(differs, position > 4, "position \(position)")
    }
    // Cached generation agrees with the full pass: its greedy text is the argmax of every prefix.
    var sampling = SeededGenerator(seed: 1)
    let greedy = model.generate(count: 2, length: 8, temperature: 0, using: &sampling)
    let predicted = model.logProbabilities(greedy).argmax(alongAxis: -1)
    XCTAssertEqual(greedy.indices, predicted.indices)
  }

  /// On an order-1 chain with sharp transitions, a short run gets close to
  /// the entropy rate (plus the first position's excess, which has no context).
  func testTrainingApproachesTheEntropyRateOfAnEasyChain() throws {
    let source = MarkovSource(order: 1, sharpness: 6, seed: 1)
    var generator = SeededGenerator(seed: 3)
    let corpus = source.corpus(trainingCount: 20_000, validationCount: 10, testCount: 2_000, using: &generator)
    let length = 16
    let training = CharacterWindows(symbols: corpus.training, length: length, stride: 1)
    let heldOut = CharacterWindows(symbols: corpus.test, length: length)
    let configuration = TrainingConfiguration(
      learningRate: 2e-2, warmupSteps: 0, batchSize: 32, evaluateEvery: 0, evaluationCount: nil,
      checkpointEvery: 0, stop: .steps(150), seed: 1)
    var trainer = try Trainer(
      model: CharacterLanguageModel<Float>(configuration: tinyCharLMConfiguration(length: length)),
      configuration: configuration, trainingSet: training, heldOutSet: heldOut)
    let test = try XCTUnwrap(try trainer.run(checkpoint: nil).testMetric)
    // The best any model can do on these windows: the chain's own loss, the
    // first symbol of each window at the stationary law.
    let stationary = source.stationaryDistribution()
    var oracle = 0.0
    for index in 0..<heldOut.count {
      let window = Array(heldOut.window(index))
      oracle -= Double.log2(stationary[Int(window[0])])
      for position in 1..<length {
        oracle -= Double.log2(source.probability(of: Int(window[position]), after: Int(window[position - 1])))
      }
    }
    oracle /= Double(heldOut.count * length)
    XCTAssertLessThan(source.entropyRate, 1.5, "the chain should be easy")
    XCTAssertLessThan(test, oracle + 0.25, "test \(test) bits/char, oracle \(oracle), entropy rate \(source.entropyRate)")
    XCTAssertGreaterThan(test, oracle - 0.1, "test \(test) bits/char below the oracle \(oracle)")
  }

  func testConfigurationRoundTripsThroughTheCheckpointForm() throws {
    let model = CharacterLanguageModel<Float>(configuration: tinyCharLMConfiguration())
    XCTAssertEqual(try CharacterLanguageModel<Float>(configurationJSON: model.configurationJSON).configuration, model.configuration)
    var bad = tinyCharLMConfiguration()
    bad.headCount = 3
    XCTAssertEqual(bad.problem, "width 16 must be a positive multiple of the head count 3")
    XCTAssertEqual(CharacterLanguageModel<Float>.modelName, "charlm")
    XCTAssertEqual(CharacterLanguageModel<Float>.metricKey, "bpc")
  }
}
