import FlowTensor
import Foundation

/// How a ``Trainer`` runs: optimizer, learning rate and warm-up, clipping,
/// batches, when to evaluate and save, when to stop, and the seed.
///
/// Stored in every checkpoint (``jsonString``). Resuming with the same
/// values continues the run exactly; ``stop``, ``evaluateEvery``,
/// ``checkpointEvery`` and ``logInterval`` may change between runs without
/// changing the losses.
public struct TrainingConfiguration: Codable, Equatable, Sendable {
  /// The optimizer, as PyTorch's of the same name.
  public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    /// ``FlowTensor/Adam``, weight decay added to the gradient.
    case adam
    /// ``FlowTensor/AdamW``, decoupled weight decay.
    case adamW = "adamw"
  }

  /// When the run ends.
  public enum Stop: Codable, Equatable, Sendable {
    /// After update step `N` in total (counting the steps of the runs a
    /// checkpoint resumes).
    case steps(Int)
    /// When this many seconds of this run have passed (checked before each
    /// step; the step under way finishes).
    case timeBudget(seconds: Double)

    private enum CodingKeys: String, CodingKey { case steps, timeBudgetSeconds }

    /// Encoded as `{"steps": N}` or `{"timeBudgetSeconds": S}`.
    public func encode(to encoder: Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      switch self {
      case .steps(let steps): try container.encode(steps, forKey: .steps)
      case .timeBudget(let seconds): try container.encode(seconds, forKey: .timeBudgetSeconds)
      }
    }

    public init(from decoder: Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      if let steps = try container.decodeIfPresent(Int.self, forKey: .steps) {
        self = .steps(steps)
      } else if let seconds = try container.decodeIfPresent(Double.self, forKey: .timeBudgetSeconds) {
        self = .timeBudget(seconds: seconds)
      } else {
        throw DecodingError.dataCorrupted(
          .init(codingPath: decoder.codingPath, debugDescription: "a stop needs 'steps' or 'timeBudgetSeconds'"))
      }
    }
  }

  public var optimizer: OptimizerKind
  /// The peak learning rate, reached at the end of the warm-up.
  public var learningRate: Double
  /// Per-group multipliers of the learning rate (schedule included), by
  /// layer path (PyTorch's parameter groups); `nil` or empty: every
  /// parameter at ``learningRate``. Stored with the configuration, so a
  /// resumed run keeps them. Absent from the JSON when `nil`.
  public var learningRateGroups: [LearningRateGroup]?
  /// λ of the optimizer's weight decay (0: none).
  public var weightDecay: Double
  /// W: the rate ramps linearly from η/W to η over the first W steps
  /// (``FlowTensor/LinearWarmup``); 0 or 1 for none.
  public var warmupSteps: Int
  /// N of a cosine decay after the warm-up: the rate falls from
  /// ``learningRate`` at step W to ``finalLearningRate`` at step N and stays
  /// there (``FlowTensor/WarmupCosineDecay``, as TarFlow's training);
  /// `nil`: constant after the warm-up. Absent from the JSON when `nil`, so
  /// configurations written before it decode unchanged.
  public var decaySteps: Int?
  /// η_min, the rate the cosine decay ends at; `nil` for 0.
  public var finalLearningRate: Double?
  /// The largest global gradient norm let through (``FlowTensor/clipByGlobalNorm(_:maximumNorm:)``);
  /// `nil` for no clipping.
  public var gradientClipNorm: Double?
  /// Items per training batch.
  public var batchSize: Int
  /// Evaluate on the held-out set every this many steps (0: only at the end).
  public var evaluateEvery: Int
  /// The held-out items of the periodic evaluations (the first ones of the
  /// held-out set); `nil` for all.
  public var evaluationCount: Int?
  /// The held-out items of the evaluation at the end; `nil` for all.
  public var finalEvaluationCount: Int?
  /// Items per evaluation batch (a memory bound; the figure does not depend on it
  /// beyond rounding).
  public var evaluationBatchSize: Int
  /// Save a checkpoint every this many steps (0: only at the end).
  public var checkpointEvery: Int
  /// Record a training-curve point (the mean loss since the last one)
  /// every this many steps.
  public var recordEvery: Int
  /// Seconds between plain log lines when standard error is not a terminal.
  public var logInterval: Double
  public var stop: Stop
  /// Fixes the batch order and every random draw of training.
  public var seed: UInt64

  public init(
    optimizer: OptimizerKind = .adam, learningRate: Double = 1e-3, weightDecay: Double = 0, warmupSteps: Int = 100,
    gradientClipNorm: Double? = 100, batchSize: Int = 64, evaluateEvery: Int = 500, evaluationCount: Int? = 1000,
    finalEvaluationCount: Int? = nil, evaluationBatchSize: Int = 500, checkpointEvery: Int = 1000,
    recordEvery: Int = 25, logInterval: Double = 5, stop: Stop = .steps(1000), seed: UInt64 = 0,
    learningRateGroups: [LearningRateGroup]? = nil, decaySteps: Int? = nil, finalLearningRate: Double? = nil
  ) {
    self.optimizer = optimizer
    self.learningRate = learningRate
    self.learningRateGroups = learningRateGroups
    self.weightDecay = weightDecay
    self.warmupSteps = warmupSteps
    self.decaySteps = decaySteps
    self.finalLearningRate = finalLearningRate
    self.gradientClipNorm = gradientClipNorm
    self.batchSize = batchSize
    self.evaluateEvery = evaluateEvery
    self.evaluationCount = evaluationCount
    self.finalEvaluationCount = finalEvaluationCount
    self.evaluationBatchSize = evaluationBatchSize
    self.checkpointEvery = checkpointEvery
    self.recordEvery = recordEvery
    self.logInterval = logInterval
    self.stop = stop
    self.seed = seed
  }

  /// The seed of the evaluation's random draws (the dequantisation noise):
  /// fixed by ``seed`` and independent of the training stream, so that an
  /// evaluation of a checkpoint repeats the figure the run reported.
  public var evaluationSeed: UInt64 { seed ^ 0x5EED_0F_E7A1_0000 }

  /// What makes the configuration unusable, in one sentence; `nil` when valid.
  public var problem: String? {
    if !(learningRate.isFinite && learningRate >= 0) { return "learning rate \(learningRate) must be finite and ≥ 0" }
    if !(weightDecay.isFinite && weightDecay >= 0) { return "weight decay \(weightDecay) must be finite and ≥ 0" }
    if let group = learningRateGroups?.first(where: { !($0.multiplier.isFinite && $0.multiplier >= 0) }) {
      return "the learning-rate multiplier \(group.multiplier) of '\(group.path)' must be finite and ≥ 0"
    }
    if warmupSteps < 0 { return "warm-up steps \(warmupSteps) must be ≥ 0" }
    if let decaySteps, decaySteps <= warmupSteps {
      return "decay steps \(decaySteps) must be more than the warm-up steps \(warmupSteps)"
    }
    if let finalLearningRate, !(finalLearningRate >= 0 && finalLearningRate <= learningRate) {
      return "final learning rate \(finalLearningRate) must be in 0…\(learningRate) (the peak)"
    }
    if finalLearningRate != nil && decaySteps == nil { return "a final learning rate needs decay steps" }
    if let clip = gradientClipNorm, !(clip > 0) { return "gradient clip norm \(clip) must be > 0" }
    if batchSize < 1 { return "batch size \(batchSize) must be ≥ 1" }
    if evaluateEvery < 0 { return "evaluate-every \(evaluateEvery) must be ≥ 0" }
    if let count = evaluationCount, count < 1 { return "evaluation count \(count) must be ≥ 1" }
    if let count = finalEvaluationCount, count < 1 { return "final evaluation count \(count) must be ≥ 1" }
    if evaluationBatchSize < 1 { return "evaluation batch size \(evaluationBatchSize) must be ≥ 1" }
    if checkpointEvery < 0 { return "checkpoint-every \(checkpointEvery) must be ≥ 0" }
    if recordEvery < 1 { return "record-every \(recordEvery) must be ≥ 1" }
    if !(logInterval > 0) { return "log interval \(logInterval) must be > 0" }
    switch stop {
    case .steps(let steps) where steps < 1: return "steps \(steps) must be ≥ 1"
    case .timeBudget(let seconds) where !(seconds > 0 && seconds.isFinite):
      return "time budget \(seconds) s must be positive and finite"
    default: return nil
    }
  }

  /// The rate of update step `step` (0-based): the linear warm-up (none
  /// for W ≤ 1), then the peak or the cosine decay.
  public func learningRate(atStep step: Int) -> Double {
    let warmup = warmupSteps <= 1 ? 0 : warmupSteps
    if let decaySteps {
      return WarmupCosineDecay(
        peak: learningRate, minimum: finalLearningRate ?? 0, warmupSteps: warmup, totalSteps: decaySteps
      ).learningRate(atStep: step)
    }
    return warmup == 0 ? learningRate : LinearWarmup(peak: learningRate, warmupSteps: warmup).learningRate(atStep: step)
  }

  /// The configuration as JSON with sorted keys, one line.
  public var jsonString: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // Numbers, strings and optionals only: encoding cannot fail.
    return String(decoding: try! encoder.encode(self), as: UTF8.self)
  }
}
