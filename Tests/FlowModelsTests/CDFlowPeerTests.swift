import FlowLayers
import FlowModels
import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// CDFlow and its PyTorch peer (`Benchmarks/peers/cdflow_model.py`, run by
/// `cdflow_train.py`) are the same model: the same parameters give the same
/// log-likelihood, gradient and ActNorm initialisation, in both directions.
///
/// - PyTorch → Swift, always: the fixtures `cdflow_peer_<case>.safetensors`
///   (Fixtures/make_cdflow_peer_fixtures.py) hold small models built and
///   perturbed by the peer, under Swift's parameter names plus the fixed
///   signs and permutations, with a batch and what PyTorch computes for it.
/// - Swift → PyTorch, when a Python with torch is found: checkpoints written
///   here are checked by `cdflow_train.py --mode check`.
final class CDFlowPeerTests: XCTestCase {
  private static let fixtureCases = ["cd2", "cd3", "lu", "dense", "reverse"]

  /// Every committed model, in Double (tight) and Float.
  func testSwiftReproducesThePyTorchPeerOnItsModels() throws {
    for name in Self.fixtureCases {
      try checkPeerFixture(named: name, Double.self, relative: 1e-12, gradientRelative: 1e-10)
      try checkPeerFixture(named: name, Float.self, relative: 1e-5, gradientRelative: 1e-4)
    }
  }

  /// The peer reads what Swift writes: models of every mixer, every
  /// parameter perturbed, checked by the peer in Double and Float.
  func testThePyTorchPeerReproducesSwiftModels() throws {
    guard let python = PeerPython.findForCDFlow() else {
      print("note: no Python with torch (CDFLOW_PEER_PYTHON, .venv-peers/bin/python or python3): "
        + "only the committed PyTorch fixtures were compared")
      return
    }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdflow-peer-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
    let configurations = [
      CDFlowConfiguration(
        height: 8, width: 8, levels: 2, stepsPerLevel: 2, hiddenChannels: 6, mixer: .circulantDiagonal(factors: 2),
        seed: 21),
      CDFlowConfiguration(
        channels: 3, height: 4, width: 4, levels: 2, stepsPerLevel: 1, hiddenChannels: 5,
        mixer: .circulantDiagonal(factors: 3), couplingScale: .softClamp(bound: 2.5), seed: 22),
      CDFlowConfiguration(height: 8, width: 8, levels: 3, stepsPerLevel: 1, hiddenChannels: 4, mixer: .lu, seed: 23),
      CDFlowConfiguration(
        height: 8, width: 8, levels: 2, stepsPerLevel: 2, hiddenChannels: 4, mixer: .dense, learnedSplitPrior: false,
        seed: 24),
      // A tight split-prior bound, so that the peer's c·tanh(r/c) is exercised far from the identity.
      CDFlowConfiguration(
        height: 8, width: 8, levels: 2, stepsPerLevel: 2, hiddenChannels: 4, mixer: .reverse,
        splitPriorLogStandardDeviationBound: 0.25, seed: 25),
    ]
    var urls: [URL] = []
    for (index, configuration) in configurations.enumerated() {
      let double = directory.appendingPathComponent("model-\(index)-\(configuration.mixer)-float64.safetensors")
      let float = directory.appendingPathComponent("model-\(index)-\(configuration.mixer)-float32.safetensors")
      try writePeerCheck(Double.self, configuration: configuration, to: double)
      try writePeerCheck(Float.self, configuration: configuration, to: float)
      urls += [double, float]
    }
    let results = try python.check(urls)
    XCTAssertEqual(results.count, urls.count)
    for (url, result) in zip(urls, results) {
      let name = url.lastPathComponent
      XCTAssertEqual(result["passed"] as? Bool, true, "\(name): \(result)")
      let checks = result["checks"] as? [String: Double] ?? [:]
      XCTAssertEqual(Set(checks.keys), ["logProbability", "gradient", "initialized"], "\(name): \(result)")
      print("note: PyTorch peer on \(name): largest relative errors \(checks.sorted { $0.key < $1.key })")
    }
  }

  /// The peer's quality mode trains on the batches Swift's BatchSampler
  /// draws, across an epoch boundary and at Fashion-MNIST's size.
  func testThePyTorchPeerDrawsBatchesInSwiftsOrder() throws {
    guard let python = PeerPython.findForCDFlow() else {
      print("note: no Python with torch: the peer's batch order was not compared")
      return
    }
    for (count, batchSize, seed, iterations) in [(10, 3, UInt64(42), 5), (60_000, 64, UInt64(0), 3)] {
      var sampler = BatchSampler(count: count, batchSize: batchSize, seed: seed)
      let expected = (0..<iterations).map { _ in sampler.next() }
      XCTAssertEqual(
        try python.batches(count: count, batchSize: batchSize, seed: seed, iterations: iterations), expected,
        "\(count) items, batches of \(batchSize), seed \(seed)")
    }
  }

