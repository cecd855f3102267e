import ArgumentParser
import Foundation
import NormalizingFlows

/// `flows generate --checkpoint PATH`: text from a TarFlowLM or charlm checkpoint.
struct Generate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Generate text from a tarflowlm or charlm checkpoint.",
    discussion: """
      TarFlowLM draws base noise scaled by --temperature and inverts its flows one at a time; --show-passes \
      prints the decoded state after each (coarse to fine). charlm samples token by token at --temperature.
      """)

  @Option(help: "A checkpoint written by flows train tarflowlm or flows train charlm.")
  var checkpoint: String

  @Option(help: "Characters per sample (default: the model's context).")
  var length: Int?

  @Option(help: "Samples.")
  var count = 1

  @Option(help: "Temperature (the base noise's standard deviation for tarflowlm).")
  var temperature = 1.0

  @Option(help: "TarFlowLM's decoding: argmax (the most likely character) or sample.")
  var decoding = "argmax"

  @Option(help: "Seed of the noise and draws.")
  var seed: UInt64 = 0

  @Flag(help: "TarFlowLM: print the text decoded after every inverted flow.")
  var showPasses = false

  func validate() throws {
    if count < 1 { throw ValidationError("--count \(count) must be at least 1") }
    if let length, length < 1 { throw ValidationError("--length \(length) must be at least 1") }
    if !(temperature >= 0 && temperature.isFinite) {
      throw ValidationError("--temperature \(temperature) must be finite and ≥ 0")
    }
    if TokenDecoding(rawValue: decoding.lowercased()) == nil {
      throw ValidationError("--decoding '\(decoding)' is not argmax or sample")
    }
  }

  func run() throws {
    let command = "flows generate"
    // Not the bare seed: a model initialised from the same seed drew its
    // codebook from that stream, and noise equal to the codebook decodes
    // to the alphabet in order.
    var generator = SeededGenerator(seed: seed ^ 0x6765_6E65_7261_7465)
    do {
      let stored = try TrainingCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint))
      switch stored.modelName {
      case TarFlowLM<Float>.modelName:
        let model = try stored.model(TarFlowLM<Float>.self)
        let length = self.length ?? model.length
        if let problem = model.generationProblem(count: count, length: length, temperature: temperature) {
          throw reportFailure(command: command, message: "--length/--count/--temperature: \(problem)")
        }
        let passes = model.generatePasses(
          count: count, length: length, temperature: temperature,
          decoding: TokenDecoding(rawValue: decoding.lowercased())!, using: &generator)
        for sample in 0..<count {
          if showPasses {
            for (index, pass) in passes.enumerated() {
              let label = index == 0 ? "noise" : "pass \(index)"
              print("\(label): \(Self.text(pass, row: sample))")
            }
          } else {
            print(Self.text(passes.last!, row: sample))
          }
        }
      case CharacterLanguageModel<Float>.modelName:
        let model = try stored.model(CharacterLanguageModel<Float>.self)
        let length = self.length ?? model.length
        guard length <= model.length else {
          throw reportFailure(command: command, message: "--length \(length) exceeds the model's context \(model.length)")
        }
        let tokens = model.generate(count: count, length: length, temperature: temperature, using: &generator)
        for sample in 0..<count { print(Self.text(tokens, row: sample)) }
      default:
        throw reportFailure(command: command, message: "\(checkpoint): no text generator for model '\(stored.modelName)'")
      }
    } catch let error as TrainingError {
      throw reportFailure(command: command, message: "\(error)")
    }
  }

  /// Row `row` of `tokens` `[count, length]` as text.
  static func text(_ tokens: IndexTensor, row: Int) -> String {
    let length = tokens.shape[1]
    return CharacterVocabulary.text(of: tokens.indices[row * length ..< (row + 1) * length])
  }
}
