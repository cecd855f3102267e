import ArgumentParser
import FlowLayers
import FlowTensor

/// `flowbench cd`: CDFlow's circulant-diagonal linear layer (Feng & Liao,
/// "CDFlow", NeurIPS 2025, §3 and §4.4) against the dense and the
/// LU-parametrised (Glow) invertible linear layers.
///
/// The workload is a 1×1 convolution over n channels of 16 images of 16×16
/// pixels, in its flat form: every pixel is a row of `[4096, n]` Floats.
/// Each implementation is measured in four cases:
/// - `logdet`: log|det W| alone (no input is touched);
/// - `forward`: the layer's `forward(x)`, output and log-determinant, as a
///   flow calls it (recording off);
/// - `inverse`: the layer's `inverse(y)`, including any factorisation of
///   the parameters, which change at every training step and so cannot be
///   cached;
/// - `training-step`: forward and backward to the parameters of
///   loss = Σ y·w + Σ_batch log|det W|, `w` a fixed random `[4096, n]`.
struct CDSuite: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cd",
    abstract: "CD (m = 2) vs dense vs LU invertible linear maps of [4096, n] Float: log-det, forward, inverse, training step (ms).")

  @OptionGroup var options: SuiteOptions

  @Option(parsing: .upToNextOption, help: "Channel counts n.")
  var sizes: [Int] = [16, 32, 64, 96, 128, 256, 512, 1024]

  @Option(help: "Rows per call: pixels of all images (16 images of 16×16 by default).")
  var batch = 4096

  @Option(parsing: .upToNextOption, help: "Which of cd, dense, lu to run (the peers run the same ones).")
  var implementations: [String] = Self.implementations.map(\.name)

  func validate() throws {
    let known = Self.implementations.map(\.name)
    if let unknown = implementations.first(where: { !known.contains($0) }) {
      throw ValidationError("unknown implementation '\(unknown)'; choose among \(known.joined(separator: ", "))")
    }
    if let size = sizes.first(where: { $0 < 1 }) { throw ValidationError("size \(size) is not at least 1") }
    if batch < 1 { throw ValidationError("batch \(batch) is not at least 1") }
  }

  func run() {
    options.configure()
    var report = Report(suite: "cd")
    // In the order of `Self.implementations`: the first is the table's reference.
    let chosen = Self.implementations.filter { implementations.contains($0.name) }
    for n in sizes {
      let workload = CDWorkload(n: n, batch: batch, warmups: options.warmups, repetitions: options.repetitions)
      for implementation in chosen {
        report.rows += implementation.measure(workload)
      }
    }
    if options.peers {
      Peers.run(
        script: "torch_cd.py",
        arguments: ["--batch", "\(batch)", "--sizes"] + sizes.map(String.init)
          + ["--implementations"] + chosen.map(\.name)
          + ["--repetitions", "\(options.repetitions)", "--warmups", "\(options.warmups)"],
        python: options.python, into: &report)
    }
    report.print(json: options.json)
  }

  /// The contenders, in table order.
  static let implementations: [LinearImplementation] = [circulantDiagonal, dense, luParametrized]

  /// CDFlow's layer, m = 2 (W = D1·C·D2), random initialisation (|ĉ| = 1,
  /// d = ±1); log|det W| by its O(mn) formula.
  static let circulantDiagonal = LinearImplementation(name: "cd") { workload in
    var generator = SeededGenerator(seed: UInt64(workload.n))
    let layer = CirculantDiagonalLinear<Float>(
      size: workload.n, diagonalCount: 2, initialization: .random, using: &generator)
    return workload.rows(of: layer, implementation: "cd") { $0.logAbsoluteDeterminant() }
  }

  /// A dense W (Glow's plain 1×1 convolution): log|det W| by LAPACK's LU
  /// (slogdet), forward by gemm, inverse by an LU solve.
  static let dense = LinearImplementation(name: "dense") { workload in
    var generator = SeededGenerator(seed: UInt64(workload.n))
    let layer = InvertibleLinear<Float>(size: workload.n, using: &generator)
    return workload.rows(of: layer, implementation: "dense") { slogdet($0.weight).logAbsDeterminant }
  }

  /// Glow's LU parametrisation: log|det W| = Σ logScale, forward by forming
  /// W then gemm, inverse by two triangular solves.
  static let luParametrized = LinearImplementation(name: "lu") { workload in
    var generator = SeededGenerator(seed: UInt64(workload.n))
    let layer = LUInvertibleLinear<Float>(size: workload.n, using: &generator)
    return workload.rows(of: layer, implementation: "lu") { $0.logScale.sum() }
  }
}

/// One contender of `flowbench cd`: builds its layer for a workload and
/// measures the four cases.
struct LinearImplementation {
  let name: String
  let measure: (CDWorkload) -> [ResultRow]
}

/// The data of one channel count n, shared by every implementation.
struct CDWorkload {
  let n: Int
  let warmups: Int
  let repetitions: Int
  /// The input, `[batch, n]`, standard normal.
  let x: Tensor<Float>
  /// The loss weights w of the training step, `[batch, n]`, standard normal.
  let lossWeights: Tensor<Float>

  init(n: Int, batch: Int, warmups: Int, repetitions: Int) {
    self.n = n
    self.warmups = warmups
    self.repetitions = repetitions
    var generator = SeededGenerator(seed: 1000 + UInt64(n))
    x = Tensor.randomNormal(shape: [batch, n], using: &generator)
    lossWeights = Tensor.randomNormal(shape: [batch, n], using: &generator)
  }

  /// The rows of `logdet`, `forward`, `inverse` and `training-step` for `layer`.
  /// - Parameters:
  ///   - layer: an invertible linear map of `[batch, n]`.
  ///   - implementation: the rows' `impl`.
  ///   - logDeterminant: log|det W| of the layer, as its users compute it.
  func rows<Linear: Bijector>(
    of layer: Linear, implementation: String, logDeterminant: (Linear) -> Tensor<Float>
  ) -> [ResultRow] where Linear.Scalar == Float {
    let x = self.x
    let lossWeights = self.lossWeights
    let y = layer.forward(x).output
    let cases: [(name: String, timing: Timing)] = [
      ("logdet", measure(warmups: warmups, repetitions: repetitions) { blackHole(logDeterminant(layer)) }),
      ("forward", measure(warmups: warmups, repetitions: repetitions) { blackHole(layer.forward(x)) }),
      ("inverse", measure(warmups: warmups, repetitions: repetitions) { blackHole(layer.inverse(y)) }),
      ("training-step", measure(warmups: warmups, repetitions: repetitions) {
        let (loss, gradients) = valueWithGradient(at: layer) { layer in
          let (output, logDeterminant) = layer.forward(x)
          // Σ over the batch of the per-sample log|det W| = batch·log|det W|.
          return (output * lossWeights).sum() + logDeterminant.sum()
        }
        blackHole(loss)
        blackHole(gradients)
      }),
    ]
    return cases.map { name, timing in
      ResultRow(
        caseName: name, implementation: implementation, sizes: [("batch", x.shape[0]), ("n", n)],
        dtype: "float32", unit: "ms", timing: timing)
    }
  }
}
