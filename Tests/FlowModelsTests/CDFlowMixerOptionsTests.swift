import FlowLayers
import FlowModels
import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// The circulant-diagonal mixers' parameters are the only ones named `diagonals.…` or `circulants.…`.
private func isMixerParameter(_ name: String) -> Bool {
  name.contains(".diagonals.") || name.contains(".circulants.")
}

final class CDFlowMixerOptionsTests: XCTestCase {
  /// Image [1, 8, 8], L = 2, K = 2, hidden 8: mixers of 4 and 8 channels.
  private func optionsConfiguration(
    mixer: CDFlowMixer = .circulantDiagonal(factors: 2), initialization: CirculantDiagonalInitialization = .random,
    normalization: CirculantDiagonalNormalization = .none
  ) -> CDFlowConfiguration {
    CDFlowConfiguration(
      channels: 1, height: 8, width: 8, levels: 2, stepsPerLevel: 2, hiddenChannels: 8, mixer: mixer,
      circulantDiagonalInitialization: initialization, circulantDiagonalNormalization: normalization, seed: 7)
  }

  func testOptionsRoundTripAndDefaultsStayOutOfTheJSON() throws {
    for initialization in CirculantDiagonalInitialization.allCases {
      for normalization in CirculantDiagonalNormalization.allCases {
        let configuration = optionsConfiguration(initialization: initialization, normalization: normalization)
        let json = configuration.jsonString
        XCTAssertEqual(try CDFlowConfiguration(jsonString: json), configuration, json)
        XCTAssertEqual(json.contains("circulantDiagonalInitialization"), initialization != .random, json)
        XCTAssertEqual(json.contains("circulantDiagonalNormalization"), normalization != .none, json)
      }
    }
    XCTAssertTrue(
      optionsConfiguration(initialization: .identity, normalization: .spectral).jsonString.contains(
        #""circulantDiagonalInitialization":"identity","circulantDiagonalNormalization":"spectral""#))
    // A checkpoint's configuration from before the options: the defaults,
    // and an unbounded split prior, as such checkpoints were trained.
    let old =
      #"{"channels":1,"couplingScale":"sigmoid","height":28,"hiddenChannels":64,"learnedSplitPrior":true,"#
      + #""levels":2,"mixer":"cd:2","seed":3,"stepsPerLevel":8,"width":28}"#
    let decoded = try CDFlowConfiguration(jsonString: old)
    XCTAssertEqual(decoded.circulantDiagonalInitialization, .random)
    XCTAssertEqual(decoded.circulantDiagonalNormalization, .none)
    XCTAssertNil(decoded.splitPriorLogStandardDeviationBound)
    XCTAssertEqual(decoded, CDFlowConfiguration(splitPriorLogStandardDeviationBound: nil, seed: 3))
    XCTAssertNil(CDFlow<Float>(configuration: decoded).splitForTesting.logStandardDeviationBound)
    XCTAssertEqual(CDFlow<Float>(configuration: CDFlowConfiguration()).splitForTesting.logStandardDeviationBound, 2)
    let unknown = optionsConfiguration(normalization: .spectral).jsonString.replacingOccurrences(
      of: "spectral", with: "frobenius")
    XCTAssertThrowsError(try CDFlowConfiguration(jsonString: unknown))
  }

  /// Identity initialisation: every mixer parameter 0 (W = I); random: the
  /// phases are not. The models differ in the mixers alone.
  func testInitialisationReachesEveryMixer() {
    let identity = CDFlow<Double>(configuration: optionsConfiguration(initialization: .identity))
    let random = CDFlow<Double>(configuration: optionsConfiguration(initialization: .random))
    let mixerParameters = identity.parameters.filter { isMixerParameter($0.name) }
    XCTAssertEqual(mixerParameters.count, 4 * 4)
    for (name, value) in mixerParameters { XCTAssertTrue(value.scalars.allSatisfy { $0 == 0 }, name) }
    let randomPhases = random.parameters.filter { $0.name.hasSuffix(".phase") }
    XCTAssertEqual(randomPhases.count, 4)
    XCTAssertTrue(randomPhases.allSatisfy { $0.value.scalars.contains { $0 != 0 } })
    // Every other parameter is drawn as with the random initialisation.
    for ((name, a), (_, b)) in zip(identity.parameters, random.parameters) where !isMixerParameter(name) {
      XCTAssertEqual(a.scalars, b.scalars, name)
    }
  }

  /// With every option the transform is still a bijector (the conformance
  /// suite), and spectral normalisation changes the density once the
  /// mixers leave σ = 1, by the log-det shift the layer promises.
  func testSpectralNormalizationReachesEveryMixerAndStaysABijector() {
    var perturbed: [CDFlow<Double>] = []
    for normalization in CirculantDiagonalNormalization.allCases {
      var model = CDFlow<Double>(configuration: optionsConfiguration(initialization: .identity, normalization: normalization))
      var generator = SeededGenerator(seed: 3)
      model.updateParameters { name, parameter in
        if isMixerParameter(name) {
          parameter = Tensor.randomUniform(shape: parameter.shape, in: -0.3..<0.3, using: &generator)
        }
      }
      let input = Tensor<Double>.randomUniform(shape: [3, 1, 8, 8], in: -0.5..<0.5, using: &generator)
      let report = checkBijector(model.transform, input: input)
      XCTAssertTrue(report.passed, "\(normalization): \(report)")
      perturbed.append(model)
    }
    var generator = SeededGenerator(seed: 8)
    let x = Tensor<Double>.randomUniform(shape: [2, 1, 8, 8], in: -0.5..<0.5, using: &generator)
    let plain = perturbed[0].logProbability(x).scalars
    let normalized = perturbed[1].logProbability(x).scalars
    for (a, b) in zip(plain, normalized) { XCTAssertGreaterThan(abs(a - b), 1e-3) }
  }

  /// One group per circulant-diagonal mixer, at scale/√n: n = 4 on level
  /// 0 (one channel squeezed), 8 on level 1 (half of 4 squeezed again);
  /// the groups hold exactly the mixers' parameters; none for other mixers.
  func testChannelAwareGroupsScaleWithTheMixersChannels() {
    let model = CDFlow<Float>(configuration: optionsConfiguration())
    let groups = model.circulantDiagonalLearningRateGroups(scale: 2)
    XCTAssertEqual(groups.count, 4)
    XCTAssertEqual(groups.first?.path, "transform.layers.1.layers.1")  // level 0, step 0, layer 1
    XCTAssertEqual(groups.map(\.multiplier), [1, 1, 2 / 8.0.squareRoot(), 2 / 8.0.squareRoot()])
    for (name, _) in model.parameters {
      XCTAssertEqual(groups.contains { $0.contains(parameter: name) }, isMixerParameter(name), name)
    }
    XCTAssertEqual(CDFlow<Float>(configuration: optionsConfiguration(mixer: .lu)).circulantDiagonalLearningRateGroups(scale: 2), [])
  }
}

private extension CDFlow {
  /// The first level's split (level 0 is `[Squeeze, K steps, MultiScale, Unsqueeze]`).
  var splitForTesting: MultiScaleSplit<Scalar> {
    (transform.layers[configuration.stepsPerLevel + 1] as! MultiScale<Chain<Scalar>>).split
  }
}
