import FlowLayers
import FlowModels
import FlowTensor
import XCTest
import _TestSupport

/// The Fashion-MNIST rectangular flow (D = 784, d = 20) on a tiny subset.
final class RectangularImageExperimentTests: XCTestCase {
  private func settings(_ estimator: RectangularFlowEstimator, steps: Int) -> RectangularImageExperimentSettings {
    RectangularImageExperimentSettings(
      estimator: estimator, steps: steps, seed: 3,
      configuration: RectangularFlowConfiguration(
        ambientSize: 784, latentSize: 20, couplingLayers: 2, hiddenSizes: [16], priorCouplingLayers: 2,
        priorHiddenSizes: [8], seed: 3),
      batchSize: 4, learningRate: 1e-3, testSize: 4, sampleCount: 3)
  }

  private func subsets() throws -> (training: ImageDataset, test: ImageDataset) {
    let images = try ImageDataset.fashionMNIST(split: .test)
    return (images.subset(0..<8), images.subset(8..<12))
  }

  /// Every estimator trains at D = 784, d = 20: one finite loss per step,
  /// CG iterations between 1 and d for the stochastic one, finite test
  /// figures, samples of the images' size, and a grid of them.
  func testEveryEstimatorTrainsOnImages() throws {
    let (training, test) = try subsets()
    let estimators: [RectangularFlowEstimator] = [
      .exact, .stochastic(HutchinsonSettings(probes: 1, distribution: .rademacher)), .twoStep,
    ]
    for estimator in estimators {
      let result = try runRectangularImageExperiment(settings(estimator, steps: 2), training: training, test: test, as: Float.self)
      let context = "\(estimator)"
      XCTAssertEqual(result.training.losses.count, 2, context)
      XCTAssertEqual(result.training.skippedSteps, 0, context)
      XCTAssertTrue(result.training.losses.allSatisfy(\.isFinite), context)
      XCTAssertTrue(result.training.reconstructionErrors.allSatisfy(\.isFinite), context)
      if case .stochastic = estimator {
        XCTAssertEqual(result.training.conjugateGradientIterations.count, 2, context)
        XCTAssertTrue(result.training.conjugateGradientIterations.allSatisfy { (1...20).contains($0) }, context)
      } else {
        XCTAssertEqual(result.training.conjugateGradientIterations, [], context)
      }
      let evaluation = try XCTUnwrap(result.test, context)
      XCTAssertTrue(evaluation.negativeLogLikelihood.isFinite, context)
      XCTAssertTrue(evaluation.reconstructionError.isFinite, context)
      XCTAssertEqual([result.rows, result.columns], [28, 28], context)
      XCTAssertEqual(result.samples.count, 3 * 784, context)
      let grid = try XCTUnwrap(result.sampleGrid(columns: 3), context)
      XCTAssertEqual([grid.rows, grid.columns, grid.tileHeight, grid.tileWidth], [1, 3, 28, 28], context)
    }
  }

  /// A dozen exact steps lower the loss (mean of the last three below the
  /// mean of the first three): at initialisation g is the padding, so the
  /// reconstruction error of β·‖x − g(g†(x))‖² is large and falls first.
  func testExactTrainingLowersTheLoss() throws {
    let (training, test) = try subsets()
    let result = try runRectangularImageExperiment(settings(.exact, steps: 12), training: training, test: test, as: Float.self)
    let losses = result.training.losses
    XCTAssertEqual(losses.count, 12)
    XCTAssertLessThan(losses.suffix(3).reduce(0, +), losses.prefix(3).reduce(0, +), "\(losses)")
  }

  /// Settings and results survive a JSON round trip.
  func testSettingsAndResultAreCodable() throws {
    let (training, test) = try subsets()
    var original = settings(.stochastic(HutchinsonSettings(probes: 2, tolerance: 1e-4, maximumIterations: 5)), steps: 1)
    original.objective.warmup = LikelihoodWarmup(start: 2, end: 7)
    let decoded = try JSONDecoder().decode(
      RectangularImageExperimentSettings.self, from: JSONEncoder().encode(original))
    XCTAssertEqual(decoded, original)
    let result = try runRectangularImageExperiment(original, training: training, test: test, as: Float.self)
    let again = try JSONDecoder().decode(RectangularImageExperimentResult.self, from: JSONEncoder().encode(result))
    XCTAssertEqual(again, result)
  }

  /// The convenience entry point reads Fashion-MNIST itself and gives the
  /// same run as the explicit one on the same images.
  func testFashionMNISTEntryPointMatchesTheExplicitRun() throws {
    let run = settings(.exact, steps: 2)
    let loaded = try runFashionMNISTRectangularExperiment(run, trainingSize: 8, as: Float.self)
    let explicit = try runRectangularImageExperiment(
      run, training: ImageDataset.fashionMNIST(split: .train).subset(0..<8),
      test: ImageDataset.fashionMNIST(split: .test), as: Float.self)
    XCTAssertEqual(loaded.training.losses, explicit.training.losses)
    XCTAssertEqual(loaded.test, explicit.test)
    XCTAssertEqual(loaded.samples, explicit.samples)
  }
}
