import ArgumentParser
import Foundation
import NormalizingFlows

/// `flows train tarflowlm`: TarFlowLM on a character corpus.
struct TrainTarFlowLM: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tarflowlm",
    abstract: "Train TarFlowLM on a character corpus (test bits/char: −ELBO on held-out windows).",
    discussion: """
      The prior is --blocks TarFlow blocks of --layers transformer layers, alternating direction, over a codebook \
      of width --latent-dim. Progress goes to standard error; the final figures (or, with --json, one JSON object) \
      to standard output. On --corpus markov the output also carries the chain's exact entropy rate.
      """)

  @OptionGroup var options: TextTrainingOptions

  @Option(help: "Latent width d per character (default 5).")
  var latentDim: Int?

  @Option(help: "Flows of the prior (default 2).")
  var blocks: Int?

  @Option(help: "Transformer layers per flow (default 2).")
  var layers: Int?

  @Option(help: "affine, mix1 or mixd (default affine).")
  var transform: String?

  @Option(help: "Gaussians per feature of the Mix-1 flows (default 27, the vocabulary, as the paper on text8).")
  var components: Int?

  @Option(help: "Hidden units of Mix-1's within-token masked network, also the transformer's output width (default 128, as the paper).")
  var mixtureHidden: Int?

  @Option(help: "Tokens per position and per generation step (default 1).")
  var patchSize: Int?

  @Option(help: "Freeze the first this many flows (progressive training; default 0).")
  var frozenBlocks: Int?

  @Option(help: "σ of every codebook entry at the start (default 0.5; the means start standard normal).")
  var initialScale: Double?

  @Option(
    help: ArgumentHelp(
      "What the first flow's transformer reads: latents (the paper) or posterior (default latents).",
      discussion: "posterior: each latent's posterior over the codebook, p(x | z), which is the one-hot of the "
        + "character once the codes separate, as the discrete baseline reads."))
  var conditionerInput: String?

  @Option(
    help: ArgumentHelp(
      "Start from this checkpoint's model with one more flow on the base side, its flows frozen.",
      discussion: "Progressive training (§3.3): train a stage, then grow it. The architecture and, unless "
        + "--corpus is given, the corpus come from the checkpoint; the optimizer and the step count start afresh."))
  var addBlockTo: String?

  func validate() throws {
    if let transform, TarFlowLMTransform(rawValue: transform.lowercased()) == nil {
      throw ValidationError("--transform '\(transform)' is not one of affine, mix1, mixd")
    }
    if let conditionerInput, TarFlowLMConditionerInput(rawValue: conditionerInput.lowercased()) == nil {
      throw ValidationError("--conditioner-input '\(conditionerInput)' is not one of latents, posterior")
    }
    let fixed = [
      ("--latent-dim", latentDim != nil), ("--blocks", blocks != nil), ("--layers", layers != nil),
      ("--transform", transform != nil), ("--components", components != nil),
      ("--mixture-hidden", mixtureHidden != nil), ("--patch-size", patchSize != nil),
      ("--frozen-blocks", frozenBlocks != nil), ("--initial-scale", initialScale != nil),
      ("--conditioner-input", conditionerInput != nil),
    ].filter(\.1).map(\.0)
    try options.validate(fixedModelOptions: fixed)
    if addBlockTo != nil {
      if options.output.resume { throw ValidationError("--add-block-to starts a new run: it cannot be used with --resume") }
      let given = fixed + options.modelOptionsGiven
      if !given.isEmpty {
        throw ValidationError("\(given.joined(separator: ", ")) cannot be given with --add-block-to: the checkpoint fixes them")
      }
      if options.training.weightDecay.map({ $0 > 0 }) == true {
        // Decay would move the frozen flows: their gradient is zero, not their update.
        throw ValidationError("--weight-decay must be 0 with --add-block-to: it would change the frozen flows")
      }
      return
    }
    if !options.output.resume, let problem = modelConfiguration.problem { throw ValidationError(problem) }
  }

  /// The model `--add-block-to` names, grown by one frozen-below block
  /// (initial values from the run's seed).
  /// - Throws: `TrainingError` when the file is unreadable or not a TarFlowLM checkpoint.
  private func grownModel(from path: String) throws -> (model: TarFlowLM<Float>, corpus: String?) {
    let stored = try TrainingCheckpoint(contentsOf: URL(fileURLWithPath: path))
    guard stored.modelName == TarFlowLM<Float>.modelName else {
      throw TrainingError.modelMismatch(path: path, expected: TarFlowLM<Float>.modelName, found: stored.modelName)
    }
    var generator = SeededGenerator(seed: options.seed ^ 0xB10C_0000)
    return (try stored.model(TarFlowLM<Float>.self).addingBlock(using: &generator), stored.metadata["corpus"])
  }

  var modelConfiguration: TarFlowLMConfiguration {
    TarFlowLMConfiguration(
      latentDimension: latentDim ?? 5, length: options.resolvedContext, blockCount: blocks ?? 2,
      layersPerBlock: layers ?? 2, width: options.resolvedWidth, headCount: options.resolvedHeads,
      transform: transform.flatMap { TarFlowLMTransform(rawValue: $0.lowercased()) } ?? .affine,
      mixtureComponents: components ?? 27, mixtureHiddenSize: mixtureHidden ?? 128, patchSize: patchSize ?? 1,
      initialScale: initialScale ?? 0.5,
      conditionerInput: conditionerInput.flatMap { TarFlowLMConditionerInput(rawValue: $0.lowercased()) } ?? .latents,
      frozenBlockCount: frozenBlocks ?? 0, seed: options.seed)
  }

  func run() throws {
    let configuration = modelConfiguration
    var grown: (model: TarFlowLM<Float>, corpus: String?)?
    if let addBlockTo {
      do {
        grown = try grownModel(from: addBlockTo)
      } catch let error as TrainingError {
        throw reportFailure(command: "flows train tarflowlm", message: "\(error)")
      }
    }
    try TextTrainingRun<TarFlowLM<Float>>(
      commandName: "flows train tarflowlm", options: options,
      makeModel: { grown?.model ?? TarFlowLM(configuration: configuration) },
      startingCorpus: grown?.corpus,
      extraMetadata: addBlockTo.map { ["grown_from": $0] } ?? [:],
      context: { $0.length },
      describe: { model in
        let c = model.configuration
        return "\(c.transform.rawValue), \(c.blockCount) flows × \(c.layersPerBlock) layers, width \(c.width), "
          + "d = \(c.latentDimension), patch \(c.patchSize), context \(c.length), first flow reads the "
          + "\(c.conditionerInput.rawValue)"
      },
      extraFields: { model in
        let c = model.configuration
        return [
          ("transform", .string(c.transform.rawValue)), ("latent_dim", .number(Double(c.latentDimension))),
          ("blocks", .number(Double(c.blockCount))), ("layers", .number(Double(c.layersPerBlock))),
          ("width", .number(Double(c.width))), ("patch_size", .number(Double(c.patchSize))),
          ("components", .number(Double(c.mixtureComponents))), ("frozen_blocks", .number(Double(c.frozenBlockCount))),
          ("mixture_hidden", .number(Double(c.mixtureHiddenSize))),
          ("conditioner_input", .string(c.conditionerInput.rawValue)),
        ]
      }
    ).run()
  }
}

