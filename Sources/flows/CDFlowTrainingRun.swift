import ArgumentParser
import Foundation
import NormalizingFlows

/// A CDFlow training run as `flows train cdflow` and `flows demo` start it:
/// load the data, build or resume the trainer, show progress on standard
/// error, and print the final figures (text, or one JSON object).
struct CDFlowTrainingRun {
  /// The command's name in error messages, e.g. "flows train cdflow".
  var commandName: String
  /// `nil` when resuming: the checkpoint's dataset then.
  var dataset: DatasetSource?
  /// The architecture; its image shape is taken from the data. Ignored when resuming.
  var model: CDFlowConfiguration
  var training: TrainingConfiguration
  /// Train on the first this many training images only.
  var trainCount: Int?
  var checkpoint: URL
  var curve: URL
  var resume: Bool
  var json: Bool
  /// The channel-aware learning-rate scale of the circulant-diagonal
  /// mixers (``CDFlow/circulantDiagonalLearningRateGroups(scale:)``); `nil`
  /// for none. Ignored when resuming: the checkpoint's configuration keeps its groups.
  var circulantDiagonalLearningRateScale: Double? = nil

  /// Runs; on a data, checkpoint or divergence error prints it and exits with status 1.
  @discardableResult
  func run() throws -> (summary: TrainingSummary, model: CDFlow<Float>) {
    do {
      return try runThrowing()
    } catch let error as DatasetError {
      throw reportFailure(command: commandName, message: "\(error)")
    } catch let error as TrainingError {
      throw reportFailure(command: commandName, message: "\(error)")
    } catch let error as CDFlowConfigurationError {
      throw reportFailure(command: commandName, message: "\(error)")
    }
  }

  private func runThrowing() throws -> (summary: TrainingSummary, model: CDFlow<Float>) {
    var source = dataset ?? .fashionMNIST
    var count = trainCount
    var stored: TrainingCheckpoint?
    if resume {
      let checkpointFile = try TrainingCheckpoint(contentsOf: checkpoint)
      guard checkpointFile.modelName == CDFlow<Float>.modelName else {
        throw TrainingError.modelMismatch(
          path: checkpoint.path, expected: CDFlow<Float>.modelName, found: checkpointFile.modelName)
      }
      if dataset == nil, let text = checkpointFile.metadata["dataset"] { source = DatasetSource(text) }
      if count == nil, let text = checkpointFile.metadata["train_count"] { count = Int(text) }
      stored = checkpointFile
    }
    var trainingSet = try source.load(.train)
    let testSet = try source.load(.test)
    if let count {
      guard count >= 1 else { throw usageFailure("--train-count \(count) must be at least 1") }
      trainingSet = trainingSet.prefix(count)
    }

    var modelConfiguration = model
    if let stored {
      modelConfiguration = try CDFlowConfiguration(jsonString: stored.modelConfigurationJSON)
    } else {
      modelConfiguration.channels = trainingSet.shape[1]
      modelConfiguration.height = trainingSet.shape[2]
      modelConfiguration.width = trainingSet.shape[3]
      if let problem = modelConfiguration.problem { throw usageFailure("for these images, \(problem)") }
    }
    if let problem = training.problem { throw usageFailure(problem) }

    try createDirectories(of: [checkpoint, curve], commandName: commandName)

    var trainer: Trainer<CDFlow<Float>>
    if resume {
      let adjusted = training
      trainer = try Trainer(resumingFrom: checkpoint, trainingSet: trainingSet, heldOutSet: testSet) { stored in
        stored.stop = adjusted.stop
        stored.evaluateEvery = adjusted.evaluateEvery
        stored.evaluationCount = adjusted.evaluationCount
        stored.finalEvaluationCount = adjusted.finalEvaluationCount
        stored.checkpointEvery = adjusted.checkpointEvery
        stored.logInterval = adjusted.logInterval
      }
    } else {
      let model = CDFlow<Float>(configuration: modelConfiguration)
      var configuration = training
      if let scale = circulantDiagonalLearningRateScale {
        configuration.learningRateGroups = model.circulantDiagonalLearningRateGroups(scale: scale)
      }
      trainer = try Trainer(
        model: model, configuration: configuration, trainingSet: trainingSet, heldOutSet: testSet)
    }
    trainer.extraMetadata["dataset"] = source.specification
    if let count { trainer.extraMetadata["train_count"] = String(count) }
    trainer.curveURL = curve

    if !json {
      print(
        "cdflow: \(modelConfiguration.levels) levels × \(modelConfiguration.stepsPerLevel) steps, hidden "
          + "\(modelConfiguration.hiddenChannels), mixer \(Self.describeMixer(modelConfiguration, trainer.configuration)), "
          + "\(trainer.model.parameterCount) parameters; \(source.specification): \(trainingSet.count) training, "
          + "\(testSet.count) test images")
      // Before the progress on standard error, also when standard output is a pipe.
      fflush(stdout)
    }
    let summary = try trainer.runShowingProgress(checkpoint: checkpoint)

    if json {
      let extra: [(key: String, value: JSONValue)] = [
        ("dataset", .string(source.specification)),
        ("mixer", .string(modelConfiguration.mixer.description)),
        ("mixer_options", .string(Self.describeMixer(modelConfiguration, trainer.configuration))),
        ("levels", .number(Double(modelConfiguration.levels))),
        ("steps_per_level", .number(Double(modelConfiguration.stepsPerLevel))),
        ("hidden", .number(Double(modelConfiguration.hiddenChannels))),
        ("batch_size", .number(Double(trainer.configuration.batchSize))),
        ("curve", .string(curve.path)),
      ]
      print(JSONValue.object(summary.jsonFields + extra))
    } else {
      print(Self.describe(summary))
      print("checkpoint \(checkpoint.path), curve \(curve.path)")
    }
    return (summary, trainer.model)
  }

