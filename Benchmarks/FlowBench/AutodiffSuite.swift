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
    report.rows.append(trainingStep())
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

  /// Forward, mean squared reconstruction loss, backward and an Adam step.
  func trainingStep() -> ResultRow {
    var model = BenchmarkPerceptron(sizes: [784, 512, 512, 784], seed: 0)
    var optimizer = Adam<Float>(learningRate: 1e-3)
    var generator = SeededGenerator(seed: 1)
    let x = Tensor<Float>.randomNormal(shape: [batch, 784], using: &generator)
    let timing = measure(warmups: options.warmups, repetitions: options.repetitions) {
      let (loss, gradients) = valueWithGradient(at: model) { model in
        let error = model(x) - x
        return (error * error).mean()
      }
      optimizer.update(&model, along: gradients)
      blackHole(loss)
    }
    return ResultRow(
      caseName: "training-step", implementation: "swift", sizes: [("batch", batch), ("width", 512)],
      dtype: "float32", unit: "ms", timing: timing)
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

/// The benchmark's MLP: dense layers with GELU between them.
struct BenchmarkPerceptron: Layer {
  struct Dense: Layer {
    var weight: Tensor<Float>
    var bias: Tensor<Float>
    mutating func visitParameters(with visitor: ParameterVisitor<Float>) {
      visitor.visit("weight", &weight)
      visitor.visit("bias", &bias)
    }
  }

  var layers: [Dense]

  init(sizes: [Int], seed: UInt64) {
    var generator = SeededGenerator(seed: seed)
    layers = zip(sizes, sizes.dropFirst()).map { inputs, outputs in
      let bound = Float(1 / Double(inputs).squareRoot())
      return Dense(
        weight: Tensor.randomUniform(shape: [inputs, outputs], in: -bound..<bound, using: &generator),
        bias: Tensor.randomUniform(shape: [outputs], in: -bound..<bound, using: &generator))
    }
  }

  func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
    var y = x
    for (index, layer) in layers.enumerated() {
      y = matmul(y, layer.weight) + layer.bias
      if index < layers.count - 1 { y = gelu(y) }
    }
    return y
  }

  mutating func visitParameters(with visitor: ParameterVisitor<Float>) {
    visitor.visit("layers", &layers)
  }
}
