import ArgumentParser
import FlowTensor

/// `flowbench autodiff`: a training step of an MLP and the per-op overhead
/// of recording, against the same workloads in eager PyTorch.
struct AutodiffSuite: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "autodiff",
    abstract: "MLP 784-512-512-784 (GELU, batch 128, Adam) training step; per-op overhead of 1,000 chained ops.")

  @OptionGroup var options: SuiteOptions

  @Option(help: "Rows per training batch.")
  var batch = 128

  @Option(help: "Length of the chain of elementwise ops.")
  var ops = 1000

  func run() {
    var report = Report(suite: "autodiff")
    report.rows.append(operationOverhead())
    if options.peers {
      Peers.run(
        script: "torch_autodiff.py",
        arguments: ["training-step", "op-overhead", "--batch", "\(batch)", "--ops", "\(ops)",
                    "--repetitions", "\(options.repetitions)", "--warmups", "\(options.warmups)"],
        python: options.python, into: &report)
    }
    report.print(json: options.json)
  }

  /// 1,000 chained multiplications of 8-element tensors that require
  /// gradients, forward and backward, per op.
  func operationOverhead() -> ResultRow {
    let x = Tensor<Float>.randomNormal(shape: [8], using: &globalGenerator)
    let factor = Tensor<Float>(repeating: 1.0001, shape: [8])
    let timing = measure(warmups: options.warmups, repetitions: options.repetitions) {
      let (_, gradient) = valueWithGradient(at: x) { x in
        var y = x
        for _ in 0..<ops { y = y * factor }
        return y.sum()
      }
      blackHole(gradient)
    }
    let perOp = Timing(seconds: timing.seconds.map { $0 * 1e3 / Double(ops) })
    return ResultRow(
      caseName: "op-overhead", implementation: "swift", sizes: [("n", 8), ("ops", ops)], dtype: "float32",
      unit: "us/op", timing: perOp)
  }
}

nonisolated(unsafe) private var globalGenerator = SeededGenerator(seed: 2)

