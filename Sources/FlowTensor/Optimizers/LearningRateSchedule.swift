import Foundation

/// A learning rate for each update step: step t is the (t+1)-th update, so
/// an optimizer about to make its next update uses
/// `schedule.learningRate(atStep: optimizer.step)` (see
/// ``Optimizer/update(_:along:schedule:)``). This is PyTorch's convention of
/// calling `scheduler.step()` once after each `optimizer.step()`.
public protocol LearningRateSchedule {
  /// The learning rate of update step `step` (counted from 0).
  /// - Parameters:
  ///   - step: at least 0.
  func learningRate(atStep step: Int) -> Double
}

/// The same learning rate at every step.
public struct ConstantLearningRate: LearningRateSchedule {
  public let value: Double

  public init(_ value: Double) { self.value = value }

  public func learningRate(atStep step: Int) -> Double {
    precondition(step >= 0, "ConstantLearningRate: step \(step) is negative")
    return value
  }
}

/// A linear ramp from peak/W up to `peak` over the first W steps, then
/// `peak`:
///
///     η(t) = peak · min(1, (t + 1) / W)
///
/// Every update of the warm-up moves the parameters (η(0) = peak/W, not 0);
/// this is `torch.optim.lr_scheduler.LinearLR(start_factor: 1/W,
/// end_factor: 1, total_iters: W − 1)`.
public struct LinearWarmup: LearningRateSchedule {
  public let peak: Double
  public let warmupSteps: Int

  /// - Parameters:
  ///   - peak: the rate after the warm-up.
  ///   - warmupSteps: W ≥ 1; W = 1 is a constant rate.
  public init(peak: Double, warmupSteps: Int) {
    precondition(warmupSteps >= 1, "LinearWarmup: warm-up steps \(warmupSteps) must be at least 1")
    self.peak = peak
    self.warmupSteps = warmupSteps
  }

  public func learningRate(atStep step: Int) -> Double {
    precondition(step >= 0, "LinearWarmup: step \(step) is negative")
    return step + 1 >= warmupSteps ? peak : peak * Double(step + 1) / Double(warmupSteps)
  }
}

/// Half a cosine from `initial` down to `minimum` over T steps, then
/// `minimum`:
///
///     η(t) = η_min + (η₀ − η_min) · (1 + cos(π · min(t, T) / T)) / 2
///
/// the closed form of `torch.optim.lr_scheduler.CosineAnnealingLR(T_max: T,
/// eta_min: η_min)` (Loshchilov & Hutter 2017, SGDR, Eq. 5, without
/// restarts); unlike PyTorch's, the rate stays at the minimum after T
/// instead of rising again.
public struct CosineDecay: LearningRateSchedule {
  public let initial: Double
  public let minimum: Double
  public let decaySteps: Int

  /// - Parameters:
  ///   - initial: η₀, the rate at step 0.
  ///   - minimum: η_min, reached at step T.
  ///   - decaySteps: T ≥ 1.
  public init(initial: Double, minimum: Double = 0, decaySteps: Int) {
    precondition(decaySteps >= 1, "CosineDecay: decay steps \(decaySteps) must be at least 1")
    self.initial = initial
    self.minimum = minimum
    self.decaySteps = decaySteps
  }

  public func learningRate(atStep step: Int) -> Double {
    precondition(step >= 0, "CosineDecay: step \(step) is negative")
    let progress = Double(min(step, decaySteps)) / Double(decaySteps)
    return minimum + (initial - minimum) * (1 + cos(Double.pi * progress)) / 2
  }
}

/// ``LinearWarmup`` to `peak` over W steps, then ``CosineDecay`` from
/// `peak` to `minimum` over the remaining N − W steps:
///
///     η(t) = peak · (t + 1) / W                                     t < W
///     η(t) = η_min + (peak − η_min) · (1 + cos(π · (t − W) / (N − W))) / 2   W ≤ t ≤ N
///     η(t) = η_min                                                  t > N
///
/// PyTorch's `SequentialLR([LinearLR(start_factor: 1/W, total_iters: W − 1),
/// CosineAnnealingLR(T_max: N − W, eta_min: η_min)], milestones: [W])`:
/// the last warm-up step and the first decay step both run at `peak`.
public struct WarmupCosineDecay: LearningRateSchedule {
  public let peak: Double
  public let minimum: Double
  public let warmupSteps: Int
  public let totalSteps: Int

  /// - Parameters:
  ///   - peak: the rate at the end of the warm-up.
  ///   - minimum: η_min, reached at step N.
  ///   - warmupSteps: W ≥ 0; W = 0 is a plain cosine decay.
  ///   - totalSteps: N > W.
  public init(peak: Double, minimum: Double = 0, warmupSteps: Int, totalSteps: Int) {
    precondition(
      warmupSteps >= 0 && totalSteps > warmupSteps,
      "WarmupCosineDecay: needs 0 ≤ warm-up steps < total steps, got \(warmupSteps) and \(totalSteps)")
    self.peak = peak
    self.minimum = minimum
    self.warmupSteps = warmupSteps
    self.totalSteps = totalSteps
  }

  public func learningRate(atStep step: Int) -> Double {
    precondition(step >= 0, "WarmupCosineDecay: step \(step) is negative")
    if step < warmupSteps {
      return LinearWarmup(peak: peak, warmupSteps: warmupSteps).learningRate(atStep: step)
    }
    return CosineDecay(initial: peak, minimum: minimum, decaySteps: totalSteps - warmupSteps)
      .learningRate(atStep: step - warmupSteps)
  }
}
