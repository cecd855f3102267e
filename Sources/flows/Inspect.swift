import ArgumentParser
import Foundation
import NormalizingFlows

/// `flows inspect FILE.safetensors`: what a checkpoint holds, or why it
/// cannot be read.
struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the tensors (dtype, shape, sum, mean) and metadata of a safetensors file.")

  @Argument(help: "The safetensors file to inspect.")
  var file: String

  func run() throws {
    do {
      let contents = try SafetensorsFile(contentsOf: URL(fileURLWithPath: file))
      print(contents.summary())
    } catch let error as SafetensorsError {
      FileHandle.standardError.write(Data("flows inspect: \(file): \(error)\n".utf8))
      throw ExitCode.failure
    }
  }
}
