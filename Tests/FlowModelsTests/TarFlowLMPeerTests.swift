import FlowLayers
import FlowModels
import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// TarFlowLM, the charlm baseline and their PyTorch peer
/// (`Benchmarks/peers/torch_tarflowlm.py`, which `flowbench tarflowlm`
/// times them against) are the same models: the same parameters give the
/// same loss, gradient and generation.
///
/// - PyTorch → Swift, always: the fixtures `tarflowlm_peer_<case>.safetensors`
///   (Fixtures/make_tarflowlm_peer_fixtures.py) hold small models built and
///   perturbed by the peer in float64 (affine; Mix-1 with patches of 2;
///   Mix-d; charlm), with a batch, the encoder noise, a base sample for
///   generation, and what PyTorch computes for them.
/// - Swift → PyTorch, when a Python with torch is found: models written
///   here are recomputed by the peer's `--check` mode.
final class TarFlowLMPeerTests: XCTestCase {
  private static let fixtureCases = ["affine", "mix1", "mixd", "charlm"]

  /// Every committed model, in Double (tight) and Float.
  func testSwiftReproducesThePyTorchPeerOnItsModels() throws {
    for name in Self.fixtureCases {
      try checkFixture(named: name, Double.self, loss: 1e-12, gradient: 1e-9, latents: 1e-10)
      try checkFixture(named: name, Float.self, loss: 1e-5, gradient: 1e-3, latents: 1e-4)
    }
  }

  /// The peer reads what Swift writes: a model of each kind, every
  /// parameter perturbed, recomputed by the peer in Double and Float.
  func testThePyTorchPeerReproducesSwiftModels() throws {
    guard let python = PeerPython.findForTarFlowLM() else {
      print("note: no Python with torch (TARFLOWLM_PEER_PYTHON, .venv-peers/bin/python or python3): "
        + "only the committed PyTorch fixtures were compared")
      return
    }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tarflowlm-peer-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
    let flows = [
      TarFlowLMConfiguration(
        latentDimension: 3, length: 8, blockCount: 3, layersPerBlock: 1, width: 8, headCount: 2, transform: .affine,
        seed: 11),
      TarFlowLMConfiguration(
        latentDimension: 2, length: 8, blockCount: 2, layersPerBlock: 1, width: 8, headCount: 1, transform: .mix1,
        mixtureComponents: 2, mixtureHiddenSize: 6, patchSize: 2, seed: 12),
      TarFlowLMConfiguration(
        latentDimension: 3, length: 6, blockCount: 2, layersPerBlock: 2, width: 8, headCount: 2, transform: .mixd,
        mixtureComponents: 3, mixtureHiddenSize: 5, seed: 13),
    ]
    let baseline = CharacterLanguageModelConfiguration(length: 7, layerCount: 1, width: 8, headCount: 2, seed: 14)
    for (label, tolerance) in [("float64", 1e-10), ("float32", 1e-5)] {
      var files: [(String, URL, URL)] = []
      for configuration in flows {
        let name = "\(configuration.transform.rawValue)-\(label)"
        let (data, parameters) = (directory.appendingPathComponent("\(name)-data"), directory.appendingPathComponent(name))
        if label == "float64" {
          try writeFlowCheck(Double.self, configuration, data: data, parameters: parameters)
        } else {
          try writeFlowCheck(Float.self, configuration, data: data, parameters: parameters)
        }
        files.append((name, data, parameters))
      }
      let (data, parameters) = (directory.appendingPathComponent("charlm-\(label)-data"), directory.appendingPathComponent("charlm-\(label)"))
      if label == "float64" {
        try writeBaselineCheck(Double.self, baseline, data: data, parameters: parameters)
      } else {
        try writeBaselineCheck(Float.self, baseline, data: data, parameters: parameters)
      }
      files.append(("charlm-\(label)", data, parameters))
      for (name, data, parameters) in files {
        let result = try python.check(data: data, parameters: parameters)
        let loss = try XCTUnwrap(result["loss_relative_difference"] as? Double, "\(name): \(result)")
        let gradient = try XCTUnwrap(result["gradient_relative_difference"] as? Double, "\(name): \(result)")
        XCTAssertLessThanOrEqual(loss, tolerance, "\(name) loss: \(result)")
        XCTAssertLessThanOrEqual(gradient, 100 * tolerance, "\(name) gradient: \(result)")
        XCTAssertEqual(result["generated_tokens_agreement"] as? Double, 1, "\(name) generated tokens: \(result)")
        if let latents = result["generated_latents_max_abs_difference"] as? Double {
          XCTAssertLessThanOrEqual(latents, 10 * tolerance, "\(name) generated latents: \(result)")
        }
      }
    }
  }

