import ArgumentParser
import NormalizingFlows

/// The command-line main job: train, evaluate and sample normalizing flows.
@main
struct Flows: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "flows",
    abstract: "Train, evaluate and sample normalizing flows.",
    subcommands: [
      Train.self, Eval.self, Sample.self, Generate.self, Experiment.self, Demo.self, Demo2D.self, Tour.self, Inspect.self,
    ])
}
