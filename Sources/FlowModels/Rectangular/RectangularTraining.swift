import FlowLayers
import FlowTensor

/// What a training run of a rectangular flow recorded, step by step.
public struct RectangularTrainingLog: Codable, Equatable, Sendable {
  /// The loss of each completed step (for the stochastic estimator the
  /// surrogate's value, meaningful only as a trend).
  public var losses: [Double] = []
  /// The batch mean of ‖x − g(g†(x))‖² at each completed step.
  public var reconstructionErrors: [Double] = []
  /// The CG iterations of each step (stochastic estimator; empty otherwise).
  public var conjugateGradientIterations: [Int] = []
  /// Steps whose loss could not be computed (JᵀJ singular after every
  /// jitter retry) or whose gradient was not finite: no update was made.
  public var skippedSteps: Int = 0
  /// Wall-clock seconds of the training loop alone.
  public var seconds: Double = 0

  public init() {}
}

/// The learning-rate and gradient settings of a training run.
public struct RectangularOptimization: Codable, Equatable, Sendable {
  /// Adam steps.
  public var steps: Int
  /// Adam's rate at step 0.
  public var learningRate: Double
  /// The rate reached at the last step by a half-cosine decay
  /// (``FlowTensor/CosineDecay``); equal to `learningRate` for a constant rate.
  public var finalLearningRate: Double
  /// Gradients are clipped to this global norm (`nil`: no clipping).
  public var maximumGradientNorm: Double?

  /// - Parameters:
  ///   - steps: ≥ 0.
  ///   - learningRate: > 0.
  ///   - finalLearningRate: in [0, learningRate]; `nil` for a constant rate.
  ///   - maximumGradientNorm: > 0, or `nil`.
  public init(steps: Int, learningRate: Double = 1e-3, finalLearningRate: Double? = nil, maximumGradientNorm: Double? = nil) {
    precondition(steps >= 0, "RectangularOptimization: steps \(steps) is negative")
    precondition(learningRate > 0, "RectangularOptimization: learning rate \(learningRate) must be positive")
    let final = finalLearningRate ?? learningRate
    precondition(
      final >= 0 && final <= learningRate,
      "RectangularOptimization: final learning rate \(final) is not in [0, \(learningRate)]")
    precondition(
      maximumGradientNorm.map { $0 > 0 } ?? true,
      "RectangularOptimization: maximum gradient norm \(maximumGradientNorm!) must be positive")
    self.steps = steps
    self.learningRate = learningRate
    self.finalLearningRate = final
    self.maximumGradientNorm = maximumGradientNorm
  }

  /// The rate of update step `step`.
  public func learningRate(atStep step: Int) -> Double {
    CosineDecay(initial: learningRate, minimum: finalLearningRate, decaySteps: max(1, steps - 1))
      .learningRate(atStep: step)
  }
}

extension RectangularFlow {
  /// Trains with Adam on batches drawn by `nextBatch`, the loop shared by
  /// the manifold and image experiments.
  ///
  /// A step whose loss throws (JᵀJ singular after every jitter retry) or
  /// whose gradient is not finite makes no update and is counted in
  /// ``RectangularTrainingLog/skippedSteps``, so one bad batch does not end
  /// a run.
  /// - Parameters:
  ///   - objective: the estimator, β and warm-up.
  ///   - optimization: steps, learning rates, clipping.
  ///   - generator: draws the batches (through `nextBatch`) and the probes.
  ///   - nextBatch: a batch `[batch, D]`.
  /// - Returns: the log of the run.
  mutating func train(
    objective: RectangularFlowObjective, optimization: RectangularOptimization, using generator: inout SeededGenerator,
    nextBatch: (inout SeededGenerator) -> Tensor<Scalar>
  ) -> RectangularTrainingLog {
    var log = RectangularTrainingLog()
    var optimizer = Adam<Scalar>(learningRate: optimization.learningRate)
    let clock = ContinuousClock()
    let start = clock.now
    for step in 0..<optimization.steps {
      let batch = nextBatch(&generator)
      var report: RectangularFlowLoss<Scalar>? = nil
      guard
        let (value, gradientsComputed) = try? valueWithGradient(at: self, in: { model -> Tensor<Scalar> in
          let loss = try model.loss(on: batch, objective: objective, step: step, using: &generator)
          report = loss
          return loss.value
        })
      else {
        log.skippedSteps += 1
        continue
      }
      var gradients = gradientsComputed
      let norm: Double
      if let maximum = optimization.maximumGradientNorm {
        norm = Double(clipByGlobalNorm(&gradients, maximumNorm: Scalar(maximum)))
      } else {
        norm = gradients.values.reduce(0) { $0 + Double(($1 * $1).sum().scalar) }
      }
      guard value.scalar.isFinite, norm.isFinite else {
        log.skippedSteps += 1
        continue
      }
      log.losses.append(Double(value.scalar))
      if let report {
        log.reconstructionErrors.append(report.reconstructionError)
        if let count = report.conjugateGradientIterations { log.conjugateGradientIterations.append(count) }
      }
      optimizer.learningRate = optimization.learningRate(atStep: step)
      optimizer.update(&self, along: gradients)
    }
    log.seconds = (clock.now - start).seconds
    return log
  }
}

extension Duration {
  /// The duration in seconds.
  var seconds: Double {
    Double(components.seconds) + Double(components.attoseconds) * 1e-18
  }
}

// Decoding goes through the checked initialiser (RectangularFlow+Codable.swift).
extension RectangularOptimization {
  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let steps = try container.decode(Int.self, forKey: .steps)
    let rate = try container.decode(Double.self, forKey: .learningRate)
    let final = try container.decodeIfPresent(Double.self, forKey: .finalLearningRate)
    let norm = try container.decodeIfPresent(Double.self, forKey: .maximumGradientNorm)
    try requireDecoded(steps >= 0, "steps \(steps) is negative", key: .steps, in: container)
    try requireDecoded(rate > 0, "learning rate \(rate) must be positive", key: .learningRate, in: container)
    try requireDecoded(
      final.map { $0 >= 0 && $0 <= rate } ?? true, "final learning rate is not in [0, \(rate)]",
      key: .finalLearningRate, in: container)
    try requireDecoded(norm.map { $0 > 0 } ?? true, "maximum gradient norm must be positive", key: .maximumGradientNorm, in: container)
    self.init(steps: steps, learningRate: rate, finalLearningRate: final, maximumGradientNorm: norm)
  }
}
