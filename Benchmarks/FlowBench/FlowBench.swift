import ArgumentParser
import FlowTensor

/// `flowbench SUITE`: release-build benchmarks that report medians, with
/// peers (numpy, PyTorch) run in the same invocation for ratios.
///
/// Build with `swift build -c release --product flowbench`; a debug build
/// runs, but says so, since its numbers mean nothing.
@main
struct FlowBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "flowbench",
    abstract: "Benchmark the package against peers (numpy, PyTorch) in one run.",
    subcommands: [
      GemmSuite.self, FFTSuite.self, ElementwiseSuite.self, AutodiffSuite.self, CDSuite.self, CDFlowSuite.self,
      TarFlowSuite.self, TarFlowLMSuite.self, RectangularSuite.self,
    ])
}

/// Options every suite shares.
struct SuiteOptions: ParsableArguments {
  @Flag(help: "Print one JSON object instead of tables.")
  var json = false

  @Flag(help: "Also run the peer scripts of Benchmarks/peers/ and print ratios.")
  var peers = false

  @Option(help: "The Python that runs the peer scripts.")
  var python = "python3"

  @Option(help: "Timed repetitions per case (the median is reported).")
  var repetitions = 15

  @Option(help: "Untimed warm-up repetitions per case.")
  var warmups = 3

  @Flag(help: "Plan FFTs with FFTW_MEASURE (slower planning, once per size) instead of FFTW_ESTIMATE.")
  var measuredPlans = false

  /// Applies the options that configure the library.
  func configure() {
    if measuredPlans { FFTPlanCache.shared.planningRigor = .measure }
  }
}
