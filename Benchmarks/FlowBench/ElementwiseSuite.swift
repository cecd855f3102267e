import ArgumentParser
import FlowTensor

/// `flowbench elementwise`: memory throughput of `a + b` and `exp(a)` over
/// 16M Floats, each producing a fresh result as numpy's operators do.
struct ElementwiseSuite: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "elementwise",
    abstract: "GB/s of add (12 bytes per element moved) and exp (8 bytes) over 16M Floats.")

  @OptionGroup var options: SuiteOptions

  @Option(help: "Elements per tensor.")
  var count = 1 << 24

  func run() {
    var report = Report(suite: "elementwise")
    var generator = SeededGenerator(seed: 1)
    let a = Tensor<Float>.randomNormal(shape: [count], using: &generator)
    let b = Tensor<Float>.randomNormal(shape: [count], using: &generator)
    let elementBytes = Double(MemoryLayout<Float>.stride)
    let add = measure(warmups: options.warmups, repetitions: options.repetitions) { blackHole(a + b) }
    let exponential = measure(warmups: options.warmups, repetitions: options.repetitions) { blackHole(exp(a)) }
    let sizes: [(key: String, value: Int)] = [("n", count)]
    report.rows.append(
      ResultRow(
        caseName: "add", implementation: "swift", sizes: sizes, dtype: "float32", unit: "GB/s", timing: add,
        workPerRun: 3 * elementBytes * Double(count) * 1e-9))
    report.rows.append(
      ResultRow(
        caseName: "exp", implementation: "swift", sizes: sizes, dtype: "float32", unit: "GB/s",
        timing: exponential, workPerRun: 2 * elementBytes * Double(count) * 1e-9))
    if options.peers {
      Peers.run(
        script: "numpy_core.py",
        arguments: ["elementwise", "--count", "\(count)", "--repetitions", "\(options.repetitions)",
                    "--warmups", "\(options.warmups)"],
        python: options.python, into: &report)
    }
    report.print(json: options.json)
  }
}
