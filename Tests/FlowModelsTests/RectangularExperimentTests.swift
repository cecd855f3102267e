import FlowLayers
import FlowModels
import FlowTensor
import XCTest
import _TestSupport

final class RectangularExperimentTests: XCTestCase {
  private func tinySettings(
    _ dataset: ManifoldDataset, _ estimator: RectangularFlowEstimator, steps: Int, seed: UInt64 = 5
  ) -> RectangularExperimentSettings {
    let distribution = dataset.distribution
    return RectangularExperimentSettings(
      dataset: dataset, estimator: estimator, steps: steps, seed: seed,
      configuration: RectangularFlowConfiguration(
        ambientSize: distribution.ambientSize, latentSize: distribution.latentSize, couplingLayers: 2,
        hiddenSizes: [8], priorCouplingLayers: 1, priorHiddenSizes: [4], seed: seed),
      batchSize: 16, trainingSize: 64, testSize: 16, quadratureResolution: 16, chartResolution: 8)
  }

  /// Every estimator runs on both manifolds, reports one loss per step (and
  /// CG iterations for the stochastic one, at most d each), finite figures,
  /// and the same numbers again from the same seed.
  func testEveryEstimatorRunsAndIsReproducible() throws {
    let estimators: [RectangularFlowEstimator] = [
      .exact, .stochastic(HutchinsonSettings(probes: 2, distribution: .rademacher)), .twoStep,
    ]
    for dataset in ManifoldDataset.allCases {
      for estimator in estimators {
        let result = try runRectangularExperiment(tinySettings(dataset, estimator, steps: 3), as: Double.self)
        let context = "\(dataset) \(estimator)"
        XCTAssertEqual(result.losses.count, 3, context)
        XCTAssertTrue(result.losses.allSatisfy(\.isFinite), context)
        if case .stochastic = estimator {
          XCTAssertEqual(result.conjugateGradientIterations.count, 3, context)
          XCTAssertTrue(
            result.conjugateGradientIterations.allSatisfy { $0 >= 1 && $0 <= dataset.distribution.latentSize }, context)
        } else {
          XCTAssertEqual(result.conjugateGradientIterations, [], context)
        }
        for value in [
          result.comparison.klDivergence, result.comparison.totalVariation, result.comparison.learnedMass,
          result.test.negativeLogLikelihood, result.test.reconstructionError,
        ] {
          XCTAssertTrue(value.isFinite, context)
        }
        XCTAssertGreaterThanOrEqual(result.comparison.totalVariation, 0)
        XCTAssertLessThanOrEqual(result.comparison.totalVariation, 1)
        let again = try runRectangularExperiment(tinySettings(dataset, estimator, steps: 3), as: Double.self)
        XCTAssertEqual(again.losses, result.losses, context)
        XCTAssertEqual(again.comparison, result.comparison, context)
      }
    }
  }

  /// Forty exact steps in Float on the circle lower the loss.
  func testExactTrainingLowersTheLoss() throws {
    let result = try runRectangularExperiment(tinySettings(.circle, .exact, steps: 40), as: Float.self)
    let first = result.losses.prefix(5).reduce(0, +) / 5
    let last = result.losses.suffix(5).reduce(0, +) / 5
    XCTAssertLessThan(last, first, "\(result.losses)")
  }

  /// The figure holds the true and learned densities on the data set's
  /// chart; the learned one is the model's log p at the chart's points.
  func testFigureHoldsTheDensitiesOnTheChart() throws {
    for dataset in ManifoldDataset.allCases {
      let settings = tinySettings(dataset, .exact, steps: 2)
      let result = try runRectangularExperiment(settings, as: Double.self)
      let chart = dataset.distribution.chart(resolution: 8)
      XCTAssertEqual(result.figure.chart, chart)
      XCTAssertEqual(result.figure.trueLogDensity, chart.points.map { dataset.distribution.logDensity(at: $0) })
      XCTAssertEqual(result.figure.learnedLogDensity.count, chart.points.count)
      XCTAssertTrue(result.figure.learnedLogDensity.allSatisfy(\.isFinite))
      XCTAssertEqual(result.settings, settings)
      XCTAssertEqual(result.training.skippedSteps, 0)
      XCTAssertEqual(result.training.reconstructionErrors.count, 2)
      XCTAssertGreaterThanOrEqual(result.training.seconds, 0)
    }
  }

