import FlowLayers
import FlowModels
import FlowTensor
import Foundation

/// The architecture and training settings that `flowbench rectangular`
/// and its peer share: by default those of `flows train rectangular
/// --dataset fashion-mnist` (`RectangularRunDefaults.images` in the `flows`
/// target: 4 couplings of one hidden layer of 256 in f, 3 couplings of
/// [64, 64] in the prior, β = 50, Adam at 1e-3, gradients clipped to norm
/// 100, K = 1 Gaussian probe, CG tolerance 1e-3 and cap d).
struct RectangularBenchmarkSettings {
  var ambientSize: Int
  var batchSize: Int
  var couplingLayers: Int
  var hiddenSizes: [Int]
  var priorCouplingLayers: Int
  var priorHiddenSizes: [Int]
  var hutchinson: HutchinsonSettings
  var reconstructionWeight: Double
  var learningRate: Double
  /// `nil`: no clipping.
  var maximumGradientNorm: Double?

  func configuration(latentSize: Int, seed: UInt64) -> RectangularFlowConfiguration {
    RectangularFlowConfiguration(
      ambientSize: ambientSize, latentSize: latentSize, couplingLayers: couplingLayers, hiddenSizes: hiddenSizes,
      priorCouplingLayers: priorCouplingLayers, priorHiddenSizes: priorHiddenSizes, seed: seed)
  }

  /// The estimator named `exact` or `stochastic`.
  func estimator(named name: String) -> RectangularFlowEstimator? {
    switch name {
    case "exact": return .exact
    case "stochastic": return .stochastic(hutchinson)
    default: return nil
    }
  }

  /// The peer's options for these settings (everything but the mode).
  var peerArguments: [String] {
    var arguments = [
      "--ambient", "\(ambientSize)", "--batch-size", "\(batchSize)", "--couplings", "\(couplingLayers)",
      "--hidden", hiddenSizes.map(String.init).joined(separator: ","), "--prior-couplings", "\(priorCouplingLayers)",
      "--prior-hidden", priorHiddenSizes.map(String.init).joined(separator: ","), "--probes", "\(hutchinson.probes)",
      "--cg-tolerance", "\(hutchinson.tolerance)", "--beta", "\(reconstructionWeight)", "--lr", "\(learningRate)",
      "--clip", "\(maximumGradientNorm ?? 0)",
    ]
    if let cap = hutchinson.maximumIterations { arguments += ["--cg-max-iterations", "\(cap)"] }
    return arguments
  }
}

/// One training step of `flows train rectangular` at a time, in Float: the
/// loss of ``RectangularFlow/loss(on:objective:step:using:)``, its
/// gradient, global-norm clipping and an Adam update; a step whose loss
/// throws (JᵀJ singular after every jitter retry) or whose gradient is not
/// finite makes no update, as the ``Trainer``'s and the peer's.
struct RectangularTrainingStep {
  var model: RealNVPRectangularFlow<Float>
  var optimizer: Adam<Float>
  let objective: RectangularFlowObjective
  let maximumGradientNorm: Double?
  /// Draws the Hutchinson probes.
  var generator: SeededGenerator
  /// Steps run so far (the likelihood warm-up's position).
  private(set) var step = 0
  private(set) var skippedSteps = 0

  init(settings: RectangularBenchmarkSettings, model: RealNVPRectangularFlow<Float>, estimator: RectangularFlowEstimator,
       warmup: LikelihoodWarmup = .none, seed: UInt64) {
    self.model = model
    optimizer = Adam<Float>(learningRate: settings.learningRate)
    objective = RectangularFlowObjective(
      estimator: estimator, reconstructionWeight: settings.reconstructionWeight, warmup: warmup)
    maximumGradientNorm = settings.maximumGradientNorm
    generator = SeededGenerator(seed: seed)
  }

  /// Runs one step on `x` (`[batch, D]`).
  /// - Returns: the step's CG iterations (the largest over its rows) for the
  ///   stochastic estimator, `nil` for the exact one or a skipped step.
  mutating func run(on x: Tensor<Float>) -> Int? {
    let objective = self.objective
    let step = self.step
    var generator = self.generator
    var report: RectangularFlowLoss<Float>? = nil
    let result = try? valueWithGradient(at: model) { model -> Tensor<Float> in
      let loss = try model.loss(on: x, objective: objective, step: step, using: &generator)
      report = loss
      return loss.value
    }
    self.generator = generator
    self.step += 1
    guard let (value, computed) = result else {
      skippedSteps += 1
      return nil
    }
    var gradients = computed
    let norm: Double
    if let maximum = maximumGradientNorm {
      norm = Double(clipByGlobalNorm(&gradients, maximumNorm: Float(maximum)))
    } else {
      norm = gradients.values.reduce(0) { $0 + Double(($1 * $1).sum().scalar) }
    }
    guard value.scalar.isFinite, norm.isFinite else {
      skippedSteps += 1
      return report?.conjugateGradientIterations
    }
    optimizer.update(&model, along: gradients)
    return report?.conjugateGradientIterations
  }
}

/// The images a case trains on.
enum RectangularBenchmarkData {
  /// Fashion-MNIST's training images when D = 784 and the files are
  /// present (unless `random`), else `count` seeded random images of D
  /// pixels; a sentence saying which, and whether they are the random ones.
  static func images(
    ambientSize: Int, count: Int, random: Bool
  ) -> (set: RectangularTrainingSet, source: String, isRandom: Bool) {
    if ambientSize == 784 && !random, let images = try? ImageDataset.fashionMNIST(split: .train) {
      return (
        RectangularTrainingSet(.images(images)), "Fashion-MNIST (\(ImageDataset.defaultFashionMNISTDirectory.path))", false
      )
    }
    var generator = SeededGenerator(seed: 0x7069_7865_6c73)
    let pixels = (0..<(count * ambientSize)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    let set = RectangularTrainingSet(
      .images(ImageDataset(pixels: pixels, labels: [UInt8](repeating: 0, count: count), rows: 1, columns: ambientSize)))
    return (set, "seeded random pixels", true)
  }
}

/// The resident memory of this process, from Linux's `/proc/self/status`.
enum ResidentMemory {
  /// Starts a new peak: resets VmHWM to the current resident set (writing
  /// "5" to `/proc/self/clear_refs`, Linux ≥ 4.0), so that a case's peak
  /// leaves out what loading its data took and gave back.
  /// - Returns: whether the reset worked (else the peak is the process's).
  static func resetPeak() -> Bool {
    (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
  }

  /// The current resident set, MB.
  static var current: Double { field("VmRSS") ?? .nan }

  /// The peak resident set since the last ``resetPeak()`` (or since the
  /// process started), MB.
  static var peak: Double {
    if let value = field("VmHWM") { return value }
    // Linux reports ru_maxrss in kilobytes.
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
  }

  /// A "Key:   1234 kB" line of `/proc/self/status`, in MB.
  private static func field(_ key: String) -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
      let number = line.dropFirst(key.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first
      return number.flatMap { Double($0) }.map { $0 / 1024 }
    }
    return nil
  }
}
