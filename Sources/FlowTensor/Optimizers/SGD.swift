/// Stochastic gradient descent with optional momentum, Nesterov momentum,
/// dampening and L2 weight decay, step for step as `torch.optim.SGD`.
///
/// For each parameter p with gradient g, at learning rate η, momentum μ,
/// dampening τ and weight decay λ (PyTorch's `_single_tensor_sgd`):
///
///     g ← g + λ·p                           (when λ ≠ 0)
///     b ← g                                 (first step with μ ≠ 0)
///     b ← μ·b + (1 − τ)·g                   (later steps with μ ≠ 0)
///     d ← g + μ·b  (Nesterov)   or   d ← b  (otherwise; d ← g when μ = 0)
///     p ← p − η·d
///
/// The momentum buffer b is the state entry `"<parameter>.momentum_buffer"`
/// (kept only when μ ≠ 0). Each parameter's update is one fused pass over
/// its scalars, split across cores for large tensors.
public struct SGD<Scalar: TensorScalar>: Optimizer {
  public var learningRate: Double
  /// μ: the weight of the previous direction.
  public let momentum: Double
  /// τ: the fraction of each new gradient left out of the momentum buffer.
  public let dampening: Double
  /// Whether to step along g + μ·b (Sutskever et al. 2013's form of
  /// Nesterov momentum, as PyTorch writes it) instead of b.
  public let nesterov: Bool
  /// λ: the L2 penalty coefficient added to each gradient as λ·p.
  public let weightDecay: Double
  public private(set) var step = 0
  var buffers: [String: Tensor<Scalar>] = [:]

  /// An optimizer with the given hyperparameters (PyTorch's defaults).
  /// - Parameters:
  ///   - learningRate: η ≥ 0.
  ///   - momentum: μ ≥ 0.
  ///   - dampening: τ; must be 0 with `nesterov`.
  ///   - nesterov: Nesterov momentum; needs μ > 0.
  ///   - weightDecay: λ ≥ 0.
  public init(
    learningRate: Double, momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false,
    weightDecay: Double = 0
  ) {
    checkLearningRate(learningRate, operation: "SGD")
    precondition(momentum >= 0 && momentum.isFinite, "SGD: momentum \(momentum) must be finite and non-negative")
    precondition(dampening.isFinite, "SGD: dampening \(dampening) must be finite")
    precondition(
      weightDecay >= 0 && weightDecay.isFinite, "SGD: weight decay \(weightDecay) must be finite and non-negative")
    precondition(
      !nesterov || (momentum > 0 && dampening == 0),
      "SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum \(momentum), dampening \(dampening)")
    self.learningRate = learningRate
    self.momentum = momentum
    self.dampening = dampening
    self.nesterov = nesterov
    self.weightDecay = weightDecay
  }

  /// Applies one SGD step to every parameter of `model` that has a gradient.
  /// - Parameters:
  ///   - gradients: by parameter name, each of its parameter's shape.
  /// - Complexity: O(n) in the number of parameter scalars.
  public mutating func update<Model: Layer>(_ model: inout Model, along gradients: [String: Tensor<Scalar>])
  where Model.Scalar == Scalar {
    checkLearningRate(learningRate, operation: "SGD")
    forEachParameterWithGradient(of: &model, gradients: gradients, operation: "SGD") { name, parameter, gradient in
      if momentum == 0 {
        var none: Tensor<Scalar>? = nil
        applySGD(to: &parameter, gradient: gradient, buffer: &none)
      } else {
        // Out of the dictionary while written, so the buffer is uniquely
        // referenced and updated in place.
        var buffer = buffers.removeValue(forKey: name)
        precondition(
          buffer == nil || buffer!.shape == parameter.shape,
          "SGD: state of '\(name)' has shape \(buffer!.shape), the parameter has shape \(parameter.shape)")
        applySGD(to: &parameter, gradient: gradient, buffer: &buffer)
        buffers[name] = buffer
      }
    }
    step += 1
  }

