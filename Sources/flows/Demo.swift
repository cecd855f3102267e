import ArgumentParser
import Foundation
import NormalizingFlows

/// `flows demo` (and `make demo`): a small CDFlow trained on Fashion-MNIST
/// for about five minutes, then its test bits/dim, a grid of samples, the
/// training curve and the checkpoint in `out/`.
struct Demo: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a small CDFlow on Fashion-MNIST for about five minutes; write samples, curve and checkpoint.",
    discussion: """
      Writes <output>/cdflow.safetensors, <output>/curve.svg and <output>/samples.png. The model: 2 levels × 4 \
      steps, coupling networks 48 wide, the circulant-diagonal mixer (m = 2); Adam at 0.001 after 200 warm-up \
      steps, batches of 64. The same run by hand: flows train cdflow --levels 2 --steps-per-level 4 --hidden 48 \
      --warmup 200 --eval-every 500 --checkpoint-every 500 --time-budget 300.
      """)

  /// The demo's architecture: small enough to make real progress in five
  /// minutes on two cores in a release build.
  static let model = CDFlowConfiguration(levels: 2, stepsPerLevel: 4, hiddenChannels: 48)

  @Option(help: "Seconds of training.")
  var timeBudget = 300.0

  @Option(help: "Channel mixer: cd, cd:<m>, lu, dense or reverse.")
  var mixer = "cd"

  @Option(help: "Seed of the parameters, batches, noise and samples.")
  var seed: UInt64 = 0

  @Option(help: "Where the checkpoint, curve and samples go.")
  var outputDirectory = "out"

  @Flag(help: "Print one JSON object with the final figures.")
  var json = false

  func validate() throws {
    if !(timeBudget > 0 && timeBudget.isFinite) {
      throw ValidationError("--time-budget \(timeBudget) must be a positive number of seconds")
    }
    if CDFlowMixer(mixer) == nil { throw ValidationError("--mixer '\(mixer)' is not one of cd, cd:<m>, lu, dense, reverse") }
  }

  func run() throws {
    let directory = URL(fileURLWithPath: outputDirectory)
    var model = Self.model
    model.mixer = CDFlowMixer(mixer)!
    model.seed = seed
    let training = TrainingConfiguration(
      learningRate: 1e-3, warmupSteps: 200, gradientClipNorm: 100, batchSize: 64, evaluateEvery: 500,
      evaluationCount: 1000, checkpointEvery: 500, stop: .timeBudget(seconds: timeBudget), seed: seed)
    let (summary, trained) = try CDFlowTrainingRun(
      commandName: "flows demo", dataset: .fashionMNIST, model: model, training: training, trainCount: nil,
      checkpoint: directory.appendingPathComponent("cdflow.safetensors"),
      curve: directory.appendingPathComponent("curve.svg"), resume: false, json: json
    ).run()
    let samples = directory.appendingPathComponent("samples.png")
    try Sample.writeSamples(of: trained, count: 64, temperature: 0.7, seed: seed, to: samples)
    if !json {
      if let test = summary.testMetric {
        print("test bits/dim: " + String(format: "%.4f", test) + " (Fashion-MNIST, \(summary.testCount ?? 0) test images)")
      }
      print("samples (temperature 0.7): \(samples.path)")
    }
  }
}
