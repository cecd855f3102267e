import ArgumentParser
import Foundation
import NormalizingFlows

/// A text-model training run as `flows train tarflowlm` and `flows train
/// charlm` start it: load (or make) the corpus, build or resume the
/// trainer on windows of it, show progress on standard error, and print
/// the final figures (text, or one JSON object with `test_bpc` and, on the
/// Markov corpus, `entropy_rate_bpc`).
struct TextTrainingRun<Model: TrainableModel> where Model.Dataset == CharacterWindows, Model.Scalar == Float {
  var commandName: String
  var options: TextTrainingOptions
  /// The model at its initial parameters (ignored when resuming).
  var makeModel: () throws -> Model
  /// The corpus of the checkpoint a grown model comes from, used when
  /// `--corpus` is not given.
  var startingCorpus: String? = nil
  /// Metadata stored in the run's checkpoints besides the corpus.
  var extraMetadata: [String: String] = [:]
  /// The model's context, from its configuration.
  var context: (Model) -> Int
  /// A one-line description of the architecture.
  var describe: (Model) -> String
  /// Fields added to the JSON object.
  var extraFields: (Model) -> [(key: String, value: JSONValue)]

  @discardableResult
  func run() throws -> (summary: TrainingSummary, model: Model) {
    do {
      return try runThrowing()
    } catch let error as CharacterCorpusError {
      throw reportFailure(command: commandName, message: "\(error)")
    } catch let error as TrainingError {
      throw reportFailure(command: commandName, message: "\(error)")
    } catch let error as TextModelConfigurationError {
      throw reportFailure(command: commandName, message: "\(error)")
    }
  }

  private func runThrowing() throws -> (summary: TrainingSummary, model: Model) {
    let checkpoint = URL(fileURLWithPath: options.checkpoint ?? "out/\(Model.modelName).safetensors")
    let curve = options.output.curveURL(beside: checkpoint)
    var source = options.corpusSource
    var model: Model?
    if options.output.resume {
      let stored = try TrainingCheckpoint(contentsOf: checkpoint)
      guard stored.modelName == Model.modelName else {
        throw TrainingError.modelMismatch(path: checkpoint.path, expected: Model.modelName, found: stored.modelName)
      }
      if options.corpus == nil, let text = stored.metadata["corpus"] { source = TextCorpusSource(text) }
    } else {
      model = try makeModel()
      if options.corpus == nil, let startingCorpus { source = TextCorpusSource(startingCorpus) }
    }
    let corpus = try source.load()
    let heldOut = options.resolvedHeldOut
    var trainer: Trainer<Model>
    if let model {
      let length = context(model)
      trainer = try Trainer(
        model: model, configuration: options.trainingConfiguration,
        trainingSet: CharacterWindows(symbols: corpus.training, length: length, stride: 1),
        heldOutSet: CharacterWindows(symbols: corpus[heldOut], length: length))
    } else {
      let stored = try TrainingCheckpoint(contentsOf: checkpoint)
      let length = context(try Model(configurationJSON: stored.modelConfigurationJSON))
      let adjusted = options.trainingConfiguration
      trainer = try Trainer(
        resumingFrom: checkpoint, trainingSet: CharacterWindows(symbols: corpus.training, length: length, stride: 1),
        heldOutSet: CharacterWindows(symbols: corpus[heldOut], length: length)
      ) { stored in
        stored.stop = adjusted.stop
        stored.evaluateEvery = adjusted.evaluateEvery
        stored.evaluationCount = adjusted.evaluationCount
        stored.finalEvaluationCount = adjusted.finalEvaluationCount
        stored.checkpointEvery = adjusted.checkpointEvery
      }
    }
    trainer.extraMetadata.merge(extraMetadata) { _, new in new }
    trainer.extraMetadata["corpus"] = source.specification
    trainer.curveURL = curve
    trainer.heldOutName = heldOut.rawValue
    try createDirectories(of: [checkpoint, curve], commandName: commandName)
    let entropyRate = source.markovSource.map(\.entropyRate)
    if !options.output.json {
      var line = "\(Model.modelName): \(describe(trainer.model)), \(trainer.model.parameterCount) parameters; "
        + "\(source.specification): \(corpus.training.count) training, \(corpus[heldOut].count) \(heldOut.rawValue) characters"
      if let entropyRate { line += "; entropy rate " + String(format: "%.4f", entropyRate) + " bits/char" }
      print(line)
      fflush(stdout)
    }
    let summary = try trainer.runShowingProgress(checkpoint: checkpoint)
    if options.output.json {
      var extra: [(key: String, value: JSONValue)] = [
        ("corpus", .string(source.specification)),
        ("context", .number(Double(context(trainer.model)))),
        ("batch_size", .number(Double(trainer.configuration.batchSize))),
      ]
      if let entropyRate { extra.append(("entropy_rate_bpc", .number(entropyRate))) }
      extra.append(("held_out", .string(heldOut.rawValue)))
      print(JSONValue.object(summary.jsonFields + extraFields(trainer.model) + extra + [("curve", .string(curve.path))]))
    } else {
      var text = "\(summary.steps) steps: train " + String(format: "%.4f", summary.trainMetric)
        + " bits/char (mean of the last \(min(summary.steps, TrainingState.recentWindow)) steps)"
      if let test = summary.testMetric, let count = summary.testCount {
        text += ", \(heldOut.rawValue) " + String(format: "%.4f", test) + " bits/char on \(count) windows"
      }
      if let entropyRate { text += " (entropy rate " + String(format: "%.4f", entropyRate) + ")" }
      print(text)
      print("checkpoint \(checkpoint.path), curve \(curve.path)")
    }
    return (summary, trainer.model)
  }
}