  /// One parameter's step; `buffer` is `nil` without momentum, and on the
  /// first momentum step, when it is created.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func applySGD(to parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>, buffer: inout Tensor<Scalar>?) {
    let constants = SGDConstants<Scalar>(
      learningRate: Scalar(learningRate), momentum: Scalar(momentum), keep: Scalar(1 - dampening),
      weightDecay: Scalar(weightDecay))
    let count = parameter.scalarCount
    let decays = weightDecay != 0
    let firstMomentumStep = momentum != 0 && buffer == nil
    if firstMomentumStep { buffer = Tensor(uninitializedShape: parameter.shape) }
    withExtendedLifetime(gradient) {
      let g = UnsafePointer(gradient.storage.base)
      parameter.withUnsafeMutableBufferPointer { parameterBuffer in
        let p = parameterBuffer.baseAddress!
        guard momentum != 0 else {
          Parallel.forEachRange(count: count, grain: Parallel.elementwiseGrain) { range in
            sgdLoop(p, g, nil, range, constants, decays: decays, momentum: false, first: false, nesterov: false)
          }
          return
        }
        buffer!.withUnsafeMutableBufferPointer { momentumBuffer in
          let b = momentumBuffer.baseAddress!
          Parallel.forEachRange(count: count, grain: Parallel.elementwiseGrain) { range in
            // Literal flags, so each inlined copy of the loop is branch-free.
            switch (decays, firstMomentumStep, nesterov) {
            case (false, false, false): sgdLoop(p, g, b, range, constants, decays: false, momentum: true, first: false, nesterov: false)
            case (false, false, true): sgdLoop(p, g, b, range, constants, decays: false, momentum: true, first: false, nesterov: true)
            case (false, true, false): sgdLoop(p, g, b, range, constants, decays: false, momentum: true, first: true, nesterov: false)
            case (false, true, true): sgdLoop(p, g, b, range, constants, decays: false, momentum: true, first: true, nesterov: true)
            case (true, false, false): sgdLoop(p, g, b, range, constants, decays: true, momentum: true, first: false, nesterov: false)
            case (true, false, true): sgdLoop(p, g, b, range, constants, decays: true, momentum: true, first: false, nesterov: true)
            case (true, true, false): sgdLoop(p, g, b, range, constants, decays: true, momentum: true, first: true, nesterov: false)
            case (true, true, true): sgdLoop(p, g, b, range, constants, decays: true, momentum: true, first: true, nesterov: true)
            }
          }
        }
      }
    }
  }

  /// The momentum buffers, `"<parameter>.momentum_buffer"`.
  public var state: [String: Tensor<Scalar>] {
    Dictionary(uniqueKeysWithValues: buffers.map { ($0.key + ".momentum_buffer", $0.value) })
  }

  /// Replaces the momentum buffers and step count with saved ones.
  /// - Throws: ``OptimizerStateError`` for a key other than
  ///   `"<parameter>.momentum_buffer"` or a negative step.
  public mutating func restoreState(_ state: [String: Tensor<Scalar>], step: Int) throws {
    guard step >= 0 else { throw OptimizerStateError.invalidStep(key: "", value: Double(step)) }
    let groups = try OptimizerStateKey.group(state, entries: ["momentum_buffer"])
    buffers = groups.mapValues { $0["momentum_buffer"]! }
    self.step = step
  }
}

/// SGD's hyperparameters rounded to the parameters' precision.
struct SGDConstants<Scalar: TensorScalar> {
  let learningRate: Scalar
  let momentum: Scalar
  /// 1 − τ.
  let keep: Scalar
  let weightDecay: Scalar
}

/// The fused SGD update of `range`, in PyTorch's operation order (each
/// `add(x, alpha: a)` is `self + a·x`).
@inline(__always)
func sgdLoop<Scalar: TensorScalar>(
  _ p: UnsafeMutablePointer<Scalar>, _ g: UnsafePointer<Scalar>, _ b: UnsafeMutablePointer<Scalar>?,
  _ range: Range<Int>, _ c: SGDConstants<Scalar>, decays: Bool, momentum: Bool, first: Bool, nesterov: Bool
) {
  let negativeRate = -c.learningRate
  for i in range {
    var gradient = g[i]
    if decays { gradient = gradient + c.weightDecay * p[i] }
    var direction = gradient
    if momentum {
      let buffer = first ? gradient : b![i] * c.momentum + c.keep * gradient
      b![i] = buffer
      direction = nesterov ? gradient + c.momentum * buffer : buffer
    }
    p[i] = p[i] + negativeRate * direction
  }
}
