import ArgumentParser
import Foundation
import NormalizingFlows

/// `flows eval --checkpoint PATH`: the test figure of a saved model.
struct Eval: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Evaluate a checkpoint on the held-out split (bits/dim, nats or bits/char).",
    discussion: """
      The evaluation is the one the training run made at its end: the same random draws (dequantisation noise, \
      encoder samples; seeded by the run's seed) and batches, so on the same items it repeats the figure the run \
      reported. CDFlow, rectangular-flow, TarFlowLM and charlm checkpoints.
      """)

  @Option(help: "A checkpoint written by flows train.")
  var checkpoint: String

  @Option(help: "The data or corpus (default: the one the checkpoint was trained on).")
  var dataset: String?

  @Option(help: "Evaluate on the first this many test images or windows (default all).")
  var count: Int?

  @Option(help: "Seed of the evaluation's random draws (default: the training run's seed).")
  var seed: UInt64?

  @Option(help: "The split of a text model's evaluation: test (default), validation or train.")
  var heldOut: String?

  @Option(
    help: ArgumentHelp(
      "Also the importance-weighted bound over this many encoder draws per window (TarFlowLM).",
      discussion: "log (1/S) Σ_s p(x, z_s)/q(z_s|x): tighter than the ELBO as S grows, still an upper bound on "
        + "the model's bits per character."))
  var importanceSamples: Int?

  @Flag(
    help: ArgumentHelp(
      "Also how many bits per character each flow lowers the bound by (TarFlowLM).",
      discussion: "Flow ℓ's log-determinant plus log N of its output minus log N of its input, averaged over the "
        + "windows with one encoder draw per position: near 0 for a flow that leaves its input as Gaussian as it found it."))
  var flowGains = false

  @Option(help: "Also list the this many test images of lowest likelihood, with their bits/dim (CDFlow).")
  var worst: Int?

  @Option(
    help: ArgumentHelp(
      "Also split log p(x) of this test image into its layers' terms (CDFlow).",
      discussion: "Each layer's log-determinant, each split's −Σ log σ and log N(ε), the base's log N(z), with the "
        + "largest |value| each sees, for the image as the evaluation dequantises it."))
  var breakdown: Int?

  @Flag(help: "Print one JSON object.")
  var json = false

  func validate() throws {
    if let count, count < 1 { throw ValidationError("--count \(count) must be at least 1") }
    if let worst, worst < 1 { throw ValidationError("--worst \(worst) must be at least 1") }
    if let breakdown, breakdown < 0 { throw ValidationError("--breakdown \(breakdown) must be an image index ≥ 0") }
    if let importanceSamples, importanceSamples < 1 {
      throw ValidationError("--importance-samples \(importanceSamples) must be at least 1")
    }
  }

  func run() throws {
    let command = "flows eval"
    do {
      let stored = try TrainingCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint))
      let isText = [TarFlowLM<Float>.modelName, CharacterLanguageModel<Float>.modelName].contains(stored.modelName)
      if !isText, heldOut != nil || importanceSamples != nil {
        throw reportFailure(
          command: command, message: "--held-out and --importance-samples are for text models, not '\(stored.modelName)'")
      }
      if flowGains, stored.modelName != TarFlowLM<Float>.modelName {
        throw reportFailure(command: command, message: "--flow-gains is for TarFlowLM, not '\(stored.modelName)'")
      }
      if isText, worst != nil || breakdown != nil {
        throw reportFailure(command: command, message: "--worst and --breakdown are for CDFlow, not '\(stored.modelName)'")
      }
      let source = DatasetSource(dataset ?? stored.metadata["dataset"] ?? "fashion-mnist")
      switch stored.modelName {
      case CDFlow<Float>.modelName:
        let model = try stored.model(CDFlow<Float>.self)
        let testSet = try source.load(.test)
        let clock = ContinuousClock()
        let start = clock.now
        let items = count.map { testSet.prefix($0) } ?? testSet
        var configuration = stored.configuration
        if let seed { configuration.seed = seed }
        // One pass gives the mean and, for --worst, every image's figure;
        // the same draws and batches as the run's own evaluation.
        var generator = SeededGenerator(seed: configuration.evaluationSeed)
        let scores = model.imageScores(on: items, batchSize: configuration.evaluationBatchSize, using: &generator)
        let value = FlowLayers.bitsPerDimension(
          negativeLogLikelihood: scores.reduce(0) { $0 - $1.logProbability } / Double(items.count),
          dimensions: model.dimensions)
        let seconds = (clock.now - start).seconds
        var terms: [CDFlowLogProbabilityTerm]?
        if let breakdown {
          guard breakdown < items.count else {
            throw reportFailure(command: command, message: "--breakdown \(breakdown): there are \(items.count) test images")
          }
          var replay = SeededGenerator(seed: configuration.evaluationSeed)
          terms = model.logProbabilityTerms(model.dequantizedImage(breakdown, of: items, using: &replay))
        }
        report(
          stored: stored, model: CDFlow<Float>.self, value: value, count: items.count, dataset: source, seconds: seconds,
          worst: worst.map { CDFlowImageScore.worst(scores, count: $0) }, terms: terms)
      case RectangularFlowModel<Float>.modelName:
        try evaluateRectangular(stored)
      case TarFlowLM<Float>.modelName, CharacterLanguageModel<Float>.modelName:
        try evaluateText(stored)
      default:
        throw reportFailure(command: command, message: "\(checkpoint): no evaluation for model '\(stored.modelName)'")
      }
    } catch let error as TrainingError {
      throw reportFailure(command: command, message: "\(error)")
    } catch let error as DatasetError {
      throw reportFailure(command: command, message: "\(error)")
    } catch let error as CharacterCorpusError {
      throw reportFailure(command: command, message: "\(error)")
    }
  }

  private func report<Model: TrainableModel>(
    stored: TrainingCheckpoint, model: Model.Type, value: Double, count: Int, dataset: DatasetSource, seconds: Double,
    worst: [CDFlowImageScore]? = nil, terms: [CDFlowLogProbabilityTerm]? = nil
  ) {
    if json {
      var fields = JSONValue.object([
        ("model", .string(Model.modelName)),
        ("checkpoint", .string(checkpoint)),
        ("dataset", .string(dataset.specification)),
        ("steps", .number(Double(stored.state.step))),
        ("seconds", .number(seconds)),
        ("train_\(Model.metricKey)", stored.state.recentMeanLoss.map(JSONValue.number) ?? .null),
        ("test_\(Model.metricKey)", .number(value)),
        ("test_count", .number(Double(count))),
      ])
      // JSONValue has no arrays: the lists go in as arrays of its objects.
      func append(_ key: String, _ objects: [String]) {
        fields.removeLast()
        fields += ", \(JSONValue.string(key).jsonText): [\(objects.joined(separator: ", "))]}"
      }
      if let worst {
        append("worst", worst.map { JSONValue.object([
          ("index", .number(Double($0.index))), ("log_probability", .number($0.logProbability)),
          ("\(Model.metricKey)", .number($0.bitsPerDimension)),
        ]) })
      }
      if let terms, let breakdown {
        append("breakdown_\(breakdown)", terms.map { JSONValue.object([
          ("path", .string($0.path)), ("layer", .string($0.layer)), ("kind", .string($0.kind.rawValue)),
          ("value", .number($0.value)), ("largest_magnitude", .number($0.largestMagnitude)),
          ("smallest_log_sd", $0.smallestLogStandardDeviation.map(JSONValue.number) ?? .null),
        ]) })
      }
      print(fields)
    } else {
      print(
        "\(checkpoint): \(Model.modelName) after \(stored.state.step) steps: test "
          + String(format: "%.4f", value) + " \(Model.metricName) on \(count) images of \(dataset.specification)")
      if let worst {
        print("lowest likelihood:")
        for score in worst {
          print(
            String(format: "  image %5d  log p %14.6g nats  %10.4f ", score.index, score.logProbability,
                   score.bitsPerDimension) + Model.metricName)
        }
      }
      if let terms, let breakdown {
        print("test image \(breakdown), log p(x) by term (nats; max |·| of what the term sees):")
        for term in terms {
          let logSD = term.smallestLogStandardDeviation.map { String(format: "  min log σ %.3g", $0) } ?? ""
          let names = [(term.path, 44), (term.layer, 25), (term.kind.rawValue, 15)]
            .map { $0.0.padding(toLength: Swift.max($0.1, $0.0.count), withPad: " ", startingAt: 0) }
          print(
            "  " + names.joined(separator: " ")
              + String(format: " %14.6g  max %10.4g", term.value, term.largestMagnitude) + logSD)
        }
        print(String(format: "  total %.6g nats", terms.reduce(0) { $0 + $1.value }))
      }
    }
  }
}
