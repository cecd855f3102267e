import ArgumentParser
import FlowModels
import FlowTensor

/// `flowbench cdflow`: ms per training step of the CDFlow image model
/// (forward, negative log-likelihood, backward, Adam) on Fashion-MNIST
/// batches, Float, for each mixer. The PyTorch peer of issue 6 is to come.
struct CDFlowSuite: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cdflow",
    abstract: "CDFlow training step (L = 2, K = 8, width 64, batch 64 by default) on Fashion-MNIST.")

  @OptionGroup var options: SuiteOptions

  @Option(help: "Levels L.") var levels = 2
  @Option(help: "Steps per level K.") var stepsPerLevel = 8
  @Option(help: "Hidden channels of the coupling conditioners.") var hidden = 64
  @Option(help: "Images per batch.") var batch = 64
  @Option(parsing: .upToNextOption, help: "Mixers: cd, lu, dense, reverse.") var mixers = ["cd", "lu", "dense", "reverse"]

  func run() throws {
    options.configure()
    var report = Report(suite: "cdflow")
    let data = try ImageDataset.fashionMNIST(split: .train)
    let pixels = data.batch(Array(0..<batch), as: Float.self).images
    for name in mixers {
      guard let mixer = CDFlowMixer(name) else { throw ValidationError("unknown mixer \(name)") }
      let configuration = CDFlowConfiguration(
        levels: levels, stepsPerLevel: stepsPerLevel, hiddenChannels: hidden, mixer: mixer)
      var model = CDFlow<Float>(configuration: configuration)
      var generator = SeededGenerator(seed: 1)
      model.initialize(from: pixels, using: &generator)
      var optimizer = Adam<Float>(learningRate: 1e-3)
      let timing = measure(warmups: options.warmups, repetitions: options.repetitions) {
        let (loss, gradients) = valueWithGradient(at: model) { $0.negativeLogLikelihood(pixels: pixels, using: &generator) }
        optimizer.update(&model, along: gradients)
        blackHole(loss)
      }
      report.rows.append(
        ResultRow(
          caseName: "training-step", implementation: name, sizes: [("batch", batch), ("levels", levels), ("steps", stepsPerLevel), ("width", hidden)],
          dtype: "float32", unit: "ms", timing: timing))
    }
    report.print(json: options.json)
  }
}
