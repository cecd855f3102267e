import ArgumentParser
import NormalizingFlows

/// The command-line main job. Until the CDFlow model lands (issue 6), `demo`
/// shows the tensor core at work.
@main
struct Flows: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "flows",
    abstract: "Train, evaluate and sample normalizing flows.",
    subcommands: [Demo.self, Tour.self, Inspect.self])
}
