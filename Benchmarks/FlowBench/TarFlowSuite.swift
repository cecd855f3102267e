import ArgumentParser
import FlowLayers
import FlowTensor
import Foundation

/// `flowbench tarflow`: one TarFlow block (``TransformerAutoregressiveFlow``,
/// issue 8) against the PyTorch peer `Benchmarks/peers/torch_tarflow.py`,
/// which builds the same block.
///
/// Cases, each per transform (rows `affine`, `mix1`, `mixd`; the peer has
/// `torch-affine` and `torch-affine-tuned`):
/// - `training-step`: forward, negative mean log-likelihood under N(0, I),
///   backward and an Adam step;
/// - `sample-cached`: the inverse of a whole base sample, position by
///   position, attention keys and values cached;
/// - `sample-uncached`: the same inverse rerunning the network on the whole
///   prefix at every position (O(length²) rows; fewer repetitions).
///
/// `--check` (and `--peers`, first) verifies that the two implementations
/// compute the same thing: a Swift block with perturbed parameters is saved
/// with `Layer.save`, the peer loads it (names mapped, Dense weights
/// transposed) and recomputes the log-likelihoods, z and both inverses on
/// the same input, in Float and in Double.
struct TarFlowSuite: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tarflow",
    abstract: "TarFlow block (length 256, 16 channels, 4 layers, width 256, 4 heads, batch 32): training step and sampling with/without KV cache.")

  @OptionGroup var options: SuiteOptions

  @Option(help: "Sequences per batch.") var batch = 32
  @Option(help: "Tokens per sequence.") var length = 256
  @Option(help: "Channels per token.") var channels = 16
  @Option(help: "Transformer layers.") var layers = 4
  @Option(help: "Transformer width.") var width = 256
  @Option(help: "Attention heads.") var heads = 4
  @Option(parsing: .upToNextOption, help: "Transforms: affine, mix1 (8 components, hidden 128), mixd (16 components); the peer has affine only.")
  var transforms = ["affine"]
  @Option(parsing: .upToNextOption, help: "Cases: training-step, sample-cached, sample-uncached.")
  var cases = Self.allCases
  @Option(help: "Timed repetitions of sample-uncached (each is O(length²) network rows).")
  var uncachedRepetitions = 3
  @Option(help: "Untimed warm-ups of sample-uncached.")
  var uncachedWarmups = 0
  @Flag(help: "Only check that the peer computes the same log-likelihoods as Swift (no timing).")
  var check = false

  static let allCases = ["training-step", "sample-cached", "sample-uncached"]

  func validate() throws {
    if let unknown = transforms.first(where: { Self.transform(named: $0) == nil }) {
      throw ValidationError("unknown transform '\(unknown)'; choose among affine, mix1, mixd")
    }
    if let unknown = cases.first(where: { !Self.allCases.contains($0) }) {
      throw ValidationError("unknown case '\(unknown)'; choose among \(Self.allCases.joined(separator: ", "))")
    }
    if [batch, length, channels, layers, width, heads].contains(where: { $0 < 1 }) || width % heads != 0 {
      throw ValidationError("sizes must be ≥ 1 and width a multiple of heads")
    }
  }

  static func transform(named name: String) -> AutoregressiveTransform? {
    switch name {
    case "affine": return .affine
    case "mix1": return .mixtureCDF(components: 8, hiddenSize: 128)
    case "mixd": return .mixtureRosenblatt(components: 16)
    default: return nil
    }
  }

  func run() throws {
    options.configure()
    var report = Report(suite: "tarflow")
    if check || options.peers {
      report.notes += TarFlowPeerCheck(layers: layers, width: width, heads: heads, channels: channels)
        .run(python: options.python)
      if check {
        report.print(json: options.json)
        return
      }
    }
    for name in transforms {
      report.rows += measureBlock(transform: name)
    }
    if options.peers && transforms.contains("affine") {
      Peers.run(
        script: "torch_tarflow.py",
        arguments: [
          "--batch", "\(batch)", "--length", "\(length)", "--channels", "\(channels)", "--layers", "\(layers)",
          "--width", "\(width)", "--heads", "\(heads)", "--repetitions", "\(options.repetitions)",
          "--warmups", "\(options.warmups)", "--uncached-repetitions", "\(uncachedRepetitions)",
          "--uncached-warmups", "\(uncachedWarmups)", "--cases",
        ] + cases,
        python: options.python, into: &report)
    }
    report.print(json: options.json)
  }

  /// In key order, as the peer's rows are read (so that both group as one workload).
  var sizes: [(key: String, value: Int)] {
    [("batch", batch), ("channels", channels), ("heads", heads), ("layers", layers), ("length", length), ("width", width)]
  }

  /// The rows of one transform.
  func measureBlock(transform name: String) -> [ResultRow] {
    var generator = SeededGenerator(seed: 0)
    var block = TransformerAutoregressiveFlow<Float>(
      channels: channels, length: length, width: width, layerCount: layers, headCount: heads,
      transform: Self.transform(named: name)!, using: &generator)
    let base = StandardNormal<Float>(eventShape: [length, channels])
    let x = Tensor<Float>.randomNormal(shape: [batch, length, channels], using: &generator)
    let z = Tensor<Float>.randomNormal(shape: [batch, length, channels], using: &generator)
    var optimizer = Adam<Float>(learningRate: 1e-3)
    var rows: [ResultRow] = []
    func row(_ caseName: String, _ timing: Timing) -> ResultRow {
      ResultRow(caseName: caseName, implementation: name, sizes: sizes, dtype: "float32", unit: "ms", timing: timing)
    }
    if cases.contains("training-step") {
      let timing = measure(warmups: options.warmups, repetitions: options.repetitions) {
        let (loss, gradients) = valueWithGradient(at: block) { block in
          let (output, logDeterminant) = block.forward(x)
          return -(base.logProbability(output) + logDeterminant).mean()
        }
        optimizer.update(&block, along: gradients)
        blackHole(loss)
      }
      rows.append(row("training-step", timing))
    }
    if cases.contains("sample-cached") {
      rows.append(
        row(
          "sample-cached",
          measure(warmups: options.warmups, repetitions: options.repetitions) {
            blackHole(block.inverse(z, usingCache: true))
          }))
    }
    if cases.contains("sample-uncached") {
      rows.append(
        row(
          "sample-uncached",
          measure(warmups: uncachedWarmups, repetitions: uncachedRepetitions) {
            blackHole(block.inverse(z, usingCache: false))
          }))
    }
    return rows
  }
}

