import FlowLayers
import FlowModels
import FlowTensor
import Foundation

/// Checks that `torch_tarflowlm.py` builds the same models as Swift: for
/// each TarFlowLM transform and the charlm baseline, in Float and Double,
/// Swift saves a model's parameters (with its configuration as metadata)
/// and the loss and gradients it computes on one batch, and the peer loads
/// them and recomputes both.
///
/// - TarFlowLM: the −ELBO in bits per character with Swift's encoder noise
///   ε (`TokenCodebook.evidenceLowerBound(of:noise:priorLogDensity:)`),
///   its gradient, and generation: Swift's base noise through the inverted
///   flows (cached, position by position), the final latents and their
///   argmax decoding.
/// - charlm: the cross-entropy in bits per character, its gradient, and
///   cached generation at temperature 0 (argmax at every step).
///
/// Every parameter starts from the model's initial value plus N(0, 0.01²)
/// noise, so that the zero-initialised output projections, the LayerNorm
/// scales and offsets and every bias matter; the maps stay mild, where the
/// sequential inverse is accurate (see ``TransformerAutoregressiveFlow``).
struct TarFlowLMPeerCheck {
  let flowConfigurations: [TarFlowLMConfiguration]
  let baselineConfiguration: CharacterLanguageModelConfiguration?
  /// Windows per batch (and sequences generated).
  let batch: Int

  /// The largest differences accepted, relative (loss, global gradient) and
  /// absolute (generated latents, of magnitude ~3).
  struct Tolerance {
    var loss: Double
    var gradient: Double
    var latents: Double
  }

  /// One note per model and precision.
  func run(python: String) -> [String] {
    notes(Float.self, tolerance: Tolerance(loss: 1e-5, gradient: 1e-3, latents: 1e-3), python: python)
      + notes(Double.self, tolerance: Tolerance(loss: 1e-10, gradient: 1e-8, latents: 1e-8), python: python)
  }

  func notes<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Tolerance, python: String) -> [String] {
    var result = flowConfigurations.map { compareFlow(Scalar.self, $0, tolerance: tolerance, python: python) }
    if let baselineConfiguration {
      result.append(compareBaseline(Scalar.self, baselineConfiguration, tolerance: tolerance, python: python))
    }
    return result
  }

  func compareFlow<Scalar: TensorScalar>(
    _: Scalar.Type, _ configuration: TarFlowLMConfiguration, tolerance: Tolerance, python: String
  ) -> String {
    var generator = SeededGenerator(seed: 42)
    var model = TarFlowLM<Scalar>(configuration: configuration)
    perturb(&model, using: &generator)
    let tokens = Self.tokens(batch: batch, length: configuration.length)
    let noise = model.codebook.noise(for: tokens, using: &generator)
    let (loss, gradients) = valueWithGradient(at: model) { model in
      model.codebook.evidenceLowerBound(of: tokens, noise: noise) { model.priorLogDensity($0) }.bitsPerCharacter
    }
    let baseNoise = Tensor<Scalar>.randomNormal(
      shape: [batch, configuration.length, configuration.latentDimension], using: &generator)
    let latents = withoutRecording { () -> Tensor<Scalar> in
      var h = baseNoise
      for block in model.tiedBlocks.reversed() { h = block.inverse(h).output }
      return h
    }
    var data = gradients.reduce(into: [String: Tensor<Scalar>]()) { $0["gradient." + $1.key] = $1.value }
    data["tokens"] = Self.scalars(tokens)
    data["noise"] = noise
    data["loss"] = loss.reshaped(to: [1])
    data["baseNoise"] = baseNoise
    data["generatedLatents"] = latents
    data["generated"] = Self.scalars(model.codebook.mostLikelyTokens(given: latents))
    return compare(
      label: configuration.transform.rawValue, model: model, metadata: ["model": "tarflowlm", "configuration": configuration.jsonString],
      data: data, tolerance: tolerance, python: python)
  }

  func compareBaseline<Scalar: TensorScalar>(
    _: Scalar.Type, _ configuration: CharacterLanguageModelConfiguration, tolerance: Tolerance, python: String
  ) -> String {
    var generator = SeededGenerator(seed: 42)
    var model = CharacterLanguageModel<Scalar>(configuration: configuration)
    perturb(&model, using: &generator)
    let tokens = Self.tokens(batch: batch, length: configuration.length)
    let (loss, gradients) = valueWithGradient(at: model) { $0.bitsPerCharacter(of: tokens).mean() }
    var data = gradients.reduce(into: [String: Tensor<Scalar>]()) { $0["gradient." + $1.key] = $1.value }
    data["tokens"] = Self.scalars(tokens)
    data["loss"] = loss.reshaped(to: [1])
    data["generated"] = Self.scalars(
      model.generate(count: batch, length: configuration.length, temperature: 0, using: &generator))
    return compare(
      label: "charlm", model: model, metadata: ["model": "charlm", "configuration": configuration.jsonString],
      data: data, tolerance: tolerance, python: python)
  }

  /// Adds N(0, 0.01²) to every parameter.
  private func perturb<Model: Layer>(_ model: inout Model, using generator: inout SeededGenerator) {
    model.updateParameters { _, value in
      value = value + Tensor.randomNormal(shape: value.shape, standardDeviation: 0.01, using: &generator)
    }
  }

  /// The first `batch` windows of the benchmark's Markov text.
  static func tokens(batch: Int, length: Int) -> IndexTensor {
    CharacterWindows(symbols: TarFlowLMSuite.text(count: batch * length), length: length).batch(Array(0..<batch))
  }

  /// Token indices as exact scalars (safetensors files of one precision).
  static func scalars<Scalar: TensorScalar>(_ tokens: IndexTensor) -> Tensor<Scalar> {
    Tensor(shape: tokens.shape, scalars: tokens.indices.map { Scalar($0) })
  }

  /// Writes the files, runs the peer and judges its differences.
  private func compare<Model: Layer>(
    label: String, model: Model, metadata: [String: String], data: [String: Tensor<Model.Scalar>],
    tolerance: Tolerance, python: String
  ) -> String {
    let precision = Model.Scalar.self == Float.self ? "float32" : "float64"
    let name = "tarflowlm peer check (\(label), \(precision), batch \(batch))"
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tarflowlm-check-\(getpid())")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let parameterURL = directory.appendingPathComponent("parameters-\(label)-\(precision).safetensors")
    let dataURL = directory.appendingPathComponent("data-\(label)-\(precision).safetensors")
    do {
      try model.save(to: parameterURL, metadata: metadata)
      try Safetensors.write(data, to: dataURL)
    } catch {
      return "\(name) could not write its files: \(error)"
    }
    let child: ChildProcess
    do {
      child = try ChildProcess.runPeer(
        script: "torch_tarflowlm.py", arguments: ["--check", dataURL.path, parameterURL.path], python: python)
    } catch {
      return "\(name) did not start with \(python): \(error)"
    }
    guard child.status == 0, let result = child.jsonObject,
      let loss = result["loss_relative_difference"] as? Double,
      let gradient = result["gradient_relative_difference"] as? Double
    else {
      return "\(name) NOT RUN: \(child.reason)"
    }
    let latents = result["generated_latents_max_abs_difference"] as? Double ?? 0
    let same = loss <= tolerance.loss && gradient <= tolerance.gradient && latents <= tolerance.latents
    let details = result.keys.sorted().map { "\($0) \(result[$0]!)" }.joined(separator: ", ")
    return "\(name): \(same ? "same" : "DIFFERENT") within loss \(tolerance.loss), gradient \(tolerance.gradient), "
      + "latents \(tolerance.latents): \(details)"
  }
}
