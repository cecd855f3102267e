import ArgumentParser
import Foundation
import NormalizingFlows

/// `flows demo`: a short tour of the tensor core on seeded random data,
/// printing what each step computed. The CDFlow issue replaces it with
/// training on Fashion-MNIST.
struct Demo: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the tensor core at work on seeded random data.")

  @Option(help: "Seed of the random generator.")
  var seed: UInt64 = 0

  func run() throws {
    var generator = SeededGenerator(seed: seed)
    let x = Tensor<Double>.randomNormal(shape: [4, 3], using: &generator)
    print("x ~ N(0, 1), shape \(x.shape):")
    print(x)
    let y = x * 2 + 1
    print("2x + 1:", y)
  }
}