/// Checks that `torch_tarflow.py` builds the same block as Swift: the same
/// parameters (saved with `Layer.save`, then loaded by the peer) must give
/// the same log-likelihoods, z and inverses on the same input.
///
/// Every parameter is perturbed by N(0, 0.01²) noise first, so that the
/// zero-initialised output head, the LayerNorm scales and offsets and all
/// biases matter; the weights stay mild, where the sequential inverse is
/// accurate (see ``TransformerAutoregressiveFlow``).
struct TarFlowPeerCheck {
  let layers: Int
  let width: Int
  let heads: Int
  let channels: Int
  /// Small enough that the peer's uncached inverse stays quick.
  let batch = 4
  let length = 64

  /// One note per precision: the differences, and whether they are within
  /// tolerance (relative 1e-4 in Float, 1e-10 in Double, on log-likelihoods
  /// of magnitude ~length·channels).
  func run(python: String) -> [String] {
    [compare(Float.self, tolerance: 1e-4, python: python), compare(Double.self, tolerance: 1e-10, python: python)]
  }

  func compare<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Double, python: String) -> String {
    let precision = Scalar.self == Float.self ? "float32" : "float64"
    var generator = SeededGenerator(seed: 42)
    var block = TransformerAutoregressiveFlow<Scalar>(
      channels: channels, length: length, width: width, layerCount: layers, headCount: heads, using: &generator)
    var perturbed: [String: Tensor<Scalar>] = [:]
    for (name, value) in block.parameters {
      perturbed[name] = value + Tensor.randomNormal(shape: value.shape, standardDeviation: 0.01, using: &generator)
    }
    try! block.loadParameters(perturbed)
    let x = Tensor<Scalar>.randomNormal(shape: [batch, length, channels], using: &generator)
    let (z, logDeterminant) = block.forward(x)
    let logLikelihood = StandardNormal<Scalar>(eventShape: [length, channels]).logProbability(z) + logDeterminant

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tarflow-check-\(getpid())")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let parameterURL = directory.appendingPathComponent("parameters-\(precision).safetensors")
    let dataURL = directory.appendingPathComponent("data-\(precision).safetensors")
    do {
      try block.save(to: parameterURL)
      try Safetensors.write(["x": x, "z": z, "logLikelihood": logLikelihood], to: dataURL)
    } catch {
      return "tarflow peer check (\(precision)) could not write its files: \(error)"
    }
    let child: ChildProcess
    do {
      child = try ChildProcess.runPeer(
        script: "torch_tarflow.py",
        arguments: [
          "--check", dataURL.path, parameterURL.path, "--layers", "\(layers)", "--width", "\(width)", "--heads",
          "\(heads)",
        ], python: python)
    } catch {
      return "tarflow peer check did not start with \(python): \(error)"
    }
    guard child.status == 0, let result = child.jsonObject,
      let relative = result["log_likelihood_max_relative_difference"] as? Double,
      let zDifference = result["z_max_abs_difference"] as? Double
    else {
      return "tarflow peer check (\(precision)) NOT RUN: \(child.reason)"
    }
    let verdict = relative <= tolerance && zDifference <= 100 * tolerance ? "same" : "DIFFERENT"
    let details = result.keys.sorted().map { "\($0) \(result[$0]!)" }.joined(separator: ", ")
    return "tarflow peer check (\(precision), batch \(batch), length \(length)): \(verdict) within relative \(tolerance): \(details)"
  }
}