  /// Loads fixture `name` into a Swift model of `Scalar` and compares the
  /// loss, every gradient and the generation with PyTorch's.
  private func checkFixture<Scalar: TensorScalar>(
    named name: String, _: Scalar.Type, loss lossTolerance: Scalar, gradient gradientTolerance: Double,
    latents latentTolerance: Scalar
  ) throws {
    let url = Fixtures.directory().appendingPathComponent("tarflowlm_peer_\(name).safetensors")
    let file = try SafetensorsFile(contentsOf: url)
    var tensors: [String: Tensor<Scalar>] = [:]
    for tensorName in file.names { tensors[tensorName] = try file.tensor(named: tensorName, as: Scalar.self) }
    let parameters = tensors.filter { !$0.key.hasPrefix("input.") && !$0.key.hasPrefix("expected.") }
    let label = "\(name) \(Scalar.self)"
    let tokens = try indices(XCTUnwrap(tensors["input.tokens"]))
    let expectedTokens = try indices(XCTUnwrap(tensors["expected.generated"]))
    let configurationJSON = try XCTUnwrap(file.metadata["configuration"])

    let loss: Tensor<Scalar>
    let gradients: [String: Tensor<Scalar>]
    let modelNames: Set<String>
    if file.metadata["model"] == "charlm" {
      var model = CharacterLanguageModel<Scalar>(configuration: try CharacterLanguageModelConfiguration(jsonString: configurationJSON))
      modelNames = Set(model.parameters.map(\.name))
      try model.loadParameters(parameters)
      (loss, gradients) = valueWithGradient(at: model) { $0.bitsPerCharacter(of: tokens).mean() }
      var generator = SeededGenerator(seed: 0)
      let generated = model.generate(
        count: expectedTokens.shape[0], length: expectedTokens.shape[1], temperature: 0, using: &generator)
      XCTAssertEqual(generated, expectedTokens, "\(label): generated tokens")
    } else {
      var model = TarFlowLM<Scalar>(configuration: try TarFlowLMConfiguration(jsonString: configurationJSON))
      modelNames = Set(model.parameters.map(\.name))
      try model.loadParameters(parameters)
      let noise = try XCTUnwrap(tensors["input.noise"])
      (loss, gradients) = valueWithGradient(at: model) { model in
        model.codebook.evidenceLowerBound(of: tokens, noise: noise) { model.priorLogDensity($0) }.bitsPerCharacter
      }
      // Generation from the given base sample, as `generatePasses` inverts the flows.
      let latents = withoutRecording { () -> Tensor<Scalar> in
        var h = tensors["input.baseNoise"]!
        for block in model.tiedBlocks.reversed() { h = block.inverse(h).output }
        return h
      }
      assertClose(
        latents, try XCTUnwrap(tensors["expected.generatedLatents"]), absolute: latentTolerance, relative: 0,
        "\(label) generated latents")
      XCTAssertEqual(model.codebook.mostLikelyTokens(given: latents), expectedTokens, "\(label): generated tokens")
    }
    XCTAssertEqual(modelNames, Set(parameters.keys), "\(label): the two models' parameters differ")
    assertClose(
      loss.reshaped(to: [1]), try XCTUnwrap(tensors["expected.loss"]), relative: lossTolerance, "\(label) loss")
    XCTAssertEqual(Set(gradients.keys), modelNames, "\(label): a gradient for every parameter")
    for (parameter, gradient) in gradients {
      let expected = try XCTUnwrap(tensors["expected.gradient.\(parameter)"], "\(label): no PyTorch gradient of \(parameter)")
      let scale = expected.scalars.map { abs(Double($0)) }.max() ?? 0
      let deviation = zip(gradient.scalars, expected.scalars).map { abs(Double($0) - Double($1)) }.max() ?? 0
      XCTAssertLessThanOrEqual(deviation, gradientTolerance * scale, "\(label) gradient of \(parameter)")
    }
  }

