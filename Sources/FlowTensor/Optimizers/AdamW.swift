/// Adam with decoupled weight decay, step for step as `torch.optim.AdamW`.
///
/// Before the Adam step, each parameter shrinks towards zero by the learning
/// rate times λ, independently of the gradient and its moments (Loshchilov
/// & Hutter 2019, Algorithm 2; PyTorch's `param.mul_(1 - lr * weight_decay)`):
///
///     p ← p·(1 − η·λ)                          (= p − η·λ·p)
///     m ← β₁·m + (1 − β₁)·g
///     v ← β₂·v + (1 − β₂)·g²
///     p ← p − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// The state is ``Adam``'s: `"<parameter>.exp_avg"`, `"<parameter>.exp_avg_sq"`
/// and `"<parameter>.step"`. A parameter without a gradient is not decayed.
public struct AdamW<Scalar: TensorScalar>: Optimizer {
  public var learningRate: Double
  /// β₁: decay rate of the first moment estimate.
  public let beta1: Double
  /// β₂: decay rate of the second moment estimate.
  public let beta2: Double
  /// ε: added to the bias-corrected √v, keeping the step finite.
  public let epsilon: Double
  /// λ: the decoupled decay rate, applied as p·(1 − η·λ).
  public let weightDecay: Double
  public private(set) var step = 0
  var moments = AdamMoments<Scalar>()
  /// Per-group multipliers of ``learningRate`` (the first group holding a
  /// parameter decides; 1 for the others). Empty by default.
  public var learningRateGroups: [LearningRateGroup] = []

  /// An optimizer with the given hyperparameters (PyTorch's defaults, λ = 0.01).
  /// - Parameters:
  ///   - learningRate: η ≥ 0.
  ///   - beta1: β₁ in [0, 1).
  ///   - beta2: β₂ in [0, 1).
  ///   - epsilon: ε ≥ 0.
  ///   - weightDecay: λ ≥ 0.
  public init(
    learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
    weightDecay: Double = 1e-2
  ) {
    checkAdamHyperparameters(
      "AdamW", learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
  }

  /// Applies one AdamW step to every parameter of `model` that has a gradient,
  /// at ``learningRate`` times its group's multiplier (``learningRateGroups``).
  /// - Parameters:
  ///   - gradients: by parameter name, each of its parameter's shape.
  /// - Complexity: O(n) in the number of parameter scalars.
  public mutating func update<Model: Layer>(_ model: inout Model, along gradients: [String: Tensor<Scalar>])
  where Model.Scalar == Scalar {
    checkLearningRate(learningRate, operation: "AdamW")
    let hyperparameters = AdamHyperparameters(
      operation: "AdamW", learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
      coupledWeightDecay: 0, decoupledWeightDecay: weightDecay)
    moments.update(&model, along: gradients, hyperparameters: hyperparameters, groups: learningRateGroups)
    step += 1
  }

  /// The moments and per-parameter step counts, as ``Adam/state``.
  public var state: [String: Tensor<Scalar>] { moments.state }

  /// Replaces the moments and step counts with saved ones.
  /// - Throws: ``OptimizerStateError`` as ``Adam/restoreState(_:step:)``.
  public mutating func restoreState(_ state: [String: Tensor<Scalar>], step: Int) throws {
    guard step >= 0 else { throw OptimizerStateError.invalidStep(key: "", value: Double(step)) }
    moments.slots = try AdamMoments.slots(restoring: state)
    self.step = step
  }
}