  /// "cd:2", or with the circulant-diagonal options that differ from the
  /// defaults "cd:2 (init identity, spectral normalisation, learning-rate groups ×0.5…0.354)".
  static func describeMixer(_ model: CDFlowConfiguration, _ training: TrainingConfiguration) -> String {
    var options: [String] = []
    if model.circulantDiagonalInitialization != .random { options.append("init \(model.circulantDiagonalInitialization)") }
    if model.circulantDiagonalNormalization != .none { options.append("\(model.circulantDiagonalNormalization) normalisation") }
    if let groups = training.learningRateGroups, !groups.isEmpty {
      let multipliers = groups.map(\.multiplier)
      options.append(
        "learning-rate groups ×" + String(format: "%.3g", multipliers.max()!) + "…" + String(format: "%.3g", multipliers.min()!))
    }
    return options.isEmpty ? model.mixer.description : "\(model.mixer) (\(options.joined(separator: ", ")))"
  }

  /// An option that does not fit the data, found after loading it: the
  /// message and the exit status of a usage error.
  private func usageFailure(_ message: String) -> ExitCode {
    _ = reportFailure(command: commandName, message: message)
    return ExitCode.validationFailure
  }

  /// "1000 steps in 95.2 s: train 4.1234 bits/dim (…), test 4.2010 bits/dim on 10000 images".
  static func describe(_ summary: TrainingSummary) -> String {
    var text = "\(summary.steps) steps in " + String(format: "%.1f", summary.seconds) + " s: train "
      + String(format: "%.4f", summary.trainMetric) + " \(summary.metricName) (mean of the last "
      + "\(min(summary.steps, TrainingState.recentWindow)) steps)"
    if let test = summary.testMetric, let count = summary.testCount {
      text += ", test " + String(format: "%.4f", test) + " \(summary.metricName) on \(count) images"
    }
    return text
  }
}

/// Prints `<command>: <message>` to standard error and returns the exit
/// status 1 to throw: data, file and divergence errors are the user's to
/// act on, not usage mistakes, so they get no usage text.
func reportFailure(command: String, message: String) -> ExitCode {
  FileHandle.standardError.write(Data("\(command): \(message)\n".utf8))
  return ExitCode.failure
}
