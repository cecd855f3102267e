/// Adam with optional L2 weight decay added to the gradient, step for step
/// as `torch.optim.Adam` (without AMSGrad).
///
/// For each parameter p with gradient g, at learning rate η, after the
/// parameter's t-th step (Kingma & Ba 2015, Algorithm 1; PyTorch's
/// `_single_tensor_adam`):
///
///     g ← g + λ·p                              (when λ ≠ 0)
///     m ← β₁·m + (1 − β₁)·g
///     v ← β₂·v + (1 − β₂)·g²
///     p ← p − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// m and v start at zero. The state entries are `"<parameter>.exp_avg"` (m),
/// `"<parameter>.exp_avg_sq"` (v) and `"<parameter>.step"` (t, a rank-0
/// tensor, exact up to 2²⁴ steps in `Float`); t counts the steps at which
/// the parameter had a gradient. Each parameter's update is one fused pass
/// over its scalars, split across cores for large tensors. For weight decay
/// that does not pass through the moments, use ``AdamW``.
public struct Adam<Scalar: TensorScalar>: Optimizer {
  public var learningRate: Double
  /// β₁: decay rate of the first moment estimate.
  public let beta1: Double
  /// β₂: decay rate of the second moment estimate.
  public let beta2: Double
  /// ε: added to the bias-corrected √v, keeping the step finite.
  public let epsilon: Double
  /// λ: the L2 penalty coefficient added to each gradient as λ·p.
  public let weightDecay: Double
  public private(set) var step = 0
  var moments = AdamMoments<Scalar>()
  /// Per-group multipliers of ``learningRate`` (the first group holding a
  /// parameter decides; 1 for the others). Empty by default.
  public var learningRateGroups: [LearningRateGroup] = []

  /// An optimizer with the given hyperparameters (PyTorch's defaults).
  /// - Parameters:
  ///   - learningRate: η ≥ 0.
  ///   - beta1: β₁ in [0, 1).
  ///   - beta2: β₂ in [0, 1).
  ///   - epsilon: ε ≥ 0.
  ///   - weightDecay: λ ≥ 0.
  public init(
    learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
    weightDecay: Double = 0
  ) {
    checkAdamHyperparameters(
      "Adam", learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
  }

  /// Applies one Adam step to every parameter of `model` that has a gradient,
  /// at ``learningRate`` times its group's multiplier (``learningRateGroups``).
  /// - Parameters:
  ///   - gradients: by parameter name, each of its parameter's shape.
  /// - Complexity: O(n) in the number of parameter scalars.
  public mutating func update<Model: Layer>(_ model: inout Model, along gradients: [String: Tensor<Scalar>])
  where Model.Scalar == Scalar {
    checkLearningRate(learningRate, operation: "Adam")
    let hyperparameters = AdamHyperparameters(
      operation: "Adam", learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
      coupledWeightDecay: weightDecay, decoupledWeightDecay: 0)
    moments.update(&model, along: gradients, hyperparameters: hyperparameters, groups: learningRateGroups)
    step += 1
  }

  /// The moments and per-parameter step counts:
  /// `"<parameter>.exp_avg"`, `"<parameter>.exp_avg_sq"`, `"<parameter>.step"`.
  public var state: [String: Tensor<Scalar>] { moments.state }

  /// Replaces the moments and step counts with saved ones.
  /// - Throws: ``OptimizerStateError`` for an unknown entry, a parameter
  ///   lacking one of its three entries, moments of different shapes, or a
  ///   step that is not a non-negative integer.
  public mutating func restoreState(_ state: [String: Tensor<Scalar>], step: Int) throws {
    guard step >= 0 else { throw OptimizerStateError.invalidStep(key: "", value: Double(step)) }
    moments.slots = try AdamMoments.slots(restoring: state)
    self.step = step
  }
}

/// The preconditions shared by ``Adam`` and ``AdamW`` (PyTorch's checks).
func checkAdamHyperparameters(
  _ operation: String, learningRate: Double, beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double
) {
  checkLearningRate(learningRate, operation: operation)
  precondition(beta1 >= 0 && beta1 < 1, "\(operation): beta1 \(beta1) must be in [0, 1)")
  precondition(beta2 >= 0 && beta2 < 1, "\(operation): beta2 \(beta2) must be in [0, 1)")
  precondition(epsilon >= 0 && epsilon.isFinite, "\(operation): epsilon \(epsilon) must be finite and non-negative")
  precondition(
    weightDecay >= 0 && weightDecay.isFinite,
    "\(operation): weight decay \(weightDecay) must be finite and non-negative")
}
