import ArgumentParser
import FlowTensor

/// `flowbench gemm`: GFLOP/s of `matmul` on square matrices, Float and Double.
struct GemmSuite: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gemm", abstract: "GFLOP/s of Tensor matmul, n = 256, 512, 1024 (2n³ flops).")

  @OptionGroup var options: SuiteOptions

  @Option(parsing: .upToNextOption, help: "Matrix sizes.")
  var sizes: [Int] = [256, 512, 1024]

  func run() {
    var report = Report(suite: "gemm")
    report.rows += rows(Float.self) + rows(Double.self)
    if options.peers {
      Peers.run(
        script: "numpy_core.py",
        arguments: ["gemm", "--sizes"] + sizes.map(String.init) + common, python: options.python, into: &report)
    }
    report.print(json: options.json)
  }

  var common: [String] { ["--repetitions", "\(options.repetitions)", "--warmups", "\(options.warmups)"] }

  func rows<Scalar: TensorScalar>(_: Scalar.Type) -> [ResultRow] {
    sizes.map { n in
      var generator = SeededGenerator(seed: UInt64(n))
      let a = Tensor<Scalar>.randomNormal(shape: [n, n], using: &generator)
      let b = Tensor<Scalar>.randomNormal(shape: [n, n], using: &generator)
      let timing = measure(warmups: options.warmups, repetitions: options.repetitions) {
        blackHole(matmul(a, b))
      }
      return ResultRow(
        caseName: "matmul", implementation: "swift", sizes: [("n", n)], dtype: Scalar.dtypeName,
        unit: "GFLOP/s", timing: timing, workPerRun: 2 * Double(n * n * n) * 1e-9)
    }
  }
}
