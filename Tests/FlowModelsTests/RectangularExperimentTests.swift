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
      batchSize: 16, trainingSize: 64, testSize: 16, quadratureResolution: 16)
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
}
