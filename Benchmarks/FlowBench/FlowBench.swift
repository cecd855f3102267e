import ArgumentParser

/// `flowbench SUITE`: release-build benchmarks with side-by-side peers.
@main
struct FlowBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "flowbench",
    abstract: "Benchmark the package against peers (numpy, PyTorch) in one run.")
}