  /// Settings and results survive a JSON round trip, every estimator included.
  func testSettingsAndResultsAreCodable() throws {
    let estimators: [RectangularFlowEstimator] = [
      .exact, .stochastic(HutchinsonSettings(probes: 3, distribution: .rademacher, tolerance: 1e-5, maximumIterations: 2)),
      .twoStep,
    ]
    for estimator in estimators {
      var settings = tinySettings(.sphere, estimator, steps: 1)
      settings.objective.warmup = LikelihoodWarmup(start: 1, end: 4)
      settings.optimization = RectangularOptimization(
        steps: 1, learningRate: 2e-3, finalLearningRate: 1e-4, maximumGradientNorm: 10)
      let decoded = try JSONDecoder().decode(RectangularExperimentSettings.self, from: JSONEncoder().encode(settings))
      XCTAssertEqual(decoded, settings)
      let result = try runRectangularExperiment(settings, as: Float.self)
      XCTAssertEqual(try JSONDecoder().decode(RectangularExperimentResult.self, from: JSONEncoder().encode(result)), result)
    }
    var configuration = tinySettings(.circle, .exact, steps: 1).configuration
    configuration.activation = .silu
    XCTAssertEqual(
      try JSONDecoder().decode(RectangularFlowConfiguration.self, from: JSONEncoder().encode(configuration)), configuration)
    let unknown = Data(
      #"{"ambientSize":2,"latentSize":1,"couplingLayers":1,"hiddenSizes":[4],"priorCouplingLayers":1,"priorHiddenSizes":[4],"activation":"sine","seed":0}"#
        .utf8)
    XCTAssertThrowsError(try JSONDecoder().decode(RectangularFlowConfiguration.self, from: unknown))
  }

