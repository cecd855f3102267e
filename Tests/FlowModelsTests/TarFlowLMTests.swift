import FlowLayers
import FlowModels
import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// A tiny TarFlowLM: 2 flows of 1 layer, width 16, d = 3, context 8.
private func tinyTarFlowLMConfiguration(
  transform: TarFlowLMTransform = .affine, patchSize: Int = 1, conditionerInput: TarFlowLMConditionerInput = .latents,
  seed: UInt64 = 3
) -> TarFlowLMConfiguration {
  TarFlowLMConfiguration(
    latentDimension: 3, length: 8, blockCount: 2, layersPerBlock: 1, width: 16, headCount: 1,
    transform: transform, mixtureComponents: 2, mixtureHiddenSize: 8, patchSize: patchSize,
    conditionerInput: conditionerInput, seed: seed)
}

/// Random parameter noise of standard deviation `scale` on every block's
/// zero-initialised output layers (the transformer's and Mix-1's masked
/// head's), so that the flows move away from their start and gradients
/// reach the layers behind them.
private func perturbingBlocks<Scalar: TensorScalar>(_ model: TarFlowLM<Scalar>, scale: Scalar, seed: UInt64) -> TarFlowLM<Scalar> {
  var result = model
  var generator = SeededGenerator(seed: seed)
  for index in result.blocks.indices {
    result.blocks[index].updateParameters { name, parameter in
      if name.hasPrefix("network.outputProjection") || name.hasPrefix("maskedHead.output") {
        parameter = parameter + Tensor.randomNormal(
          shape: parameter.shape, standardDeviation: scale, using: &generator)
      }
    }
  }
  return result
}

private func tokens(_ rows: [[Int]]) -> IndexTensor {
  IndexTensor(shape: [rows.count, rows[0].count], indices: Array(rows.joined()))
}

