import ArgumentParser
import Foundation
import NormalizingFlows

/// A rectangular-flow training run as `flows train rectangular` starts it:
/// draw or load the data, build or resume the trainer, show progress, then
/// report the test figures (and, on a manifold, the density comparison and
/// its PNG).
struct RectangularTrainingRun {
  typealias Model = RectangularFlowModel<Float>

  /// The command's name in error messages.
  var commandName: String
  /// `nil` when resuming: the checkpoint's data then.
  var source: RectangularDataSource?
  /// The architecture and objective; ignored when resuming.
  var latentSize: Int
  var couplings: Int
  var hiddenSizes: [Int]
  var priorCouplings: Int
  var priorHiddenSizes: [Int]
  var objective: RectangularFlowObjective
  var training: TrainingConfiguration
  /// Ignored when resuming (the checkpoint's counts).
  var trainCount: Int
  var testCount: Int
  var checkpoint: URL
  var curve: URL
  var resume: Bool
  /// Whether `training.stop` replaces a resumed run's stored stop (given on the command line).
  var overridesStop: Bool
  var json: Bool

  /// `out/rectangular.safetensors` → `out/rectangular-density.png`.
  static func densityPlot(beside checkpoint: URL) -> URL {
    let name = checkpoint.deletingPathExtension().lastPathComponent
    return checkpoint.deletingLastPathComponent().appendingPathComponent("\(name)-density.png")
  }

  /// Runs; on a data, checkpoint, divergence or evaluation error prints it and exits with status 1.
  @discardableResult
  func run() throws -> TrainingSummary {
    do {
      return try runThrowing()
    } catch let error as DatasetError {
      throw reportFailure(command: commandName, message: "\(error)")
    } catch let error as TrainingError {
      throw reportFailure(command: commandName, message: "\(error)")
    } catch let error as LinearAlgebraError {
      throw reportFailure(command: commandName, message: "the exact log-determinant failed: \(error)")
    }
  }

