import ArgumentParser
import Foundation
import NormalizingFlows

/// `flows sample --checkpoint PATH --output grid.png`: a grid of samples.
struct Sample: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Draw samples from a checkpoint and save them as a PNG grid.")

  @Option(help: "A checkpoint written by flows train.")
  var checkpoint: String

  @Option(help: "Number of samples.")
  var count = 64

  @Option(help: "Temperature: the base noise's standard deviation (1 samples the model; lower is smoother).")
  var temperature = 0.7

  @Option(help: "Seed of the base noise.")
  var seed: UInt64 = 0

  @Option(help: "The PNG file to write.")
  var output = "samples.png"

  func validate() throws {
    if count < 1 { throw ValidationError("--count \(count) must be at least 1") }
    if !(temperature >= 0 && temperature.isFinite) {
      throw ValidationError("--temperature \(temperature) must be finite and ≥ 0")
    }
  }

  func run() throws {
    let command = "flows sample"
    do {
      let stored = try TrainingCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint))
      switch stored.modelName {
      case CDFlow<Float>.modelName:
        let model = try stored.model(CDFlow<Float>.self)
        try Self.writeSamples(of: model, count: count, temperature: temperature, seed: seed, to: URL(fileURLWithPath: output))
      default:
        throw reportFailure(command: command, message: "\(checkpoint): no sampler for model '\(stored.modelName)'")
      }
    } catch let error as TrainingError {
      throw reportFailure(command: command, message: "\(error)")
    } catch let error as CocoaError {
      throw reportFailure(command: command, message: "cannot write \(output): \(error.localizedDescription)")
    }
    print("wrote \(count) samples at temperature \(temperature) to \(output)")
  }

  /// `count` samples of `model` at `temperature`, tiled into a PNG at `url`.
  static func writeSamples(
    of model: CDFlow<Float>, count: Int, temperature: Double, seed: UInt64, to url: URL
  ) throws {
    var generator = SeededGenerator(seed: seed)
    let samples = withoutRecording { model.sample(count: count, temperature: temperature, using: &generator) }
    let grid = ImageGrid(images: model.pixels(from: samples), range: .bytes)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try grid.image.write(to: url)
  }
}