final class TarFlowLMTests: XCTestCase {
  /// Identity flows (affine blocks at initialisation) leave the standard
  /// normal as the prior: the ELBO is the codebook's under N(0, I).
  func testIdentityFlowsGiveTheCodebookBoundUnderAStandardNormalPrior() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let model = TarFlowLM<Scalar>(configuration: tinyTarFlowLMConfiguration())
      let batch = tokens([[1, 5, 0, 26, 3, 3, 9, 12], [0, 0, 4, 7, 19, 2, 2, 8]])
      var noiseGenerator = SeededGenerator(seed: 11)
      let noise = model.codebook.noise(for: batch, using: &noiseGenerator)
      let expected = model.codebook.evidenceLowerBound(of: batch, noise: noise) { latents in
        (-0.5 * square(latents) - Scalar(0.5) * Scalar.log(2 * Scalar.pi)).sum(alongAxes: [1, 2])
      }
      var generator = SeededGenerator(seed: 11)
      let bound = model.evidenceBound(of: batch, using: &generator)
      assertClose(bound.sequenceBounds, expected.sequenceBounds, absolute: tolerance)
      assertClose(bound.bitsPerCharacter, expected.bitsPerCharacter, absolute: tolerance)
      // The flows are exactly the identity, so the prior term is the Gaussian's.
      let latents = model.codebook.latents(for: batch, noise: noise)
      assertClose(
        model.priorLogDensity(latents),
        (-0.5 * square(latents) - Scalar(0.5) * Scalar.log(2 * Scalar.pi)).sum(alongAxes: [1, 2]), absolute: tolerance)
    }
    check(Float.self, tolerance: 1e-4)
    check(Double.self, tolerance: 1e-10)
  }

  /// With the output projections perturbed (zero ones block every gradient
  /// behind them), every parameter of every variant gets a finite, nonzero gradient.
  func testGradientsReachEveryParameter() {
    for transform in TarFlowLMTransform.allCases {
      for input in TarFlowLMConditionerInput.allCases {
      let model = perturbingBlocks(
        TarFlowLM<Double>(configuration: tinyTarFlowLMConfiguration(transform: transform, conditionerInput: input)),
        scale: 0.05, seed: 5)
      let batch = tokens([[1, 5, 0, 26, 3, 3, 9, 12], [0, 0, 4, 7, 19, 2, 2, 8]])
      let (value, gradients) = valueWithGradient(at: model) { model in
        var generator = SeededGenerator(seed: 2)
        return model.evidenceBound(of: batch, using: &generator).bitsPerCharacter
      }
      XCTAssertTrue(value.scalar.isFinite, "\(transform)")
      let names = model.parameters.map(\.name)
      XCTAssertEqual(Set(gradients.keys), Set(names), "\(transform)")
      XCTAssertTrue(names.contains("codebook.means") && names.contains("blocks.1.network.outputProjection.weight"))
      // Mix-d's mixture and the posterior the first flow reads are the
      // codebook's: not parameters of their own.
      XCTAssertFalse(names.contains { $0.contains("mixture") || $0.contains("codebookPosterior") }, "\(transform)")
      XCTAssertEqual(model.blocks[0].network.inputSize, input == .posterior ? 27 : 3)
      for name in names {
        let gradient = gradients[name]!.scalars
        XCTAssertTrue(gradient.allSatisfy(\.isFinite), "\(transform), \(input): \(name)")
        XCTAssertTrue(gradient.contains { $0 != 0 }, "\(transform), \(input): no gradient reaches \(name)")
      }
      }
    }
  }

  /// The flows' gains and the standard normal's log-density of z add up to
  /// the prior's log-density, for every transform; flows at the identity
  /// (new affine blocks) gain exactly nothing.
  func testFlowGainsAddUpToThePrior() {
    var generator = SeededGenerator(seed: 8)
    let latents = Tensor<Double>.randomNormal(shape: [2, 8, 3], using: &generator)
    let standard = (-0.5 * square(latents) - 0.5 * Double.log(2 * Double.pi)).sum(alongAxes: [1, 2])
    for transform in TarFlowLMTransform.allCases {
      let model = perturbingBlocks(
        TarFlowLM<Double>(configuration: tinyTarFlowLMConfiguration(transform: transform)), scale: 0.05, seed: 5)
      let gains = model.flowGains(latents)
      XCTAssertEqual(gains.count, 2)
      let total = gains.reduce(standard, +)
      assertClose(total, model.priorLogDensity(latents), absolute: 1e-10, "\(transform)")
      XCTAssertTrue(gains.allSatisfy { $0.scalars.allSatisfy { abs($0) > 1e-6 } }, "\(transform)")
    }
    let identity = TarFlowLM<Double>(configuration: tinyTarFlowLMConfiguration(transform: .affine))
    for gain in identity.flowGains(latents) { XCTAssertEqual(gain.scalars, [0, 0]) }
  }

  /// With `.posterior`, block 0's transformer reads the codebook's
  /// posterior (tied: moving the codebook moves what it reads, and a
  /// frozen block 0 passes no gradient through it); block 1 reads its input.
  func testThePosteriorInputIsTiedToTheCodebook() {
    var model = perturbingBlocks(
      TarFlowLM<Double>(configuration: tinyTarFlowLMConfiguration(transform: .affine, conditionerInput: .posterior)),
      scale: 0.05, seed: 7)
    let tied = model.tiedBlocks
    XCTAssertEqual(tied[0].codebookPosterior?.means.scalars, model.codebook.means.scalars)
    XCTAssertEqual(tied[0].codebookPosterior?.logScales.scalars, model.codebook.logScales.scalars)
    XCTAssertNil(tied[1].codebookPosterior)
    XCTAssertEqual(model.blocks[1].network.inputSize, 3)
    let latents = assertPriorMovesWithTheCodebook(model)
    // For fixed latents under affine flows, the codebook reaches the prior
    // only through what block 0 reads; frozen, not at all.
    func codebookGradient(_ model: TarFlowLM<Double>) -> [Double] {
      valueWithGradient(at: model) { model in model.priorLogDensity(latents).sum() }.gradients["codebook.means"]!.scalars
    }
    XCTAssertTrue(codebookGradient(model).contains { $0 != 0 })
    model.freezeBlocks(1)
    XCTAssertTrue(codebookGradient(model).allSatisfy { $0 == 0 })
  }

  /// Mix-d's first flow uses the codebook: moving the codebook's means
  /// moves the prior's density of fixed latents.
  func testMixDTiesItsMixtureToTheCodebook() {
    let model = TarFlowLM<Double>(configuration: tinyTarFlowLMConfiguration(transform: .mixd))
    XCTAssertEqual(model.tiedBlocks[0].mixture?.means.scalars, model.codebook.means.scalars)
    assertPriorMovesWithTheCodebook(model)
  }

  /// Moving the codebook's means by 0.3 moves the prior's log-density of
  /// every one of two fixed latent sequences `[2, 8, 3]`, which it returns.
  @discardableResult
  private func assertPriorMovesWithTheCodebook(
    _ model: TarFlowLM<Double>, file: StaticString = #filePath, line: UInt = #line
  ) -> Tensor<Double> {
    var generator = SeededGenerator(seed: 4)
    let latents = Tensor<Double>.randomNormal(shape: [2, 8, 3], using: &generator)
    var moved = model
    moved.codebook.means = moved.codebook.means + 0.3
    let difference = (model.priorLogDensity(latents) - moved.priorLogDensity(latents)).scalars
    XCTAssertTrue(difference.allSatisfy { abs($0) > 1e-6 }, "\(difference)", file: file, line: line)
    return latents
  }

  /// Frozen blocks take no gradient; the others and the codebook still do.
  func testFrozenBlocksTakeNoGradient() {
    var model = perturbingBlocks(
      TarFlowLM<Double>(configuration: tinyTarFlowLMConfiguration(transform: .mixd)), scale: 0.05, seed: 6)
    model.freezeBlocks(1)
    XCTAssertEqual(model.frozenBlockCount, 1)
    let batch = tokens([[1, 5, 0, 26, 3, 3, 9, 12]])
    let gradients = valueWithGradient(at: model) { model in
      var generator = SeededGenerator(seed: 2)
      return model.evidenceBound(of: batch, using: &generator).bitsPerCharacter
    }.gradients
    for (name, gradient) in gradients {
      if name.hasPrefix("blocks.0.") {
        XCTAssertTrue(gradient.scalars.allSatisfy { $0 == 0 }, name)
      } else if name.hasPrefix("blocks.1.network.outputProjection") || name.hasPrefix("codebook") {
        XCTAssertTrue(gradient.scalars.contains { $0 != 0 }, name)
      }
    }
    // The next stage: one more block, every earlier one frozen, stored in the configuration.
    var generator = SeededGenerator(seed: 9)
    let grown = model.addingBlock(using: &generator)
    XCTAssertEqual(grown.blocks.count, 3)
    XCTAssertEqual(grown.frozenBlockCount, 2)
    XCTAssertEqual(grown.blocks[2].order, .identity)
    XCTAssertEqual(try TarFlowLM<Double>(configurationJSON: grown.configurationJSON).configuration, grown.configuration)
  }

  func testConfigurationRoundTripsAndRejectsBadValues() throws {
    let configuration = tinyTarFlowLMConfiguration(transform: .mix1, patchSize: 2)
    XCTAssertEqual(try TarFlowLMConfiguration(jsonString: configuration.jsonString), configuration)
    var bad = configuration
    bad.length = 7
    XCTAssertEqual(bad.problem, "context 7 must be ≥ 1 and a multiple of the patch size 2")
    XCTAssertThrowsError(try TarFlowLMConfiguration(jsonString: bad.jsonString)) { error in
      XCTAssertEqual("\(error)", "invalid model configuration: context 7 must be ≥ 1 and a multiple of the patch size 2")
    }
    let reading = tinyTarFlowLMConfiguration(transform: .mixd, conditionerInput: .posterior)
    XCTAssertEqual(try TarFlowLMConfiguration(jsonString: reading.jsonString), reading)
    XCTAssertTrue(reading.jsonString.contains("\"conditionerInput\":\"posterior\""))
    // Checkpoints from before the option: no key, the latents.
    let older = configuration.jsonString.replacingOccurrences(of: "\"conditionerInput\":\"latents\",", with: "")
    XCTAssertFalse(older.contains("conditionerInput"))
    XCTAssertEqual(try TarFlowLMConfiguration(jsonString: older), configuration)
    let model = TarFlowLM<Float>(configuration: configuration)
    XCTAssertEqual(model.blocks.map(\.order), [.identity, .reversed])
    XCTAssertEqual(model.blocks.map(\.patchSize), [2, 2])
  }

  /// The importance-weighted bound is tighter (fewer bits) than the ELBO.
  func testImportanceWeightedBoundIsTighterThanTheELBO() {
    let model = perturbingBlocks(TarFlowLM<Double>(configuration: tinyTarFlowLMConfiguration()), scale: 0.05, seed: 8)
    let windows = CharacterWindows(symbols: (0..<64).map { UInt8(($0 * 7) % 27) }, length: 8)
    var generator = SeededGenerator(seed: 1)
    let elbo = model.evaluate(on: windows, batchSize: 4, using: &generator)
    let weighted = model.evaluateImportanceWeighted(on: windows, samples: 16, batchSize: 4, using: &generator)
    XCTAssertLessThan(weighted, elbo - 0.01)
    XCTAssertGreaterThan(weighted, 0)
  }

  /// A few dozen Adam steps on a small order-1 Markov text lower the held-out bits/char.
  func testTrainingLowersHeldOutBitsPerCharacter() throws {
    let source = MarkovSource(order: 1, sharpness: 4, seed: 3)
    var generator = SeededGenerator(seed: 7)
    let corpus = source.corpus(trainingCount: 4000, validationCount: 10, testCount: 400, using: &generator)
    let training = CharacterWindows(symbols: corpus.training, length: 8, stride: 1)
    let heldOut = CharacterWindows(symbols: corpus.test, length: 8)
    let model = TarFlowLM<Float>(configuration: tinyTarFlowLMConfiguration(transform: .mix1))
    let configuration = TrainingConfiguration(
      learningRate: 1e-2, warmupSteps: 0, batchSize: 16, evaluateEvery: 0, evaluationCount: nil,
      checkpointEvery: 0, stop: .steps(40), seed: 1)
    let before = model.evaluate(on: heldOut, following: configuration)
    var trainer = try Trainer(model: model, configuration: configuration, trainingSet: training, heldOutSet: heldOut)
    let summary = try trainer.run(checkpoint: nil)
    let after = try XCTUnwrap(summary.testMetric)
    XCTAssertLessThan(after, before - 0.5, "held-out bits/char \(before) → \(after)")
    XCTAssertEqual(summary.metricName, "bits/char")
  }

  func testGenerationShapesDeterminismAndPasses() {
    for (transform, patchSize) in [(TarFlowLMTransform.affine, 1), (.mix1, 2), (.mixd, 2)] {
      let model = perturbingBlocks(
        TarFlowLM<Float>(configuration: tinyTarFlowLMConfiguration(transform: transform, patchSize: patchSize)),
        scale: 0.02, seed: 3)
      for decoding in TokenDecoding.allCases {
        var first = SeededGenerator(seed: 5)
        var second = SeededGenerator(seed: 5)
        let passes = model.generatePasses(count: 3, length: 6, temperature: 0.8, decoding: decoding, using: &first)
        XCTAssertEqual(passes.count, model.blocks.count + 1, "\(transform)")
        for pass in passes {
          XCTAssertEqual(pass.shape, [3, 6])
          XCTAssertTrue(pass.indices.allSatisfy { (0..<27).contains($0) })
        }
        let again = model.generate(count: 3, length: 6, temperature: 0.8, decoding: decoding, using: &second)
        XCTAssertEqual(again, passes.last!, "\(transform) \(decoding): the same seed gives the same text")
      }
      var third = SeededGenerator(seed: 6)
      var fourth = SeededGenerator(seed: 7)
      XCTAssertNotEqual(
        model.generate(count: 3, length: 8, using: &third), model.generate(count: 3, length: 8, using: &fourth))
      XCTAssertNotNil(model.generationProblem(count: 1, length: 10, temperature: 1))
      XCTAssertNil(model.generationProblem(count: 1, length: 8, temperature: 0))
    }
  }

  /// Temperature 0 makes the base noise zero: generation is deterministic
  /// whatever the seed, and the decoded noise is one token repeated.
  func testZeroTemperatureIgnoresTheSeed() {
    let model = perturbingBlocks(TarFlowLM<Double>(configuration: tinyTarFlowLMConfiguration()), scale: 0.05, seed: 3)
    var first = SeededGenerator(seed: 1)
    var second = SeededGenerator(seed: 2)
    let a = model.generatePasses(count: 2, length: 8, temperature: 0, using: &first)
    let b = model.generatePasses(count: 2, length: 8, temperature: 0, using: &second)
    XCTAssertEqual(a, b)
    XCTAssertEqual(Set(a[0].indices).count, 1)
  }
}
