import ArgumentParser
import Foundation
import NormalizingFlows

/// `flows eval --checkpoint PATH`: the test figure of a saved model.
struct Eval: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Evaluate a checkpoint on the held-out split (test bits/dim).",
    discussion: """
      The evaluation is the one the training run made at its end: the same dequantisation noise (seeded by \
      the run's seed) and batches, so on the same images it repeats the figure the run reported.
      """)

  @Option(help: "A checkpoint written by flows train.")
  var checkpoint: String

  @Option(help: "The data (default: the dataset the checkpoint was trained on).")
  var dataset: String?

  @Option(help: "Evaluate on the first this many test images (default all).")
  var count: Int?

  @Option(help: "Seed of the dequantisation noise's stream (default: the training run's seed).")
  var seed: UInt64?

  @Flag(help: "Print one JSON object.")
  var json = false

  func validate() throws {
    if let count, count < 1 { throw ValidationError("--count \(count) must be at least 1") }
  }

  func run() throws {
    let command = "flows eval"
    do {
      let stored = try TrainingCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint))
      let source = DatasetSource(dataset ?? stored.metadata["dataset"] ?? "fashion-mnist")
      switch stored.modelName {
      case CDFlow<Float>.modelName:
        let model = try stored.model(CDFlow<Float>.self)
        let testSet = try source.load(.test)
        let clock = ContinuousClock()
        let start = clock.now
        let items = count.map { testSet.prefix($0) } ?? testSet
        var configuration = stored.configuration
        if let seed { configuration.seed = seed }
        let value = model.evaluate(on: items, following: configuration)
        let elapsed = (clock.now - start).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        report(stored: stored, model: CDFlow<Float>.self, value: value, count: items.count, dataset: source, seconds: seconds)
      case RectangularFlowModel<Float>.modelName:
        try evaluateRectangular(stored)
      default:
        throw reportFailure(command: command, message: "\(checkpoint): no evaluation for model '\(stored.modelName)'")
      }
    } catch let error as TrainingError {
      throw reportFailure(command: command, message: "\(error)")
    } catch let error as DatasetError {
      throw reportFailure(command: command, message: "\(error)")
    }
  }

  private func report<Model: TrainableModel>(
    stored: TrainingCheckpoint, model: Model.Type, value: Double, count: Int, dataset: DatasetSource, seconds: Double
  ) {
    if json {
      print(JSONValue.object([
        ("model", .string(Model.modelName)),
        ("checkpoint", .string(checkpoint)),
        ("dataset", .string(dataset.specification)),
        ("steps", .number(Double(stored.state.step))),
        ("seconds", .number(seconds)),
        ("train_\(Model.metricKey)", stored.state.recentMeanLoss.map(JSONValue.number) ?? .null),
        ("test_\(Model.metricKey)", .number(value)),
        ("test_count", .number(Double(count))),
      ]))
    } else {
      print(
        "\(checkpoint): \(Model.modelName) after \(stored.state.step) steps: test "
          + String(format: "%.4f", value) + " \(Model.metricName) on \(count) images of \(dataset.specification)")
    }
  }
}
