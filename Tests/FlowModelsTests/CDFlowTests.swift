import FlowLayers
import FlowModels
import FlowTensor
import XCTest
import _TestSupport

final class CDFlowTests: XCTestCase {
  private static let mixers: [CDFlowMixer] = [.circulantDiagonal(factors: 2), .lu, .dense, .reverse]

  /// Image [1, 8, 8], L = 2, K = 2, hidden 8: a 64×64 Jacobian.
  private func tinyConfiguration(
    mixer: CDFlowMixer = .circulantDiagonal(factors: 2), scale: CDFlowCouplingScale = .sigmoid, seed: UInt64 = 7
  ) -> CDFlowConfiguration {
    CDFlowConfiguration(
      channels: 1, height: 8, width: 8, levels: 2, stepsPerLevel: 2, hiddenChannels: 8, mixer: mixer,
      couplingScale: scale, learnedSplitPrior: true, seed: seed)
  }

  private func randomPixels<Scalar: TensorScalar>(_: Scalar.Type, batch: Int, seed: UInt64) -> Tensor<Scalar> {
    var generator = SeededGenerator(seed: seed)
    let values = (0..<(batch * 64)).map { _ in Scalar(Int.random(in: 0...255, using: &generator)) }
    return Tensor(shape: [batch, 1, 8, 8], scalars: values)
  }

  func testTransformPassesTheBijectorConformanceSuiteForEveryMixer() {
    for mixer in Self.mixers {
      let model = CDFlow<Double>(configuration: tinyConfiguration(mixer: mixer))
      var generator = SeededGenerator(seed: 3)
      let input = Tensor<Double>.randomUniform(shape: [3, 1, 8, 8], in: -0.5..<0.5, using: &generator)
      let report = checkBijector(model.transform, input: input)
      XCTAssertTrue(report.passed, "mixer \(mixer): \(report)")
    }
  }

  func testLevelsKeepTheImageShapeAndParameterNamesAreStable() {
    let model = CDFlow<Double>(configuration: tinyConfiguration())
    var generator = SeededGenerator(seed: 1)
    let x = Tensor<Double>.randomUniform(shape: [2, 1, 8, 8], in: -0.5..<0.5, using: &generator)
    XCTAssertEqual(model.transform.forward(x).output.shape, [2, 1, 8, 8])
    let names = model.parameters.map(\.name)
    // Level 0: Squeeze, steps 1 and 2, MultiScale 3, Unsqueeze; step = [ActNorm, mixer, coupling].
    XCTAssertTrue(names.contains("transform.layers.1.layers.0.logScale"), "\(names)")
    XCTAssertTrue(names.contains("transform.layers.1.layers.2.conditioner.input.filter"))
    XCTAssertTrue(names.contains("transform.layers.2.layers.2.conditioner.output.bias"))
    XCTAssertTrue(names.contains("transform.layers.3.split.filter"))
    XCTAssertTrue(names.contains("transform.layers.3.inner.layers.2.layers.2.conditioner.hidden.filter"))
    XCTAssertEqual(Set(names).count, names.count)
    XCTAssertEqual(CDFlow<Double>(configuration: tinyConfiguration()).parameters.map(\.name), names)
  }