  private func runThrowing() throws -> TrainingSummary {
    var source = self.source ?? .manifold(.circle)
    var trainCount = self.trainCount
    var testCount = self.testCount
    var dataSeed = training.seed
    var stored: TrainingCheckpoint?
    if resume {
      let file = try TrainingCheckpoint(contentsOf: checkpoint)
      guard file.modelName == Model.modelName else {
        throw TrainingError.modelMismatch(path: checkpoint.path, expected: Model.modelName, found: file.modelName)
      }
      if self.source == nil, let text = file.metadata["dataset"] { source = RectangularDataSource(text) }
      if let text = file.metadata["train_count"], let value = Int(text) { trainCount = value }
      if let text = file.metadata["test_count"], let value = Int(text) { testCount = value }
      if let text = file.metadata["data_seed"], let value = UInt64(text) { dataSeed = value }
      stored = file
    }
    let data = try source.load(trainCount: trainCount, testCount: testCount, seed: dataSeed)

    var trainer: Trainer<Model>
    if stored != nil {
      let adjusted = training
      trainer = try Trainer(resumingFrom: checkpoint, trainingSet: data.training, heldOutSet: data.test) { stored in
        if overridesStop { stored.stop = adjusted.stop }
        stored.evaluateEvery = adjusted.evaluateEvery
        stored.checkpointEvery = adjusted.checkpointEvery
        stored.logInterval = adjusted.logInterval
      }
    } else {
      let ambientSize = data.training.ambientSize
      guard latentSize <= ambientSize else {
        _ = reportFailure(command: commandName, message: "--latent-dim \(latentSize) exceeds the data's dimension \(ambientSize)")
        throw ExitCode.validationFailure
      }
      let configuration = RectangularFlowConfiguration(
        ambientSize: ambientSize, latentSize: latentSize, couplingLayers: couplings, hiddenSizes: hiddenSizes,
        priorCouplingLayers: priorCouplings, priorHiddenSizes: priorHiddenSizes, seed: training.seed)
      trainer = try Trainer(
        model: Model(configuration: configuration, objective: objective), configuration: training,
        trainingSet: data.training, heldOutSet: data.test)
    }
    trainer.extraMetadata["dataset"] = source.specification
    trainer.extraMetadata["train_count"] = String(data.training.count)
    trainer.extraMetadata["test_count"] = String(data.test.count)
    trainer.extraMetadata["data_seed"] = String(dataSeed)
    trainer.curveURL = curve
    try createDirectories(of: [checkpoint, curve], commandName: commandName)

    let model = trainer.model
    if !json {
      print(
        "rectangular: d = \(model.configuration.latentSize) in D = \(model.configuration.ambientSize), "
          + "\(model.configuration.couplingLayers) couplings \(model.configuration.hiddenSizes), estimator "
          + "\(model.objective.estimator), β = \(model.objective.reconstructionWeight), \(model.parameterCount) "
          + "parameters; \(source.specification): \(data.training.count) training, \(data.test.count) test items")
      fflush(stdout)
    }
    let summary = try trainer.runShowingProgress(checkpoint: checkpoint)

    let evaluation = try trainer.model.evaluation(on: data.test, following: trainer.configuration)
    var fields: [(key: String, value: JSONValue)] = [
      ("dataset", .string(source.specification)),
      ("estimator", .string(trainer.model.objective.estimator.description)),
      ("latent_dim", .number(Double(trainer.model.configuration.latentSize))),
      ("ambient_dim", .number(Double(trainer.model.configuration.ambientSize))),
      ("beta", .number(trainer.model.objective.reconstructionWeight)),
      ("batch_size", .number(Double(trainer.configuration.batchSize))),
      ("test_reconstruction_error", .number(evaluation.reconstructionError)),
    ]
    var text = [RectangularTrainingRun.describe(summary)]
    text.append("test reconstruction error " + String(format: "%.3e", evaluation.reconstructionError))
    if case .manifold(let manifold) = source {
      let comparison = try trainer.model.compareDensity(with: manifold)
      let figure = try trainer.model.densityFigure(of: manifold)
      let plot = Self.densityPlot(beside: checkpoint)
      do {
        try DensityPlot.image(of: [[figure]]).write(to: plot)
      } catch {
        throw reportFailure(command: commandName, message: "cannot write \(plot.path): \(error.localizedDescription)")
      }
      fields += [
        ("kl", .number(comparison.klDivergence)),
        ("tv", .number(comparison.totalVariation)),
        ("tv_unnormalized", .number(comparison.unnormalizedTotalVariation)),
        ("learned_mass", .number(comparison.learnedMass)),
        ("density_plot", .string(plot.path)),
      ]
      text.append(
        "against the true density: KL " + String(format: "%.4f", comparison.klDivergence) + ", TV "
          + String(format: "%.4f", comparison.totalVariation) + ", learned mass "
          + String(format: "%.4f", comparison.learnedMass) + "; plot \(plot.path)")
    }
    fields.append(("curve", .string(curve.path)))
    if json {
      print(JSONValue.object(summary.jsonFields + fields))
    } else {
      text.append("checkpoint \(checkpoint.path), curve \(curve.path)")
      print(text.joined(separator: "\n"))
    }
    return summary
  }

  /// "4000 steps in 95.2 s: train 1.2345 nats (…), test 1.3010 nats on 1000 items".
  static func describe(_ summary: TrainingSummary) -> String {
    var text = "\(summary.steps) steps in " + String(format: "%.1f", summary.seconds) + " s: train loss "
      + String(format: "%.4f", summary.trainMetric) + " (mean of the last "
      + "\(min(summary.steps, TrainingState.recentWindow)) steps)"
    if let test = summary.testMetric, let count = summary.testCount {
      text += ", test −log p " + String(format: "%.4f", test) + " \(summary.metricName) on \(count) items"
    }
    return text
  }
}
