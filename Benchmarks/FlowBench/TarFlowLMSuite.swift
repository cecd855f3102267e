import ArgumentParser
import FlowLayers
import FlowModels
import FlowTensor
import Foundation

/// `flowbench tarflowlm`: the models `flows train tarflowlm` and `flows
/// train charlm` train (``TarFlowLM``, ``CharacterLanguageModel``), in
/// Float, against the PyTorch peer `Benchmarks/peers/torch_tarflowlm.py`,
/// which builds the same models with the same parameter names.
///
/// Cases, one workload per model so that the table's ratio is Swift's
/// against PyTorch's (rows `swift`, `torch` and `torch-tuned`, the peer
/// run again with glibc's malloc keeping freed blocks; unit tokens/s):
/// - `train-<model>`: batch·context / the time of one training step as the
///   ``Trainer`` takes it with the CLI's defaults: a batch of windows at
///   random offsets (``BatchSampler``), the loss (−ELBO in bits per
///   character with fresh encoder noise, or the baseline's cross-entropy),
///   backward, a global gradient-norm clip at 10, and Adam at the linear
///   warm-up's rate (peak 1e-3 over 100 steps);
/// - `generate-<model>`: generate-batch·generate-length / the time of
///   generating that many characters from the initial model: TarFlowLM
///   inverts its flows one at a time, position by position with the
///   attention cached, and decodes every state (``TarFlowLM/generate(count:length:temperature:decoding:using:)``);
///   the baseline draws token by token with its cache.
///
/// `<model>` is a transform (`affine`, `mix1`, `mixd`) or `charlm`. With
/// `--peers` the peer starts every model from Swift's initial parameters,
/// so both generate through the same maps (Mix-1's and Mix-d's Newton
/// solves take the same iterations) and train from the same point.
///
/// `--check` (and `--peers`, first) verifies that both compute the same
/// thing (``TarFlowLMPeerCheck``).
struct TarFlowLMSuite: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tarflowlm",
    abstract: "TarFlowLM (affine, Mix-1, Mix-d; 2 flows × 2 layers) and the charlm baseline (4 layers), width 128, "
      + "context 128, batch 32, d = 5: training and generation tokens/s.")

  @OptionGroup var options: SuiteOptions

  @Option(help: "Transformer width.") var width = 128
  @Option(help: "Flows of the TarFlowLM prior.") var blocks = 2
  @Option(help: "Transformer layers per flow.") var layers = 2
  @Option(help: "Transformer layers of the charlm baseline.") var baselineLayers = 4
  @Option(help: "Attention heads (default width/64, at least 1: the CLI's).") var heads: Int?
  @Option(help: "Context: characters per training window.") var context = 128
  @Option(help: "Windows per training batch.") var batch = 32
  @Option(help: "Latent width d per character.") var latentDim = 5
  @Option(help: "Tokens per position (and per generation step).") var patchSize = 1
  @Option(help: "Gaussians per feature of the Mix-1 flows (the default of `flows train tarflowlm`).") var components = 27
  @Option(help: "Hidden units of Mix-1's masked within-position network (the default of `flows train tarflowlm`).") var mixtureHidden = 128
  @Option(help: "What the first flow's transformer reads: latents or posterior (the codebook's, p(x | z)).")
  var conditionerInput = "latents"
  @Option(parsing: .upToNextOption, help: "Transforms, comma- or space-separated: affine, mix1, mixd.")
  var transforms = ["affine,mix1,mixd"]
  @Flag(help: "Leave out the charlm baseline.") var noBaseline = false
  @Option(parsing: .upToNextOption, help: "Cases: train, generate.") var cases = ["train", "generate"]
  @Option(help: "Characters generated per sequence (default the context).") var generateLength: Int?
  @Option(help: "Sequences generated at once.") var generateBatch = 16
  @Option(help: "Generation temperature.") var temperature = 1.0
  @Option(help: "Timed repetitions of generation (default --repetitions).") var generateRepetitions: Int?
  @Option(help: "Untimed warm-ups of generation (default --warmups).") var generateWarmups: Int?
  @Flag(help: "Skip the peer's torch-tuned rows (a second run with glibc's malloc keeping freed blocks).")
  var noTunedPeer = false
  @Flag(help: "Only check that the peer computes the same losses, gradients and generations as Swift (no timing).")
  var check = false
  @Option(help: "Equivalence check: windows per batch.") var checkBatch = 4
  @Option(help: "Equivalence check: the models' context.") var checkContext = 32

  static let allCases = ["train", "generate"]

  /// The transforms, with comma-separated lists split.
  var transformList: [String] {
    transforms.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() } }
      .filter { !$0.isEmpty }
  }

  var readsPosterior: Bool { conditionerInput.lowercased() == TarFlowLMConditionerInput.posterior.rawValue }

  var resolvedHeads: Int { heads ?? Swift.max(1, width / 64) }
  var resolvedGenerateLength: Int { generateLength ?? context }

  func validate() throws {
    if let unknown = transformList.first(where: { TarFlowLMTransform(rawValue: $0) == nil }) {
      throw ValidationError("unknown transform '\(unknown)'; choose among affine, mix1, mixd")
    }
    if TarFlowLMConditionerInput(rawValue: conditionerInput.lowercased()) == nil {
      throw ValidationError("--conditioner-input '\(conditionerInput)' is not one of latents, posterior")
    }
    if let unknown = cases.first(where: { !Self.allCases.contains($0) }) {
      throw ValidationError("unknown case '\(unknown)'; choose among \(Self.allCases.joined(separator: ", "))")
    }
    for length in [context, checkContext] {
      if let problem = flowConfiguration(.mixd, length: length).problem { throw ValidationError(problem) }
      if let problem = baselineConfiguration(length: length).problem { throw ValidationError(problem) }
    }
    if batch < 1 || checkBatch < 1 || generateBatch < 1 {
      throw ValidationError("--batch, --check-batch and --generate-batch must be ≥ 1")
    }
    let length = resolvedGenerateLength
    if length < 1 || length > context || length % patchSize != 0 {
      throw ValidationError(
        "--generate-length \(length) must be in 1…\(context) (the context) and a multiple of the patch size \(patchSize)")
    }
    if !(temperature >= 0 && temperature.isFinite) { throw ValidationError("--temperature must be finite and ≥ 0") }
  }

  func flowConfiguration(_ transform: TarFlowLMTransform, length: Int) -> TarFlowLMConfiguration {
    TarFlowLMConfiguration(
      latentDimension: latentDim, length: length, blockCount: blocks, layersPerBlock: layers, width: width,
      headCount: resolvedHeads, transform: transform, mixtureComponents: components,
      mixtureHiddenSize: mixtureHidden, patchSize: patchSize,
      conditionerInput: TarFlowLMConditionerInput(rawValue: conditionerInput.lowercased()) ?? .latents)
  }

  func baselineConfiguration(length: Int) -> CharacterLanguageModelConfiguration {
    CharacterLanguageModelConfiguration(length: length, layerCount: baselineLayers, width: width, headCount: resolvedHeads)
  }

  func run() throws {
    options.configure()
    var report = Report(suite: "tarflowlm")
    let transforms = transformList.compactMap(TarFlowLMTransform.init(rawValue:))
    if check || options.peers {
      let peerCheck = TarFlowLMPeerCheck(
        flowConfigurations: transforms.map { flowConfiguration($0, length: checkContext) },
        baselineConfiguration: noBaseline ? nil : baselineConfiguration(length: checkContext), batch: checkBatch)
      report.notes += peerCheck.run(python: options.python)
      if check {
        report.print(json: options.json)
        return
      }
    }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowbench-tarflowlm-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var initialFiles: [String] = []
    let text = Self.text(count: Swift.max(100_000, 2 * context * batch))
    let decodingLength = resolvedGenerateLength
    for transform in transforms {
      let model = TarFlowLM<Float>(configuration: flowConfiguration(transform, length: context))
      let url = directory.appendingPathComponent("\(transform.rawValue).safetensors")
      try model.save(to: url)
      initialFiles.append("\(transform.rawValue)=\(url.path)")
      report.rows += measureModel(model, name: transform.rawValue, text: text) { model, generator in
        model.generate(count: generateBatch, length: decodingLength, temperature: temperature, using: &generator)
      }
    }
    if !noBaseline {
      let model = CharacterLanguageModel<Float>(configuration: baselineConfiguration(length: context))
      let url = directory.appendingPathComponent("charlm.safetensors")
      try model.save(to: url)
      initialFiles.append("charlm=\(url.path)")
      report.rows += measureModel(model, name: "charlm", text: text) { model, generator in
        model.generate(count: generateBatch, length: decodingLength, temperature: temperature, using: &generator)
      }
    }
    if options.peers && !initialFiles.isEmpty {
      Peers.run(
        script: "torch_tarflowlm.py",
        arguments: [
          "--models"] + transforms.map(\.rawValue) + (noBaseline ? [] : ["charlm"]) + [
          "--cases"] + cases + [
          "--batch", "\(batch)", "--context", "\(context)", "--width", "\(width)", "--heads", "\(resolvedHeads)",
          "--blocks", "\(blocks)", "--layers", "\(layers)", "--baseline-layers", "\(baselineLayers)",
          "--latent-dim", "\(latentDim)", "--patch-size", "\(patchSize)", "--components", "\(components)",
          "--mixture-hidden", "\(mixtureHidden)", "--conditioner-input", conditionerInput.lowercased(),
          "--generate-batch", "\(generateBatch)",
          "--generate-length", "\(decodingLength)", "--temperature", "\(temperature)",
          "--repetitions", "\(options.repetitions)", "--warmups", "\(options.warmups)",
          "--generate-repetitions", "\(generateRepetitions ?? options.repetitions)",
          "--generate-warmups", "\(generateWarmups ?? options.warmups)",
        ] + (noTunedPeer ? ["--no-tuned"] : []) + ["--initial"] + initialFiles,
        python: options.python, into: &report)
    }
    report.print(json: options.json)
  }

  /// A stationary stretch of an order-1 Markov chain over the 27
  /// characters, the text the training windows are cut from (the work of a
  /// step does not depend on which characters it reads).
  static func text(count: Int) -> [UInt8] {
    var generator = SeededGenerator(seed: 0)
    return MarkovSource(order: 1, sharpness: 3, seed: 0).sample(count: count, using: &generator)
  }

  /// The size keys of a row, in key order as the peer's rows are read (so
  /// that both group as one workload).
  func sizes(model name: String, generation: Bool) -> [(key: String, value: Int)] {
    var result: [(key: String, value: Int)] = [("context", context), ("heads", resolvedHeads), ("width", width)]
    if name == "charlm" {
      result.append(("layers", baselineLayers))
    } else {
      result += [("blocks", blocks), ("layers", layers), ("latent", latentDim), ("patch", patchSize)]
      if name != "affine" { result += [("components", components), ("hidden", mixtureHidden)] }
      // Marked only when set, so rows of the default read as before.
      if readsPosterior { result.append(("posterior", 1)) }
    }
    result += generation ? [("count", generateBatch), ("length", resolvedGenerateLength)] : [("batch", batch)]
    return result.sorted { $0.key < $1.key }
  }

  /// The rows of one model: generation from its initial parameters, then
  /// training steps.
  func measureModel<Model: TrainableModel>(
    _ initial: Model, name: String, text: [UInt8],
    generate: (Model, inout SeededGenerator) -> IndexTensor
  ) -> [ResultRow] where Model.Dataset == CharacterWindows, Model.Scalar == Float {
    var rows: [ResultRow] = []
    var generator = SeededGenerator(seed: 0)
    if cases.contains("generate") {
      let timing = measure(
        warmups: generateWarmups ?? options.warmups, repetitions: generateRepetitions ?? options.repetitions
      ) {
        blackHole(generate(initial, &generator))
      }
      rows.append(
        ResultRow(
          caseName: "generate-\(name)", implementation: "swift", sizes: sizes(model: name, generation: true),
          dtype: "float32", unit: "tokens/s", timing: timing,
          workPerRun: Double(generateBatch * resolvedGenerateLength)))
    }
    if cases.contains("train") {
      let windows = CharacterWindows(symbols: text, length: context, stride: 1)
      var model = initial
      var sampler = BatchSampler(count: windows.count, batchSize: batch, seed: 0)
      var optimizer = Adam<Float>(learningRate: 1e-3)
      let schedule = LinearWarmup(peak: 1e-3, warmupSteps: 100)
      var step = 0
      // The step of `Trainer.run` with `flows train`'s defaults.
      let timing = measure(warmups: options.warmups, repetitions: options.repetitions) {
        let indices = sampler.next()
        let result = valueWithGradient(at: model) { $0.loss(on: indices, of: windows, using: &generator) }
        var gradients = result.gradients
        clipByGlobalNorm(&gradients, maximumNorm: 10)
        optimizer.learningRate = schedule.learningRate(atStep: step)
        optimizer.update(&model, along: gradients)
        step += 1
        blackHole(result.value)
      }
      rows.append(
        ResultRow(
          caseName: "train-\(name)", implementation: "swift", sizes: sizes(model: name, generation: false),
          dtype: "float32", unit: "tokens/s", timing: timing, workPerRun: Double(batch * context)))
    }
    return rows
  }
}
