import ArgumentParser
import FlowTensor

/// `flowbench fft`: batched real FFTs of `[batch, n]`, forward and inverse.
struct FFTSuite: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fft", abstract: "rfft and irfft of [4096, n] for n = 96, 128, 1024 (ms per batch).")

  @OptionGroup var options: SuiteOptions

  @Option(parsing: .upToNextOption, help: "Transform lengths.")
  var sizes: [Int] = [96, 128, 1024]

  @Option(help: "Rows transformed per call.")
  var batch = 4096

  func run() {
    options.configure()
    var report = Report(suite: "fft")
    report.rows += rows(Float.self) + rows(Double.self)
    if options.peers {
      Peers.run(
        script: "numpy_core.py",
        arguments: ["fft", "--batch", "\(batch)", "--sizes"] + sizes.map(String.init)
          + ["--repetitions", "\(options.repetitions)", "--warmups", "\(options.warmups)"],
        python: options.python, into: &report)
    }
    report.print(json: options.json)
  }

  func rows<Scalar: TensorScalar>(_: Scalar.Type) -> [ResultRow] {
    sizes.flatMap { n -> [ResultRow] in
      var generator = SeededGenerator(seed: UInt64(n))
      let x = Tensor<Scalar>.randomNormal(shape: [batch, n], using: &generator)
      let spectrum = rfft(x)
      let forward = measure(warmups: options.warmups, repetitions: options.repetitions) { blackHole(rfft(x)) }
      let inverse = measure(warmups: options.warmups, repetitions: options.repetitions) {
        blackHole(irfft(spectrum, length: n))
      }
      let sizes: [(key: String, value: Int)] = [("batch", batch), ("n", n)]
      return [
        ResultRow(caseName: "rfft", implementation: "swift", sizes: sizes, dtype: Scalar.dtypeName, unit: "ms", timing: forward),
        ResultRow(caseName: "irfft", implementation: "swift", sizes: sizes, dtype: Scalar.dtypeName, unit: "ms", timing: inverse),
      ]
    }
  }
}
