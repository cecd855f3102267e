import ArgumentParser
import FlowLayers
import FlowModels
import FlowTensor
import Foundation

/// `flowbench rectangular`: a training step of the rectangular flow that
/// `flows train rectangular --dataset fashion-mnist` trains (issue 7), by
/// the exact and the stochastic estimator of ½ log det JᵀJ, as d grows at
/// D = 784, against the PyTorch peer `Benchmarks/peers/torch_rectangular.py`
/// (the same layers, widths, prior, loss, estimators and Adam settings).
///
/// Rows per (estimator, d), implementations `swift` and `torch`:
/// - `training-step-<estimator>` (ms): loss, backward, clipping, Adam
///   update, on one batch of Fashion-MNIST training images (seeded random
///   pixels when D ≠ 784, the files are missing or `--random-data`);
/// - `peak-memory-<estimator>` (MB): the peak resident set of the case's
///   process during the training steps (each case runs in a child process
///   of its own: this executable again with `--single-case`, the peer once
///   per case; Linux's VmHWM, reset through `/proc/self/clear_refs` once the
///   model and the batch are ready, so that loading the data does not
///   count), and `memory-growth-<estimator>`: that peak minus the resident
///   set before the first step, which leaves out the runtimes' own
///   footprint (PyTorch's is hundreds of MB);
/// - `cg-iterations-stochastic` (iterations): the mean over the steps of
///   the CG iterations per step (the largest over the step's rows).
///
/// Both sides start from the same model (Swift's initial parameters and
/// padding permutation, written for the peer) and train on the same batch,
/// so that they take the same steps but for the probes.
///
/// `--cg-trace d=20,steps=200` instead trains the stochastic model for that
/// many steps from one initial model (written by Swift, read by the peer)
/// on the same batches of images (their dequantization noise and the probes
/// differ), and prints the mean CG iterations around every 50th step.
/// `--check` (and `--peers`, first) verifies that the peer computes Swift's
/// exact and stochastic losses and gradients for the same parameters,
/// batch and probes.
struct RectangularSuite: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rectangular",
    abstract: "Rectangular flow training step, exact vs stochastic log det JᵀJ, as d grows (D = 784, batch 32): ms, peak memory, CG iterations.")

  @OptionGroup var options: SuiteOptions

  @Option(help: "Latent sizes d, comma-separated.") var latentDims = "1,2,5,10,20,50"
  @Option(help: "D, the data dimension (784: Fashion-MNIST images).") var ambient = 784
  @Option(help: "Images per batch.") var batchSize = 32
  @Option(parsing: .upToNextOption, help: "Estimators: exact, stochastic.") var estimators = ["exact", "stochastic"]
  @Option(help: "Hutchinson probes K per image (Swift's default).") var probes = HutchinsonSettings().probes
  @Option(help: "CG tolerance on ‖r‖/‖ε‖.") var cgTolerance = HutchinsonSettings().tolerance
  @Option(help: "CG iteration cap (default d).") var cgMaxIterations: Int?
  @Option(help: "Affine couplings of f.") var couplings = 4
  @Option(help: "Hidden widths of f's couplings, comma-separated.") var hidden = "256"
  @Option(help: "Affine couplings of the prior.") var priorCouplings = 3
  @Option(help: "Hidden widths of the prior's couplings, comma-separated.") var priorHidden = "64,64"
  @Option(help: "β, the weight of the squared reconstruction error.") var beta = 50.0
  @Option(help: "Adam's learning rate.") var lr = 1e-3
  @Option(help: "Global gradient-norm clip (0: none).") var clip = 100.0
  @Flag(help: "Train on seeded random pixels even when Fashion-MNIST is present.") var randomData = false
  @Option(help: "The peer's torch threads (default: FlowTensor's thread count).") var peerThreads: Int?
  @Option(help: ArgumentHelp("Run one case, estimator:d, in this process and print its rows as JSON (used by the parent run).", visibility: .hidden))
  var singleCase: String?
  @Option(help: "Instead of timing: trace CG iterations over stochastic training, e.g. d=20,steps=200[,every=50,window=10].")
  var cgTrace: String?
  @Option(help: "CG trace: steps over which the likelihood weight ramps from 0 to 1 (flows train rectangular's image default).")
  var traceWarmup = 100
  @Flag(help: "Only check that the peer computes Swift's losses and gradients (no timing).") var check = false
  @Option(help: "Check: the latent size d.") var checkLatentDim = 5
  @Option(help: "Check: images in the batch.") var checkBatchSize = 8

  static let allEstimators = ["exact", "stochastic"]

  var latentSizes: [Int] {
    latentDims.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
  }

  static func widths(_ text: String) -> [Int]? {
    let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else { return nil }
    return values.map { $0! }
  }

  func validate() throws {
    let sizes = latentSizes
    guard !sizes.isEmpty, sizes.count == latentDims.split(separator: ",").count,
      sizes.allSatisfy({ $0 >= 1 && $0 <= ambient })
    else { throw ValidationError("--latent-dims '\(latentDims)' must be comma-separated sizes in 1...\(ambient)") }
    if let unknown = estimators.first(where: { !Self.allEstimators.contains($0) }) {
      throw ValidationError("unknown estimator '\(unknown)'; choose among exact, stochastic")
    }
    guard ambient >= 2, batchSize >= 1, probes >= 1, couplings >= 0, priorCouplings >= 0 else {
      throw ValidationError("need --ambient ≥ 2, --batch-size ≥ 1, --probes ≥ 1 and couplings ≥ 0")
    }
    guard cgTolerance >= 0, cgMaxIterations.map({ $0 >= 1 }) ?? true, beta >= 0, lr > 0, clip >= 0 else {
      throw ValidationError("need --cg-tolerance ≥ 0, --cg-max-iterations ≥ 1, --beta ≥ 0, --lr > 0, --clip ≥ 0")
    }
    guard Self.widths(hidden) != nil, Self.widths(priorHidden) != nil else {
      throw ValidationError("--hidden and --prior-hidden must be comma-separated positive widths")
    }
    if let singleCase, Self.parseCase(singleCase, ambient: ambient) == nil {
      throw ValidationError("--single-case '\(singleCase)' is not exact:<d> or stochastic:<d> with 1 ≤ d ≤ \(ambient)")
    }
    if let cgTrace {
      let trace = try RectangularCGTrace(parsing: cgTrace)
      guard trace.latentSize <= ambient else { throw ValidationError("--cg-trace: d = \(trace.latentSize) exceeds D = \(ambient)") }
    }
    guard checkLatentDim >= 1, checkLatentDim <= ambient, checkBatchSize >= 1 else {
      throw ValidationError("need 1 ≤ --check-latent-dim ≤ D and --check-batch-size ≥ 1")
    }
  }

  static func parseCase(_ text: String, ambient: Int) -> (estimator: String, latentSize: Int)? {
    let parts = text.split(separator: ":")
    guard parts.count == 2, allEstimators.contains(String(parts[0])), let d = Int(parts[1]), d >= 1, d <= ambient
    else { return nil }
    return (String(parts[0]), d)
  }

  var settings: RectangularBenchmarkSettings {
    RectangularBenchmarkSettings(
      ambientSize: ambient, batchSize: batchSize, couplingLayers: couplings, hiddenSizes: Self.widths(hidden)!,
      priorCouplingLayers: priorCouplings, priorHiddenSizes: Self.widths(priorHidden)!,
      hutchinson: HutchinsonSettings(probes: probes, tolerance: cgTolerance, maximumIterations: cgMaxIterations),
      reconstructionWeight: beta, learningRate: lr, maximumGradientNorm: clip == 0 ? nil : clip)
  }

  /// The torch threads: as many as FlowTensor uses unless told.
  var peerThreadCount: Int { peerThreads ?? Parallel.threadCount }

  func run() throws {
    options.configure()
    if let singleCase {
      let (estimator, d) = Self.parseCase(singleCase, ambient: ambient)!
      var report = Report(suite: "rectangular")
      measureCase(estimator: estimator, latentSize: d, into: &report)
      report.print(json: true)
      return
    }
    var report = Report(suite: "rectangular")
    if check || options.peers {
      report.notes += RectangularPeerCheck(settings: settings, latentSize: checkLatentDim, batchSize: checkBatchSize)
        .run(python: options.python, threads: 1)
      if check {
        if options.json {
          report.print(json: true)
        } else {
          for note in report.notes { Swift.print(note) }
        }
        return
      }
    }
    if let cgTrace {
      let trace = try RectangularCGTrace(parsing: cgTrace)
      try trace.run(
        settings: settings, warmup: traceWarmup, randomData: randomData, peers: options.peers,
        python: options.python, into: &report)
      if options.json {
        report.print(json: true)
      } else {
        trace.printTable(report)
      }
      return
    }
    // The peer starts from Swift's initial model and batch (files written here).
    let directory = try RectangularProcesses.temporaryDirectory("flowbench-rectangular")
    defer { try? FileManager.default.removeItem(at: directory) }
    let batch = options.peers ? timingBatch() : nil
    for d in latentSizes {
      var start: [String] = []
      if let (x, source) = batch {
        let configuration = settings.configuration(latentSize: d, seed: 0)
        let model = RealNVPRectangularFlow<Float>(configuration: configuration)
        let parametersURL = directory.appendingPathComponent("initial-\(d).safetensors")
        let batchURL = directory.appendingPathComponent("batch.safetensors")
        try model.save(to: parametersURL, metadata: RectangularProcesses.metadata(of: model, configuration: configuration))
        try Safetensors.write(["x": x], metadata: ["source": "Swift's batch of \(source)"], to: batchURL)
        start = ["--start", parametersURL.path, batchURL.path]
      }
      for estimator in Self.allEstimators where estimators.contains(estimator) {
        runChild(estimator: estimator, latentSize: d, into: &report)
        if options.peers {
          var peer = Report(suite: "rectangular")
          Peers.run(
            script: "torch_rectangular.py",
            arguments: ["--case", "\(estimator):\(d)", "--repetitions", "\(options.repetitions)",
                        "--warmups", "\(options.warmups)", "--threads", "\(peerThreadCount)"]
              + settings.peerArguments + start,
            python: options.python, into: &peer)
          report.rows += peer.rows
          report.notes += peer.notes
        }
      }
    }
    // Every case's process states its data and the peer its torch version: keep each note once.
    var seen = Set<String>()
    report.notes = report.notes.filter { seen.insert($0).inserted }
    if options.json {
      report.print(json: true)
    } else {
      RectangularTable(latentSizes: latentSizes, estimators: Self.allEstimators.filter(estimators.contains))
        .print(report)
    }
  }

  /// Times one case in this process and adds its rows: the body of a child
  /// run. The model (seed 0) and the batch (``timingBatch()``) are those the
  /// parent hands to the peer.
  func measureCase(estimator: String, latentSize d: Int, into report: inout Report) {
    let settings = self.settings
    let (x, source) = timingBatch()
    var step = RectangularTrainingStep(
      settings: settings, model: RealNVPRectangularFlow<Float>(configuration: settings.configuration(latentSize: d, seed: 0)),
      estimator: settings.estimator(named: estimator)!, seed: 1)
    let isPeakReset = ResidentMemory.resetPeak()
    let baseline = ResidentMemory.current
    var counts: [Int] = []
    let timing = measure(warmups: options.warmups, repetitions: options.repetitions) {
      if let count = step.run(on: x) { counts.append(count) }
    }
    let peak = ResidentMemory.peak
    var sizes: [(key: String, value: Int)] = [("ambient", ambient), ("batch", batchSize), ("latent", d)]
    if estimator == "stochastic" { sizes.append(("probes", probes)) }
    func row(_ caseName: String, unit: String, _ values: [Double]) -> ResultRow {
      ResultRow(
        caseName: caseName, implementation: "swift", sizes: sizes, dtype: "float32", unit: unit,
        median: values.reduce(0, +) / Double(values.count), minimum: values.min()!, maximum: values.max()!)
    }
    report.rows.append(
      ResultRow(caseName: "training-step-\(estimator)", implementation: "swift", sizes: sizes, dtype: "float32", unit: "ms", timing: timing))
    report.rows.append(row("peak-memory-\(estimator)", unit: "MB", [peak]))
    report.rows.append(row("memory-growth-\(estimator)", unit: "MB", [peak - baseline]))
    if estimator == "stochastic" && !counts.isEmpty {
      // The mean, not the median: the table reads it as the CG cost per step.
      report.rows.append(row("cg-iterations-stochastic", unit: "iterations", counts.map(Double.init)))
    }
    report.notes.append("swift: \(Parallel.threadCount) threads; data: \(source)")
    if !isPeakReset { report.notes.append("swift: could not reset the peak resident set; its peaks include loading the data") }
    if step.skippedSteps > 0 {
      report.notes.append("swift \(estimator):\(d): \(step.skippedSteps) skipped steps (JᵀJ singular or gradient not finite)")
    }
  }

  /// The batch a case trains on, dequantized once; the data set it came
  /// from is released on return, so that it does not count in the case's memory.
  func timingBatch() -> (Tensor<Float>, String) {
    let (data, source, _) = RectangularBenchmarkData.images(ambientSize: ambient, count: batchSize, random: randomData)
    var noise = SeededGenerator(seed: 0)
    return (data.batch(Array(0..<batchSize).map { $0 % data.count }, as: Float.self, using: &noise), source)
  }

  /// Runs `flowbench rectangular --single-case estimator:d` (this executable)
  /// and adds its rows, so that the peak memory is the case's own.
  func runChild(estimator: String, latentSize d: Int, into report: inout Report) {
    var arguments = [
      "rectangular", "--single-case", "\(estimator):\(d)", "--latent-dims", "\(d)",
      "--repetitions", "\(options.repetitions)", "--warmups", "\(options.warmups)",
    ]
    arguments += settings.peerArguments
    if randomData { arguments.append("--random-data") }
    if options.measuredPlans { arguments.append("--measured-plans") }
    let object: [String: Any]
    switch RectangularProcesses.runJSON(executable: RectangularProcesses.executable, arguments: arguments) {
    case .success(let value): object = value
    case .failure(let failure):
      report.notes.append("swift \(estimator):\(d) failed: \(failure.reason)")
      return
    }
    let results = object["results"] as? [[String: Any]] ?? []
    report.rows += results.compactMap(ResultRow.init(json:))
    report.notes += object["notes"] as? [String] ?? []
  }
}