/// `flows train charlm`: the discrete transformer baseline.
struct TrainCharLM: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "charlm",
    abstract: "Train the discrete character-level transformer baseline (test bits/char: cross-entropy).")

  @OptionGroup var options: TextTrainingOptions

  @Option(help: "Transformer layers (default 4).")
  var layers: Int?

  func validate() throws {
    try options.validate(fixedModelOptions: layers != nil ? ["--layers"] : [])
    if !options.output.resume, let problem = modelConfiguration.problem { throw ValidationError(problem) }
  }

  var modelConfiguration: CharacterLanguageModelConfiguration {
    CharacterLanguageModelConfiguration(
      length: options.resolvedContext, layerCount: layers ?? 4, width: options.resolvedWidth,
      headCount: options.resolvedHeads, seed: options.seed)
  }

  func run() throws {
    let configuration = modelConfiguration
    try TextTrainingRun<CharacterLanguageModel<Float>>(
      commandName: "flows train charlm", options: options,
      makeModel: { CharacterLanguageModel(configuration: configuration) },
      context: { $0.length },
      describe: { model in
        let c = model.configuration
        return "\(c.layerCount) layers, width \(c.width), context \(c.length)"
      },
      extraFields: { model in
        [("layers", .number(Double(model.configuration.layerCount))),
         ("width", .number(Double(model.configuration.width)))]
      }
    ).run()
  }
}