  /// Writes a perturbed TarFlowLM, a batch with encoder noise, Swift's loss
  /// and gradients, and a generation, for the peer's `--check`.
  private func writeFlowCheck<Scalar: TensorScalar>(
    _: Scalar.Type, _ configuration: TarFlowLMConfiguration, data: URL, parameters: URL
  ) throws {
    var model = TarFlowLM<Scalar>(configuration: configuration)
    var generator = SeededGenerator(seed: configuration.seed + 100)
    perturb(&model, using: &generator)
    let tokens = randomTokens(batch: 3, length: configuration.length, using: &generator)
    let noise = model.codebook.noise(for: tokens, using: &generator)
    let (loss, gradients) = valueWithGradient(at: model) { model in
      model.codebook.evidenceLowerBound(of: tokens, noise: noise) { model.priorLogDensity($0) }.bitsPerCharacter
    }
    let baseNoise = Tensor<Scalar>.randomNormal(
      shape: [3, configuration.length, configuration.latentDimension], using: &generator)
    let latents = withoutRecording { () -> Tensor<Scalar> in
      var h = baseNoise
      for block in model.tiedBlocks.reversed() { h = block.inverse(h).output }
      return h
    }
    var tensors = gradients.reduce(into: [String: Tensor<Scalar>]()) { $0["gradient." + $1.key] = $1.value }
    tensors["tokens"] = scalars(tokens)
    tensors["noise"] = noise
    tensors["loss"] = loss.reshaped(to: [1])
    tensors["baseNoise"] = baseNoise
    tensors["generatedLatents"] = latents
    tensors["generated"] = scalars(model.codebook.mostLikelyTokens(given: latents))
    try Safetensors.write(tensors, to: data)
    try model.save(to: parameters, metadata: ["model": "tarflowlm", "configuration": configuration.jsonString])
  }

  /// Writes a perturbed charlm, a batch, Swift's loss and gradients, and a
  /// generation at temperature 0, for the peer's `--check`.
  private func writeBaselineCheck<Scalar: TensorScalar>(
    _: Scalar.Type, _ configuration: CharacterLanguageModelConfiguration, data: URL, parameters: URL
  ) throws {
    var model = CharacterLanguageModel<Scalar>(configuration: configuration)
    var generator = SeededGenerator(seed: configuration.seed + 100)
    perturb(&model, using: &generator)
    let tokens = randomTokens(batch: 3, length: configuration.length, using: &generator)
    let (loss, gradients) = valueWithGradient(at: model) { $0.bitsPerCharacter(of: tokens).mean() }
    var tensors = gradients.reduce(into: [String: Tensor<Scalar>]()) { $0["gradient." + $1.key] = $1.value }
    tensors["tokens"] = scalars(tokens)
    tensors["loss"] = loss.reshaped(to: [1])
    tensors["generated"] = scalars(
      model.generate(count: 3, length: configuration.length, temperature: 0, using: &generator))
    try Safetensors.write(tensors, to: data)
    try model.save(to: parameters, metadata: ["model": "charlm", "configuration": configuration.jsonString])
  }

  /// Adds N(0, 0.02²) to every parameter, so that the zero-initialised
  /// output projections, the norms' scales and offsets and every bias matter.
  private func perturb<Model: Layer>(_ model: inout Model, using generator: inout SeededGenerator) {
    model.updateParameters { _, value in
      value = value + Tensor.randomNormal(shape: value.shape, standardDeviation: 0.02, using: &generator)
    }
  }

  private func randomTokens(batch: Int, length: Int, using generator: inout SeededGenerator) -> IndexTensor {
    IndexTensor(shape: [batch, length], indices: (0..<(batch * length)).map { _ in Int(generator.next() % 27) })
  }

  private func scalars<Scalar: TensorScalar>(_ tokens: IndexTensor) -> Tensor<Scalar> {
    Tensor(shape: tokens.shape, scalars: tokens.indices.map { Scalar($0) })
  }

  private func indices<Scalar: TensorScalar>(_ values: Tensor<Scalar>) -> IndexTensor {
    IndexTensor(shape: values.shape, indices: values.scalars.map { Int(Double($0).rounded()) })
  }
}

/// The runs of `Benchmarks/peers/torch_tarflowlm.py` these tests make.
extension PeerPython {
  /// `$TARFLOWLM_PEER_PYTHON`, `.venv-peers/bin/python` or `python3`.
  fileprivate static func findForTarFlowLM() -> PeerPython? { find(environmentVariable: "TARFLOWLM_PEER_PYTHON") }

  /// The JSON object `torch_tarflowlm.py --check data parameters` prints.
  fileprivate func check(data: URL, parameters: URL) throws -> [String: Any] {
    try runScript("torch_tarflowlm.py", ["--check", data.path, parameters.path], label: "torch_tarflowlm.py --check") {
      $0
    }
  }
}