  /// Decoding checks what the initialisers check: impossible values throw.
  func testDecodingRejectsImpossibleValues() throws {
    func decodes<T: Decodable>(_ type: T.Type, _ json: String) -> Bool {
      (try? JSONDecoder().decode(type, from: Data(json.utf8))) != nil
    }
    XCTAssertTrue(decodes(HutchinsonSettings.self, #"{"probes":2,"distribution":"rademacher","tolerance":0.01}"#))
    XCTAssertFalse(decodes(HutchinsonSettings.self, #"{"probes":0,"distribution":"rademacher","tolerance":0.01}"#))
    XCTAssertFalse(decodes(HutchinsonSettings.self, #"{"probes":1,"distribution":"gaussian","tolerance":-1}"#))
    XCTAssertFalse(
      decodes(HutchinsonSettings.self, #"{"probes":1,"distribution":"gaussian","tolerance":0,"maximumIterations":0}"#))
    XCTAssertFalse(decodes(HutchinsonSettings.self, #"{"probes":1,"distribution":"uniform","tolerance":0}"#))
    XCTAssertTrue(decodes(LikelihoodWarmup.self, #"{"start":3,"end":3}"#))
    XCTAssertFalse(decodes(LikelihoodWarmup.self, #"{"start":4,"end":3}"#))
    XCTAssertTrue(decodes(RectangularFlowObjective.self, #"{"estimator":{"twoStep":{}},"reconstructionWeight":0,"warmup":{"start":0,"end":0}}"#))
    XCTAssertFalse(decodes(RectangularFlowObjective.self, #"{"estimator":{"twoStep":{}},"reconstructionWeight":-1,"warmup":{"start":0,"end":0}}"#))
    XCTAssertTrue(decodes(RectangularOptimization.self, #"{"steps":10,"learningRate":0.01}"#))
    XCTAssertEqual(
      try JSONDecoder().decode(RectangularOptimization.self, from: Data(#"{"steps":10,"learningRate":0.01}"#.utf8)),
      RectangularOptimization(steps: 10, learningRate: 0.01))
    XCTAssertFalse(decodes(RectangularOptimization.self, #"{"steps":-1,"learningRate":0.01}"#))
    XCTAssertFalse(decodes(RectangularOptimization.self, #"{"steps":1,"learningRate":0}"#))
    XCTAssertFalse(decodes(RectangularOptimization.self, #"{"steps":1,"learningRate":0.01,"finalLearningRate":0.1}"#))
    XCTAssertFalse(decodes(RectangularOptimization.self, #"{"steps":1,"learningRate":0.01,"maximumGradientNorm":0}"#))
    let configuration = #"{"ambientSize":2,"latentSize":LATENT,"couplingLayers":1,"hiddenSizes":[4],"priorCouplingLayers":1,"priorHiddenSizes":[4],"activation":"relu","seed":0}"#
    XCTAssertTrue(decodes(RectangularFlowConfiguration.self, configuration.replacingOccurrences(of: "LATENT", with: "2")))
    XCTAssertFalse(decodes(RectangularFlowConfiguration.self, configuration.replacingOccurrences(of: "LATENT", with: "3")))
  }

  /// The cosine schedule starts at the learning rate, ends at the final one
  /// on the last step and passes the mean half way.
  func testOptimizationScheduleDecaysToTheFinalRate() {
    let schedule = RectangularOptimization(steps: 11, learningRate: 1e-2, finalLearningRate: 1e-4)
    XCTAssertEqual(schedule.learningRate(atStep: 0), 1e-2, accuracy: 1e-15)
    XCTAssertEqual(schedule.learningRate(atStep: 5), (1e-2 + 1e-4) / 2, accuracy: 1e-15)
    XCTAssertEqual(schedule.learningRate(atStep: 10), 1e-4, accuracy: 1e-15)
    let constant = RectangularOptimization(steps: 5, learningRate: 3e-3)
    XCTAssertEqual((0..<5).map { constant.learningRate(atStep: $0) }, [Double](repeating: 3e-3, count: 5))
  }

  /// The grid runs every estimator over every seed, estimator-major; a seed
  /// also seeds the model, so two seeds give different runs; the table has
  /// a row per run and a mean row per estimator.
  func testComparisonRunsTheGrid() throws {
    let grid = RectangularComparisonSettings(
      base: tinySettings(.circle, .exact, steps: 2), estimators: [.exact, .twoStep], seeds: [1, 2])
    var reported = 0
    let result = try runRectangularComparison(grid, as: Double.self) { _ in reported += 1 }
    XCTAssertEqual(reported, 4)
    XCTAssertEqual(result.runs.map(\.settings.objective.estimator), [.exact, .exact, .twoStep, .twoStep])
    XCTAssertEqual(result.runs.map(\.settings.seed), [1, 2, 1, 2])
    XCTAssertEqual(result.runs.map(\.settings.configuration.seed), [1, 2, 1, 2])
    XCTAssertNotEqual(result.runs[0].losses, result.runs[1].losses)
    XCTAssertEqual(result.runs(of: .twoStep).count, 2)
    let single = try runRectangularExperiment(grid.settings(estimator: .twoStep, seed: 2), as: Double.self)
    XCTAssertEqual(result.runs[3].losses, single.losses)
    XCTAssertEqual(result.runs[3].comparison, single.comparison)
    XCTAssertEqual(result.runs[3].figure, single.figure)
    let lines = result.markdownTable().split(separator: "\n")
    XCTAssertEqual(lines.count, 2 + 4 + 2)
    XCTAssertTrue(lines[2].hasPrefix("| circle | exact | 1 |"), String(lines[2]))
    XCTAssertTrue(lines[7].hasPrefix("| mean | two-step | 2 seeds |"), String(lines[7]))
    let image = DensityPlot.image(of: result)
    XCTAssertEqual(image, DensityPlot.curves([result.runs(of: .exact).map(\.figure), result.runs(of: .twoStep).map(\.figure)]))
  }
}
