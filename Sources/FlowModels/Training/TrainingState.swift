import FlowTensor
import Foundation

/// Everything about a run besides the parameters and the optimizer's
/// moments that a checkpoint must hold for the run to continue exactly.
public struct TrainingState: Codable, Equatable, Sendable {
  /// Update steps taken so far, over all runs.
  public var step: Int
  /// The next batches.
  public var sampler: BatchSampler
  /// The stream of the loss's random draws.
  public var generator: SeededGenerator
  /// Whether the model's data-dependent initialisation has run.
  public var isPrepared: Bool
  /// Seconds spent training so far, over all runs (evaluations and saves included).
  public var elapsedSeconds: Double
  /// The losses of the last ``recentWindow`` steps, oldest first.
  public var recentLosses: [Double]
  /// The losses since the last training-curve point.
  public var pendingLossSum: Double
  public var pendingLossCount: Int
  /// The last periodic evaluation and its step.
  public var lastEvaluation: Double?
  public var lastEvaluationStep: Int?
  /// The evaluation at the end of the last run, on ``TrainingConfiguration/finalEvaluationCount`` items.
  public var finalEvaluation: Double?
  /// The training curve so far: series "train" and the held-out split's
  /// (``Trainer/heldOutName``, "test" unless named otherwise).
  public var curve: CurveRecord

  /// The number of recent losses averaged into the reported training figure.
  public static let recentWindow = 100

  /// The state before the first step.
  public init(sampler: BatchSampler, generator: SeededGenerator) {
    step = 0
    self.sampler = sampler
    self.generator = generator
    isPrepared = false
    elapsedSeconds = 0
    recentLosses = []
    pendingLossSum = 0
    pendingLossCount = 0
    curve = CurveRecord()
  }

  /// The mean of ``recentLosses``; `nil` before the first step.
  public var recentMeanLoss: Double? {
    recentLosses.isEmpty ? nil : recentLosses.reduce(0, +) / Double(recentLosses.count)
  }

  mutating func record(loss: Double, recordEvery: Int) {
    recentLosses.append(loss)
    if recentLosses.count > Self.recentWindow { recentLosses.removeFirst(recentLosses.count - Self.recentWindow) }
    pendingLossSum += loss
    pendingLossCount += 1
    if step % recordEvery == 0 { flushTrainingPoint() }
  }

  /// Turns the pending losses into a point of the "train" series.
  mutating func flushTrainingPoint() {
    guard pendingLossCount > 0 else { return }
    curve.append(step: step, value: pendingLossSum / Double(pendingLossCount), to: CurveRecord.training)
    pendingLossSum = 0
    pendingLossCount = 0
  }

  /// JSON with sorted keys; non-finite numbers as the strings "nan", "inf", "-inf".
  var jsonString: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    // Every member encodes; non-finite numbers have their strings.
    return String(decoding: try! encoder.encode(self), as: UTF8.self)
  }

  init(jsonString: String) throws {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    self = try decoder.decode(TrainingState.self, from: Data(jsonString.utf8))
  }
}

/// The training curve in a Codable form: named series of (step, value).
public struct CurveRecord: Codable, Equatable, Sendable {
  public struct Series: Codable, Equatable, Sendable {
    public var name: String
    public var steps: [Int]
    public var values: [Double]
  }

  /// The series' names: the training loss's, and the evaluations' unless
  /// the run names its held-out split otherwise.
  public static let training = "train"
  public static let evaluation = "test"

  public var series: [Series] = []

  public init() {}

  public mutating func append(step: Int, value: Double, to name: String) {
    if let index = series.firstIndex(where: { $0.name == name }) {
      series[index].steps.append(step)
      series[index].values.append(value)
    } else {
      series.append(Series(name: name, steps: [step], values: [value]))
    }
  }

  /// The chart: "<series> <metric>" (e.g. "train bits/dim", "test
  /// bits/dim") against the step.
  public func trainingCurve(title: String, metricName: String) -> TrainingCurve {
    var curve = TrainingCurve(title: title, horizontalLabel: "step", verticalLabel: metricName)
    for line in series {
      for (step, value) in zip(line.steps, line.values) {
        curve.append(step: Double(step), value: value, to: "\(line.name) \(metricName)")
      }
    }
    return curve
  }
}