  /// The fixed-tensor walk reaches every mixer: one entry per sign vector
  /// and permutation, under the names the peer's state dict uses.
  func testFixedTensorNames() {
    let configuration = CDFlowConfiguration(
      height: 8, width: 8, levels: 2, stepsPerLevel: 2, hiddenChannels: 4, mixer: .circulantDiagonal(factors: 3))
    let names = CDFlow<Double>(configuration: configuration).fixedTensors().keys.sorted()
    // Level 0: steps at layers 1, 2; level 1 inside layers.3.inner, steps at 1, 2.
    let mixers = ["transform.layers.1.layers.1", "transform.layers.2.layers.1",
                  "transform.layers.3.inner.layers.1.layers.1", "transform.layers.3.inner.layers.2.layers.1"]
    XCTAssertEqual(
      names,
      mixers.flatMap { mixer in
        ["circulants.0.sign", "circulants.1.sign", "diagonals.0.sign", "diagonals.1.sign", "diagonals.2.sign"]
          .map { "\(mixer).\($0)" }
      }.sorted())
    let lu = CDFlow<Double>(configuration: CDFlowConfiguration(height: 4, width: 4, levels: 1, stepsPerLevel: 1, mixer: .lu))
    XCTAssertEqual(
      lu.fixedTensors().keys.sorted(), ["transform.layers.1.layers.1.permutation", "transform.layers.1.layers.1.sign"])
  }

  /// Loads fixture `name` into a Swift model of `Scalar` and compares log p,
  /// the NLL gradient and ActNorm's initialisation with PyTorch's.
  private func checkPeerFixture<Scalar: TensorScalar>(
    named name: String, _: Scalar.Type, relative: Scalar, gradientRelative: Double
  ) throws {
    let url = Fixtures.directory().appendingPathComponent("cdflow_peer_\(name).safetensors")
    let file = try SafetensorsFile(contentsOf: url)
    let configuration = try CDFlowConfiguration(jsonString: XCTUnwrap(file.metadata["configuration"]))
    var tensors: [String: Tensor<Scalar>] = [:]
    for tensorName in file.names { tensors[tensorName] = try file.tensor(named: tensorName, as: Scalar.self) }
    let label = "\(name) \(Scalar.self)"

    var model = CDFlow<Scalar>(configuration: configuration)
    model.transform = try installingPeerFixedTensors(model.transform, prefix: "transform.", from: tensors)
    let modelNames = Set(model.parameters.map(\.name)).union(model.fixedTensors().keys)
    let fileModelNames = Set(file.names.filter { !$0.hasPrefix("input.") && !$0.hasPrefix("expected.") })
    XCTAssertEqual(modelNames, fileModelNames, "\(label): the two models' tensors differ")
    try model.loadParameters(tensors)
    let x = try XCTUnwrap(tensors["input.x"])

    assertClose(
      model.logProbability(x), try XCTUnwrap(tensors["expected.logProbability"]), relative: relative, "\(label) log p")

    let (_, gradients) = valueWithGradient(at: model) { $0.negativeLogLikelihood(x) }
    for (parameter, gradient) in gradients {
      let expected = try XCTUnwrap(tensors["expected.gradient.\(parameter)"], "\(label): no PyTorch gradient of \(parameter)")
      let scale = expected.scalars.map { abs(Double($0)) }.max() ?? 0
      let deviation = zip(gradient.scalars, expected.scalars).map { abs(Double($0) - Double($1)) }.max() ?? 0
      XCTAssertLessThanOrEqual(deviation, gradientRelative * scale, "\(label) gradient of \(parameter)")
    }

    var initialized = model
    _ = withoutRecording { initialized.transform.initialize(from: x) }
    let parameters = initialized.namedParameters
    var initializedCount = 0
    for tensorName in file.names where tensorName.hasPrefix("expected.initialized.") {
      let parameter = String(tensorName.dropFirst("expected.initialized.".count))
      assertClose(
        try XCTUnwrap(parameters[parameter]), tensors[tensorName]!, absolute: relative, relative: relative,
        "\(label) initialised \(parameter)")
      initializedCount += 1
    }
    let actNorms = configuration.levels * configuration.stepsPerLevel * 2
    XCTAssertEqual(initializedCount, actNorms, "\(label): ActNorm logScale and bias of every step")
    assertClose(
      initialized.logProbability(x), try XCTUnwrap(tensors["expected.initializedLogProbability"]), relative: relative,
      "\(label) log p after ActNorm's initialisation")
  }

