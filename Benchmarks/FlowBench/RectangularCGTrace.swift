import ArgumentParser
import FlowLayers
import FlowModels
import FlowTensor
import Foundation

/// `flowbench rectangular --cg-trace d=20,steps=200`: how many CG
/// iterations the stochastic estimator needs as training goes (JᵀJ's
/// conditioning worsens as g moves away from the padding), in Swift and in
/// the peer.
///
/// Both train from the same initial model (Swift writes its parameters and
/// padding permutation, the peer loads them) on the same batches (Swift
/// draws the image indices and hands them over), with the likelihood warm-up
/// of `flows train rectangular`'s image runs; the dequantization noise and
/// the probes come from each side's own generator. The figure at step s is
/// the mean, over the `window` steps from s, of the CG iterations of a step
/// (the largest over its rows), so the run lasts `steps + window` steps.
struct RectangularCGTrace {
  var latentSize = 20
  var steps = 200
  var every = 50
  var window = 10

  /// - Parameters:
  ///   - text: `d=20,steps=200`, optionally `,every=50,window=10`.
  init(parsing text: String) throws {
    for item in text.split(separator: ",") {
      let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      guard pair.count == 2, let value = Int(pair[1]), value >= (pair[0] == "steps" ? 0 : 1) else {
        throw ValidationError("--cg-trace: '\(item)' is not key=positive integer")
      }
      switch pair[0] {
      case "d": latentSize = value
      case "steps": steps = value
      case "every": every = value
      case "window": window = value
      default: throw ValidationError("--cg-trace: unknown key '\(pair[0])'; use d, steps, every, window")
      }
    }
  }

  /// The steps reported: 0, every, 2·every, … up to `steps`.
  var checkpoints: [Int] { Array(stride(from: 0, through: steps, by: every)) }

  var totalSteps: Int { (checkpoints.last ?? 0) + window }

  func run(
    settings: RectangularBenchmarkSettings, warmup: Int, randomData: Bool, peers: Bool, python: String,
    into report: inout Report
  ) throws {
    let (data, source, isRandom) = RectangularBenchmarkData.images(
      ambientSize: settings.ambientSize, count: 1000, random: randomData)
    var batchGenerator = SeededGenerator(seed: 2)
    let batches = (0..<totalSteps).map { _ in
      (0..<settings.batchSize).map { _ in Int(batchGenerator.next(upperBound: UInt64(data.count))) }
    }
    let configuration = settings.configuration(latentSize: latentSize, seed: 0)
    let model = RealNVPRectangularFlow<Float>(configuration: configuration)
    let directory = try RectangularProcesses.temporaryDirectory("flowbench-rectangular-trace")
    defer { try? FileManager.default.removeItem(at: directory) }
    let parametersURL = directory.appendingPathComponent("initial.safetensors")
    let batchesURL = directory.appendingPathComponent("batches.json")
    try model.save(to: parametersURL, metadata: RectangularProcesses.metadata(of: model, configuration: configuration))
    try JSONSerialization.data(withJSONObject: ["batches": batches]).write(to: batchesURL)

    var step = RectangularTrainingStep(
      settings: settings, model: model, estimator: .stochastic(settings.hutchinson),
      warmup: LikelihoodWarmup(start: 0, end: warmup), seed: 1)
    var noise = SeededGenerator(seed: 3)
    var iterations: [Int] = []
    for batch in batches {
      iterations.append(step.run(on: data.batch(batch, as: Float.self, using: &noise)) ?? -1)
    }
    report.rows += rows(iterations, implementation: "swift", settings: settings)
    report.notes.append("CG trace: swift \(Parallel.threadCount) threads; data: \(source)")
    if step.skippedSteps > 0 { report.notes.append("CG trace: swift skipped \(step.skippedSteps) steps") }
    guard peers else { return }
    // One torch thread: the trace counts iterations, it times nothing.
    var arguments =
      ["--trace", parametersURL.path, batchesURL.path, "--warmup", "\(warmup)", "--threads", "1"]
      + settings.peerArguments
    if isRandom, case .images(let images) = data.items {
      // Random pixels: hand them over, so that the peer trains on the same images.
      let pixelsURL = directory.appendingPathComponent("pixels.safetensors")
      let pixels = images.batch(Array(0..<images.count), as: Float.self).images
      try Safetensors.write(["pixels": pixels.reshaped(to: [images.count, images.imageSize])], to: pixelsURL)
      arguments += ["--pixels", pixelsURL.path]
    }
    switch RectangularProcesses.runPeer(python: python, arguments: arguments) {
    case .success(let object):
      let counts = (object["iterations"] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.intValue }
      report.rows += rows(counts, implementation: "torch", settings: settings)
      report.notes += (object["notes"] as? [String] ?? []).map { "CG trace: \($0)" }
      if let skipped = (object["skipped"] as? NSNumber)?.intValue, skipped > 0 {
        report.notes.append("CG trace: torch skipped \(skipped) steps")
      }
    case .failure(let failure):
      report.notes.append("CG trace: peer torch_rectangular.py skipped: \(failure.reason)")
    }
  }

  /// One `cg-trace` row per checkpoint: the mean iterations of the window's
  /// steps that ran (a skipped step's −1 left out).
  func rows(_ iterations: [Int], implementation: String, settings: RectangularBenchmarkSettings) -> [ResultRow] {
    checkpoints.compactMap { start in
      let counts = iterations.dropFirst(start).prefix(window).filter { $0 >= 0 }.map(Double.init)
      guard !counts.isEmpty else { return nil }
      return ResultRow(
        caseName: "cg-trace", implementation: implementation,
        sizes: [("ambient", settings.ambientSize), ("batch", settings.batchSize), ("latent", latentSize),
                ("probes", settings.hutchinson.probes), ("step", start), ("window", window)],
        dtype: "float32", unit: "iterations", median: counts.reduce(0, +) / Double(counts.count),
        minimum: counts.min()!, maximum: counts.max()!)
    }
  }

  func printTable(_ report: Report) {
    Swift.print("flowbench rectangular --cg-trace: d = \(latentSize), \(totalSteps) stochastic training steps")
    for note in report.notes { Swift.print("note: \(note)") }
    func value(_ implementation: String, _ step: Int) -> String {
      report.rows.first { $0.caseName == "cg-trace" && $0.implementation == implementation && $0.size("step") == step }
        .map { String(format: "%.1f (%.0f-%.0f)", $0.median, $0.minimum, $0.maximum) } ?? "-"
    }
    let header = ["step", "CG it. Swift (min-max)", "CG it. PyTorch (min-max)"]
    let table = [header] + checkpoints.map { ["\($0)", value("swift", $0), value("torch", $0)] }
    let widths = header.indices.map { column in table.map { $0[column].count }.max()! }
    for line in table {
      Swift.print(
        line.indices.map { line[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
    Swift.print(
      "CG it.: mean over steps s..<s+\(window) of the CG iterations per step (the largest over the step's rows); "
        + "the cap is d unless --cg-max-iterations.")
  }
}
