import FlowTensor
import Foundation

/// A training checkpoint: one safetensors file holding the model's
/// parameters (under their own names, so ``FlowTensor/Layer/loadParameters(from:)``
/// reads them), the optimizer's moments (under `optimizer.<parameter>.<entry>`),
/// and in the metadata the model's configuration, the ``TrainingConfiguration``
/// and the ``TrainingState`` (step, sampler position, generator state,
/// training curve) as JSON.
///
/// Metadata keys: `format`, `model`, `model_configuration`,
/// `training_configuration`, `training_state`, `step`, `train_<key>` and
/// `test_<key>` (readable summaries), plus any the caller adds (`flows`
/// adds `dataset`).
public struct TrainingCheckpoint: Sendable {
  /// The value of the `format` metadata entry.
  public static let format = "swift-normalizing-flows training checkpoint 1"
  /// The prefix of the optimizer's tensors.
  static let optimizerPrefix = "optimizer."

  /// The file read.
  public let path: String
  /// ``TrainableModel/modelName`` of the model saved.
  public let modelName: String
  /// ``TrainableModel/configurationJSON`` of the model saved.
  public let modelConfigurationJSON: String
  public let configuration: TrainingConfiguration
  public let state: TrainingState
  /// Every metadata entry, including the caller's.
  public let metadata: [String: String]
  let file: SafetensorsFile

  /// Reads the checkpoint at `url`.
  /// - Throws: ``TrainingError/unreadableCheckpoint(path:reason:)`` when the
  ///   file cannot be read, is not safetensors, or lacks the training metadata.
  public init(contentsOf url: URL) throws {
    path = url.path
    func unreadable(_ reason: String) -> TrainingError { .unreadableCheckpoint(path: url.path, reason: reason) }
    guard FileManager.default.fileExists(atPath: url.path) else { throw unreadable("no such file") }
    do {
      file = try SafetensorsFile(contentsOf: url)
    } catch {
      throw unreadable("\(error)")
    }
    metadata = file.metadata
    guard metadata["format"] == Self.format else {
      throw unreadable("not a training checkpoint (its metadata has no format '\(Self.format)')")
    }
    guard let model = metadata["model"], let modelConfiguration = metadata["model_configuration"],
      let training = metadata["training_configuration"], let state = metadata["training_state"]
    else {
      throw unreadable("the metadata lacks model, model_configuration, training_configuration or training_state")
    }
    modelName = model
    modelConfigurationJSON = modelConfiguration
    do {
      configuration = try JSONDecoder().decode(TrainingConfiguration.self, from: Data(training.utf8))
      self.state = try TrainingState(jsonString: state)
    } catch {
      throw unreadable("the training metadata does not decode: \(error)")
    }
  }

  /// The saved model, parameters loaded and marked prepared.
  /// - Throws: ``TrainingError/modelMismatch(path:expected:found:)`` for a
  ///   checkpoint of another model; ``TrainingError/unreadableCheckpoint(path:reason:)``
  ///   when the configuration or a parameter does not fit.
  public func model<Model: TrainableModel>(_ type: Model.Type = Model.self) throws -> Model {
    guard modelName == Model.modelName else {
      throw TrainingError.modelMismatch(path: path, expected: Model.modelName, found: modelName)
    }
    var model: Model
    do {
      model = try Model(configurationJSON: modelConfigurationJSON)
    } catch {
      throw TrainingError.unreadableCheckpoint(path: path, reason: "model configuration: \(error)")
    }
    do {
      var values: [String: Tensor<Model.Scalar>] = [:]
      for (name, _) in model.parameters where file.contains(name) {
        values[name] = try file.tensor(named: name, as: Model.Scalar.self)
      }
      try model.loadParameters(values)
    } catch {
      throw TrainingError.unreadableCheckpoint(path: path, reason: "\(error)")
    }
    model.isPrepared = state.isPrepared
    return model
  }

  /// The optimizer's saved tensors, by state key (`<parameter>.<entry>`).
  func optimizerState<Scalar: TensorScalar>(as type: Scalar.Type) throws -> [String: Tensor<Scalar>] {
    var state: [String: Tensor<Scalar>] = [:]
    do {
      for name in file.names where name.hasPrefix(Self.optimizerPrefix) {
        state[String(name.dropFirst(Self.optimizerPrefix.count))] = try file.tensor(named: name, as: Scalar.self)
      }
    } catch {
      throw TrainingError.unreadableCheckpoint(path: path, reason: "optimizer state: \(error)")
    }
    return state
  }

  /// The file's bytes for a model, its optimizer and the run's state.
  /// - Parameters:
  ///   - heldOutName: names the last evaluation's entry, `<name>_<metricKey>`.
  static func encode<Model: TrainableModel>(
    model: Model, optimizerState: [String: Tensor<Model.Scalar>], configuration: TrainingConfiguration,
    state: TrainingState, extraMetadata: [String: String], heldOutName: String
  ) -> Data {
    var tensors: [String: Tensor<Model.Scalar>] = [:]
    for (name, value) in model.parameters {
      precondition(tensors[name] == nil, "TrainingCheckpoint: two parameters are named '\(name)'")
      tensors[name] = value
    }
    for (key, value) in optimizerState { tensors[optimizerPrefix + key] = value }
    var metadata = extraMetadata
    metadata["format"] = format
    metadata["model"] = Model.modelName
    metadata["model_configuration"] = model.configurationJSON
    metadata["training_configuration"] = configuration.jsonString
    metadata["training_state"] = state.jsonString
    metadata["step"] = String(state.step)
    if let train = state.recentMeanLoss { metadata["train_\(Model.metricKey)"] = "\(train)" }
    if let heldOut = state.finalEvaluation ?? state.lastEvaluation {
      metadata["\(heldOutName)_\(Model.metricKey)"] = "\(heldOut)"
    }
    return Safetensors.encode(tensors, metadata: metadata)
  }
}