  /// Writes a perturbed model of `configuration`, a batch, and Swift's log p,
  /// gradient and ActNorm initialisation for the peer's `--mode check`.
  private func writePeerCheck<Scalar: TensorScalar>(
    _: Scalar.Type, configuration: CDFlowConfiguration, to url: URL
  ) throws {
    var model = CDFlow<Scalar>(configuration: configuration)
    var generator = SeededGenerator(seed: configuration.seed + 100)
    model.updateParameters { _, parameter in
      parameter = parameter + Tensor.randomNormal(shape: parameter.shape, using: &generator) * Scalar(0.2)
    }
    let pixels = Tensor<Scalar>(
      shape: [3] + configuration.imageShape,
      scalars: (0..<(3 * model.dimensions)).map { _ in Scalar(generator.next() % 256) })
    let x = model.dequantize(pixels: pixels, using: &generator)
    var tensors = model.namedParameters.merging(model.fixedTensors()) { first, _ in first }
    tensors["input.x"] = x
    tensors["expected.logProbability"] = model.logProbability(x)
    let (_, gradients) = valueWithGradient(at: model) { $0.negativeLogLikelihood(x) }
    for (name, gradient) in gradients { tensors["expected.gradient.\(name)"] = gradient }
    _ = withoutRecording { model.transform.initialize(from: x) }
    for (name, value) in model.namedParameters where name.hasSuffix(".logScale") || name.hasSuffix(".bias") {
      // ActNorms are layer 0 of their step: `….layers.<step>.layers.0.<name>`.
      if name.dropLast(name.hasSuffix(".bias") ? 5 : 9).hasSuffix(".layers.0") {
        tensors["expected.initialized.\(name)"] = value
      }
    }
    tensors["expected.initializedLogProbability"] = model.logProbability(x)
    try Safetensors.write(
      tensors,
      metadata: ["configuration": configuration.jsonString, "dtype": Scalar.self == Double.self ? "float64" : "float32"],
      to: url)
  }
}

/// `chain` with its mixers rebuilt on the signs and permutations of
/// `tensors` (their parameters kept, to be loaded next).
private func installingPeerFixedTensors<Scalar: TensorScalar>(
  _ chain: Chain<Scalar>, prefix: String, from tensors: [String: Tensor<Scalar>]
) throws -> Chain<Scalar> {
  var chain = chain
  for index in chain.layers.indices {
    let name = "\(prefix)layers.\(index)"
    func fixed(_ suffix: String) throws -> Tensor<Scalar> {
      try XCTUnwrap(tensors["\(name).\(suffix)"], "the peer's model lacks \(name).\(suffix)")
    }
    switch chain.layers[index] {
    case let inner as Chain<Scalar>:
      chain.layers[index] = try installingPeerFixedTensors(inner, prefix: name + ".", from: tensors)
    case var multiScale as MultiScale<Chain<Scalar>>:
      multiScale.inner = try installingPeerFixedTensors(multiScale.inner, prefix: name + ".inner.", from: tensors)
      chain.layers[index] = multiScale
    case let mixer as CirculantDiagonalConv1x1<Scalar>:
      let diagonals = try mixer.factors.diagonals.enumerated().map { j, diagonal in
        CirculantDiagonalFactors<Scalar>.Diagonal(sign: try fixed("diagonals.\(j).sign"), logMagnitude: diagonal.logMagnitude)
      }
      let circulants = try mixer.factors.circulants.enumerated().map { j, circulant in
        CirculantDiagonalFactors<Scalar>.Circulant(
          length: circulant.length, sign: try fixed("circulants.\(j).sign"), logMagnitude: circulant.logMagnitude,
          phase: circulant.phase)
      }
      chain.layers[index] = CirculantDiagonalConv1x1(
        factors: CirculantDiagonalFactors(diagonals: diagonals, circulants: circulants))
    case let mixer as LUInvertibleConvolution1x1<Scalar>:
      chain.layers[index] = LUInvertibleConvolution1x1(
        permutation: try fixed("permutation"), sign: try fixed("sign"), lower: mixer.lower, upper: mixer.upper,
        logScale: mixer.logScale)
    default:
      break
    }
  }
  return chain
}

/// The runs of `Benchmarks/peers/cdflow_train.py` these tests make.
extension PeerPython {
  /// `$CDFLOW_PEER_PYTHON`, `.venv-peers/bin/python` or `python3`.
  fileprivate static func findForCDFlow() -> PeerPython? { find(environmentVariable: "CDFLOW_PEER_PYTHON") }

  /// The results of `cdflow_train.py --mode check --checkpoint urls…`, one
  /// JSON object per checkpoint (`passed`, `checks`: name → largest relative error).
  fileprivate func check(_ urls: [URL]) throws -> [[String: Any]] {
    try runScript(
      "cdflow_train.py", ["--mode", "check", "--checkpoint"] + urls.map(\.path), label: "cdflow_train.py --mode check"
    ) { $0["results"] as? [[String: Any]] }
  }

  /// `cdflow_train.py --mode batches`: the first `iterations` batches of the peer's sampler.
  fileprivate func batches(count: Int, batchSize: Int, seed: UInt64, iterations: Int) throws -> [[Int]] {
    try runScript(
      "cdflow_train.py",
      ["--mode", "batches", "--count", "\(count)", "--batch", "\(batchSize)", "--data-seed", "\(seed)",
       "--iterations", "\(iterations)"],
      label: "cdflow_train.py --mode batches"
    ) { $0["batches"] as? [[Int]] }
  }
}