  func testBitsPerDimensionIsFiniteAndFollowsTheNegativeLogLikelihood() {
    check(Double.self, tolerance: 1e-12)
    check(Float.self, tolerance: 1e-5)

    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Double) {
      var model = CDFlow<Scalar>(configuration: tinyConfiguration())
      let pixels = randomPixels(Scalar.self, batch: 4, seed: 11)
      var initGenerator = SeededGenerator(seed: 5)
      model.initialize(from: pixels, using: &initGenerator)
      var first = SeededGenerator(seed: 9)
      var second = SeededGenerator(seed: 9)
      let bits = Double(model.bitsPerDimension(pixels: pixels, using: &first).scalar)
      let nll = Double(model.negativeLogLikelihood(pixels: pixels, using: &second).scalar)
      let dimensions = 64.0
      XCTAssertTrue(bits.isFinite && bits > 0, "\(Scalar.self): \(bits)")
      let expected = (nll + dimensions * Double.log(256)) / (dimensions * Double.log(2))
      XCTAssertEqual(bits, expected, accuracy: tolerance * Swift.max(1, abs(expected)), "\(Scalar.self)")
    }
  }

  func testUntrainedIdentityModelGivesTheStandardNormalBitsPerDimension() {
    // Before initialisation with a soft-clamped coupling, every ActNorm,
    // coupling and split is the identity and every mixer orthogonal (or a
    // permutation), so the model's density is N(0, I) of the scaled data.
    for mixer in Self.mixers {
      let model = CDFlow<Double>(configuration: tinyConfiguration(mixer: mixer, scale: .softClamp(bound: 3)))
      let pixels = randomPixels(Double.self, batch: 3, seed: 21)
      var modelGenerator = SeededGenerator(seed: 4)
      let bits = model.bitsPerDimension(pixels: pixels, using: &modelGenerator).scalar
      var noiseGenerator = SeededGenerator(seed: 4)
      let x = UniformDequantization(bits: 8, centred: true).dequantize(pixels, using: &noiseGenerator).scalars
      // Each value lies in its pixel's bin of the centred data.
      for (value, pixel) in zip(x, pixels.scalars) {
        XCTAssertTrue(value >= pixel / 256 - 0.5 && value < (pixel + 1) / 256 - 0.5)
      }
      let d = 64.0
      var total = 0.0
      for image in 0..<3 {
        let squares = x[(image * 64)..<((image + 1) * 64)].reduce(0) { $0 + $1 * $1 }
        total += 0.5 * squares + 0.5 * d * Double.log(2 * Double.pi)
      }
      let nll = total / 3
      let expected = nll / (d * Double.log(2)) + 8
      XCTAssertEqual(bits, expected, accuracy: 1e-10, "mixer \(mixer)")
    }
  }

  func testLogProbabilityIsTheChangeOfVariablesWithANumericalJacobian() {
    // A trained-looking model: initialised, then every parameter perturbed.
    var model = CDFlow<Double>(configuration: tinyConfiguration(mixer: .lu))
    var generator = SeededGenerator(seed: 41)
    model.initialize(from: randomPixels(Double.self, batch: 4, seed: 43), using: &generator)
    model.updateParameters { _, parameter in
      parameter = parameter + Tensor.randomNormal(shape: parameter.shape, standardDeviation: 0.05, using: &generator)
    }
    let x = model.dequantize(pixels: randomPixels(Double.self, batch: 1, seed: 47), using: &generator)
    let z = model.transform.forward(x).output.scalars
    // J[i, j] = ∂z_i/∂x_j by central differences.
    let step = 1e-6
    var jacobian = [Double](repeating: 0, count: 64 * 64)
    for j in 0..<64 {
      var plus = x.scalars
      var minus = x.scalars
      plus[j] += step
      minus[j] -= step
      let up = model.transform.forward(Tensor(shape: x.shape, scalars: plus)).output.scalars
      let down = model.transform.forward(Tensor(shape: x.shape, scalars: minus)).output.scalars
      for i in 0..<64 { jacobian[i * 64 + j] = (up[i] - down[i]) / (2 * step) }
    }
    let logDeterminant = slogdet(Tensor(shape: [64, 64], scalars: jacobian)).logAbsDeterminant.scalar
    let logNormal = -0.5 * z.reduce(0) { $0 + $1 * $1 } - 32 * Double.log(2 * Double.pi)
    let expected = logNormal + logDeterminant
    XCTAssertGreaterThan(abs(logDeterminant), 1, "the perturbed model should not be volume-preserving")
    XCTAssertEqual(model.logProbability(x).scalar, expected, accuracy: 1e-6)
    XCTAssertEqual(model.negativeLogLikelihood(x).scalar, -expected, accuracy: 1e-6)
  }

  func testGlowConditionerStartsAtZeroAndComputesItsThreeConvolutions() {
    var generator = SeededGenerator(seed: 51)
    var conditioner = GlowConditioner<Double>(inputChannels: 2, hiddenChannels: 5, outputChannels: 4, using: &generator)
    XCTAssertEqual(
      conditioner.parameters.map(\.name),
      ["input.filter", "input.bias", "hidden.filter", "hidden.bias", "output.filter", "output.bias"])
    XCTAssertEqual(conditioner.input.filter.shape, [5, 2, 3, 3])
    XCTAssertEqual(conditioner.hidden.filter.shape, [5, 5, 1, 1])
    XCTAssertEqual(conditioner.output.filter.shape, [4, 5, 3, 3])
    let x = Tensor<Double>.randomNormal(shape: [2, 2, 4, 3], using: &generator)
    XCTAssertEqual(conditioner(x).scalars, [Double](repeating: 0, count: 2 * 4 * 4 * 3))
    conditioner.updateParameters { _, parameter in
      parameter = Tensor.randomNormal(shape: parameter.shape, using: &generator)
    }
    // The same network written out with FlowTensor's conv2d and relu.
    let hidden = relu(conv2d(x, filter: conditioner.input.filter, bias: conditioner.input.bias, padding: (1, 1)))
    let mixed = relu(conv2d(hidden, filter: conditioner.hidden.filter, bias: conditioner.hidden.bias))
    let expected = conv2d(mixed, filter: conditioner.output.filter, bias: conditioner.output.bias, padding: (1, 1))
    XCTAssertEqual(expected.shape, [2, 4, 4, 3])
    assertClose(conditioner(x), expected, absolute: 1e-12, relative: 1e-12)
  }

  func testConfigurationJSONRoundTrip() throws {
    let configurations = [
      tinyConfiguration(),
      CDFlowConfiguration(
        channels: 3, height: 32, width: 32, levels: 3, stepsPerLevel: 32, hiddenChannels: 512,
        mixer: .circulantDiagonal(factors: 4), couplingScale: .softClamp(bound: 2.5), learnedSplitPrior: false,
        seed: UInt64.max - 1),
      CDFlowConfiguration(mixer: .lu), CDFlowConfiguration(mixer: .dense), CDFlowConfiguration(mixer: .reverse),
      CDFlowConfiguration(splitPriorLogStandardDeviationBound: nil), CDFlowConfiguration(splitPriorLogStandardDeviationBound: 0.75),
    ]
    for configuration in configurations {
      let json = configuration.jsonString
      XCTAssertEqual(try CDFlowConfiguration(jsonString: json), configuration, json)
    }
    XCTAssertEqual(
      CDFlowConfiguration(seed: 3).jsonString,
      #"{"channels":1,"couplingScale":"sigmoid","height":28,"hiddenChannels":64,"learnedSplitPrior":true,"#
        + #""levels":2,"mixer":"cd:2","seed":3,"splitPriorLogStandardDeviationBound":2,"stepsPerLevel":8,"width":28}"#)
    // Unbounded (as checkpoints before the bound): the key is absent.
    XCTAssertFalse(
      CDFlowConfiguration(splitPriorLogStandardDeviationBound: nil).jsonString.contains("splitPriorLogStandardDeviationBound"))
    XCTAssertEqual(
      CDFlowConfiguration(splitPriorLogStandardDeviationBound: 0).problem,
      "the split prior's log σ bound 0.0 must be positive and finite")
    XCTAssertEqual(CDFlowMixer("cd"), .circulantDiagonal(factors: 2))
    XCTAssertNil(CDFlowMixer("cd:0"))
    XCTAssertNil(CDFlowMixer("butterfly"))
    XCTAssertNil(CDFlowCouplingScale("softClamp:-1"))
    let badMixer = CDFlowConfiguration(seed: 3).jsonString.replacingOccurrences(of: "cd:2", with: "circulant")
    XCTAssertThrowsError(try CDFlowConfiguration(jsonString: badMixer))
    let badShape = CDFlowConfiguration(levels: 3).jsonString
    XCTAssertThrowsError(try CDFlowConfiguration(jsonString: badShape)) { error in
      XCTAssertEqual(
        error as? CDFlowConfigurationError,
        .invalid(problem: "height 28 and width 28 must be divisible by 2^levels = 8 for 3 squeezes"))
    }
  }

  func testSamplingShapeAndSeededDeterminism() {
    check(Double.self)
    check(Float.self)

    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var model = CDFlow<Scalar>(configuration: tinyConfiguration())
      var initGenerator = SeededGenerator(seed: 2)
      model.initialize(from: randomPixels(Scalar.self, batch: 4, seed: 13), using: &initGenerator)
      var first = SeededGenerator(seed: 17)
      var second = SeededGenerator(seed: 17)
      let a = model.sample(count: 5, temperature: 0.7, using: &first)
      let b = model.sample(count: 5, temperature: 0.7, using: &second)
      XCTAssertEqual(a.shape, [5, 1, 8, 8])
      XCTAssertEqual(a.scalars, b.scalars)
      XCTAssertTrue(a.scalars.allSatisfy { $0.isFinite })
      let c = model.sample(count: 5, temperature: 0.7, using: &first)
      XCTAssertNotEqual(a.scalars, c.scalars)
      // Temperature 0 gives the image of z = 0, the same for every sample.
      let cold = model.sample(count: 2, temperature: 0, using: &first).scalars
      XCTAssertEqual(Array(cold[0..<64]), Array(cold[64..<128]))
      let pixels = model.pixels(from: a)
      XCTAssertTrue(pixels.scalars.allSatisfy { $0 >= 0 && $0 <= 255 && $0.rounded(.down) == $0 })
      // Sampling inverts the transform.
      let (z, _) = model.transform.forward(a)
      let (back, _) = model.transform.inverse(z)
      assertClose(back, a, absolute: Scalar(1e-4), relative: Scalar(1e-4))
    }
  }

  func testGradientsAreFiniteAndAdamLowersTheNegativeLogLikelihood() {
    for mixer in Self.mixers {
      var model = CDFlow<Float>(configuration: tinyConfiguration(mixer: mixer))
      let pixels = randomPixels(Float.self, batch: 8, seed: 31)
      var initGenerator = SeededGenerator(seed: 6)
      model.initialize(from: pixels, using: &initGenerator)
      var noise = SeededGenerator(seed: 8)
      let x = model.dequantize(pixels: pixels, using: &noise)
      var optimizer = Adam<Float>(learningRate: 1e-2)
      var losses: [Float] = []
      for step in 0..<6 {
        let (loss, gradients) = valueWithGradient(at: model) { $0.negativeLogLikelihood(x) }
        losses.append(loss.scalar)
        if step == 0 {
          XCTAssertEqual(Set(gradients.keys), Set(model.parameters.map(\.name)), "mixer \(mixer)")
          for (name, gradient) in gradients {
            XCTAssertTrue(gradient.scalars.allSatisfy { $0.isFinite }, "mixer \(mixer): \(name)")
          }
        }
        optimizer.update(&model, along: gradients)
      }
      XCTAssertTrue(losses.allSatisfy { $0.isFinite }, "mixer \(mixer): \(losses)")
      XCTAssertLessThan(losses.last!, losses.first! - 0.5, "mixer \(mixer): \(losses)")
    }
  }
}
