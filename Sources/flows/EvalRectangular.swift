import ArgumentParser
import Foundation
import NormalizingFlows

extension Eval {
  /// `flows eval` of a `flows train rectangular` checkpoint: the test set
  /// drawn (manifolds) or read (images) as the run did, evaluated as the
  /// run's ``Trainer`` did, so the NLL repeats the run's `test_nll`.
  /// - Throws: `TrainingError`, `DatasetError`.
  func evaluateRectangular(_ stored: TrainingCheckpoint) throws {
    typealias Model = RectangularFlowModel<Float>
    let model = try stored.model(Model.self)
    let source = RectangularDataSource(dataset ?? stored.metadata["dataset"] ?? "circle")
    let storedTestCount = stored.metadata["test_count"].flatMap { Int($0) } ?? 1000
    let dataSeed = stored.metadata["data_seed"].flatMap { UInt64($0) } ?? stored.configuration.seed
    let clock = ContinuousClock()
    let start = clock.now
    // The manifold's test points follow its training points in the generator's stream: draw both.
    let storedTrainCount = stored.metadata["train_count"].flatMap { Int($0) } ?? 10_000
    let testSet = try source.load(trainCount: storedTrainCount, testCount: storedTestCount, seed: dataSeed).test
    let items = count.map { testSet.prefix($0) } ?? testSet
    var configuration = stored.configuration
    if let seed { configuration.seed = seed }
    let evaluation: RectangularFlowEvaluation
    do {
      evaluation = try model.evaluation(on: items, following: configuration)
    } catch {
      throw reportFailure(command: "flows eval", message: "the exact log-determinant failed: \(error)")
    }
    let seconds = (clock.now - start).seconds
    if json {
      print(JSONValue.object([
        ("model", .string(Model.modelName)),
        ("checkpoint", .string(checkpoint)),
        ("dataset", .string(source.specification)),
        ("steps", .number(Double(stored.state.step))),
        ("seconds", .number(seconds)),
        ("train_\(Model.metricKey)", stored.state.recentMeanLoss.map(JSONValue.number) ?? .null),
        ("test_\(Model.metricKey)", .number(evaluation.negativeLogLikelihood)),
        ("test_count", .number(Double(items.count))),
        ("test_reconstruction_error", .number(evaluation.reconstructionError)),
      ]))
    } else {
      print(
        "\(checkpoint): \(Model.modelName) after \(stored.state.step) steps: test −log p "
          + String(format: "%.4f", evaluation.negativeLogLikelihood) + " \(Model.metricName), reconstruction error "
          + String(format: "%.3e", evaluation.reconstructionError) + " on \(items.count) items of \(source.specification)")
    }
  }
}
