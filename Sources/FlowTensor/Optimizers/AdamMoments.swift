import _FlowKernels
import Foundation

/// The state and the fused update shared by ``Adam`` and ``AdamW``: per
/// parameter, the first and second moment estimates and the number of
/// steps that parameter has taken (PyTorch counts per parameter, so one
/// that missed a gradient has its own bias correction).
struct AdamMoments<Scalar: TensorScalar> {
  struct Slot {
    /// m, `exp_avg`.
    var average: Tensor<Scalar>
    /// v, `exp_avg_sq`.
    var averageOfSquares: Tensor<Scalar>
    var step: Int
  }

  var slots: [String: Slot] = [:]

  static var entries: [String] { ["exp_avg", "exp_avg_sq", "step"] }

  var state: [String: Tensor<Scalar>] {
    var result: [String: Tensor<Scalar>] = [:]
    for (name, slot) in slots {
      result[name + ".exp_avg"] = slot.average
      result[name + ".exp_avg_sq"] = slot.averageOfSquares
      result[name + ".step"] = Tensor(Scalar(slot.step))
    }
    return result
  }

  /// The slots of a saved state; throws before changing anything.
  static func slots(restoring state: [String: Tensor<Scalar>]) throws -> [String: Slot] {
    var slots: [String: Slot] = [:]
    for (name, entries) in try OptimizerStateKey.group(state, entries: Self.entries) {
      for entry in Self.entries where entries[entry] == nil {
        throw OptimizerStateError.missingEntry(key: name + "." + entry)
      }
      let average = entries["exp_avg"]!
      let averageOfSquares = entries["exp_avg_sq"]!
      guard averageOfSquares.shape == average.shape else {
        throw OptimizerStateError.shapeMismatch(
          key: name + ".exp_avg_sq", expected: average.shape, found: averageOfSquares.shape)
      }
      let step = try OptimizerStateKey.count(entries["step"]!, key: name + ".step")
      slots[name] = Slot(average: average, averageOfSquares: averageOfSquares, step: step)
    }
    return slots
  }

  /// One ``Adam`` or ``AdamW`` step over every parameter of `model` that
  /// has a gradient, each at `h.learningRate` times its group's multiplier.
  /// - Parameters:
  ///   - gradients: by parameter name, each of its parameter's shape.
  ///   - h: the step's hyperparameters; `h.operation` names the optimizer in messages.
  ///   - groups: the learning-rate groups (the first holding a parameter decides).
  mutating func update<Model: Layer>(
    _ model: inout Model, along gradients: [String: Tensor<Scalar>], hyperparameters h: AdamHyperparameters,
    groups: [LearningRateGroup]
  ) where Model.Scalar == Scalar {
    forEachParameterWithGradient(of: &model, gradients: gradients, operation: h.operation) { name, parameter, gradient in
      var parameterHyperparameters = h
      if !groups.isEmpty { parameterHyperparameters.learningRate *= groups.multiplier(forParameter: name) }
      apply(to: &parameter, gradient: gradient, name: name, hyperparameters: parameterHyperparameters)
    }
  }

  /// One Adam step of one parameter, PyTorch's `_single_tensor_adam`:
  ///
  ///     t ← t + 1
  ///     g ← g + λ·p                        (Adam's L2 weight decay)
  ///     p ← p·(1 − η·λ)                    (AdamW's decoupled decay)
  ///     m ← lerp(m, g, 1 − β₁)             = β₁·m + (1 − β₁)·g
  ///     v ← β₂·v + (1 − β₂)·g²
  ///     p ← p − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
  ///
  /// (Kingma & Ba 2015, Algorithm 1 with ε added after the bias
  /// correction of v; Loshchilov & Hutter 2019 for the decoupled decay.)
  mutating func apply(
    to parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>, name: String,
    hyperparameters h: AdamHyperparameters
  ) {
    var slot = slots.removeValue(forKey: name)
      ?? Slot(
        average: Tensor(repeating: 0, shape: parameter.shape),
        averageOfSquares: Tensor(repeating: 0, shape: parameter.shape), step: 0)
    precondition(
      slot.average.shape == parameter.shape,
      "\(h.operation): state of '\(name)' has shape \(slot.average.shape), the parameter has shape \(parameter.shape)")
    slot.step += 1
    let constants = AdamConstants<Scalar>(h, step: slot.step)
    Self.fusedStep(
      parameter: &parameter, gradient: gradient, average: &slot.average,
      averageOfSquares: &slot.averageOfSquares, constants: constants)
    slots[name] = slot
  }

  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  static func fusedStep(
    parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>, average: inout Tensor<Scalar>,
    averageOfSquares: inout Tensor<Scalar>, constants c: AdamConstants<Scalar>
  ) {
    let count = parameter.scalarCount
    withExtendedLifetime(gradient) {
      let g = UnsafePointer(gradient.storage.base)
      parameter.withUnsafeMutableBufferPointer { parameterBuffer in
        average.withUnsafeMutableBufferPointer { averageBuffer in
          averageOfSquares.withUnsafeMutableBufferPointer { squaresBuffer in
            let (p, m, v) = (parameterBuffer.baseAddress!, averageBuffer.baseAddress!, squaresBuffer.baseAddress!)
            if Scalar.self == Float.self {
              // The C kernel runs 8 lanes (AVX2) with the same rounding
              // as the loop below, which LLVM leaves scalar.
              var constants = c.kernelConstants
              Parallel.forEachRange(count: count, grain: Parallel.elementwiseGrain) { range in
                func float(_ pointer: UnsafeMutablePointer<Scalar>) -> UnsafeMutablePointer<Float> {
                  UnsafeMutableRawPointer(pointer + range.lowerBound).assumingMemoryBound(to: Float.self)
                }
                flow_kernels_adam_f32(
                  float(p), UnsafeRawPointer(g + range.lowerBound).assumingMemoryBound(to: Float.self),
                  float(m), float(v), range.count, &constants)
              }
              return
            }
            Parallel.forEachRange(count: count, grain: Parallel.elementwiseGrain) { range in
              // Literal flags, so each inlined copy of the loop is branch-free.
              switch (c.coupledDecay, c.decoupledDecay, c.lerpFromStart) {
              case (false, false, true): adamLoop(p, g, m, v, range, c, coupled: false, decoupled: false, lerpFromStart: true)
              case (true, _, true): adamLoop(p, g, m, v, range, c, coupled: true, decoupled: false, lerpFromStart: true)
              case (false, true, true): adamLoop(p, g, m, v, range, c, coupled: false, decoupled: true, lerpFromStart: true)
              case (false, false, false): adamLoop(p, g, m, v, range, c, coupled: false, decoupled: false, lerpFromStart: false)
              case (true, _, false): adamLoop(p, g, m, v, range, c, coupled: true, decoupled: false, lerpFromStart: false)
              case (false, true, false): adamLoop(p, g, m, v, range, c, coupled: false, decoupled: true, lerpFromStart: false)
              }
            }
          }
        }
      }
    }
  }
}

/// The hyperparameters of ``Adam`` and ``AdamW`` for one step.
struct AdamHyperparameters {
  var operation: String
  var learningRate: Double
  var beta1: Double
  var beta2: Double
  var epsilon: Double
  /// λ added to the gradient (Adam).
  var coupledWeightDecay: Double
  /// λ applied to the parameter (AdamW).
  var decoupledWeightDecay: Double
}

/// One step's constants, computed in `Double` as PyTorch computes them
/// from Python floats, then rounded to the parameters' precision.
struct AdamConstants<Scalar: TensorScalar> {
  let coupledDecay: Bool
  let decoupledDecay: Bool
  /// `torch.lerp` evaluates start + w·(end − start) for |w| < 0.5 and
  /// end − (end − start)·(1 − w) otherwise.
  let lerpFromStart: Bool
  let weightDecay: Scalar
  let decayFactor: Scalar
  let averageWeight: Scalar
  let averageWeightComplement: Scalar
  let beta2: Scalar
  let squareWeight: Scalar
  let biasCorrection2Root: Scalar
  let epsilon: Scalar
  let negativeStepSize: Scalar

  init(_ h: AdamHyperparameters, step: Int) {
    coupledDecay = h.coupledWeightDecay != 0
    decoupledDecay = h.decoupledWeightDecay != 0
    weightDecay = Scalar(h.coupledWeightDecay)
    decayFactor = Scalar(1 - h.learningRate * h.decoupledWeightDecay)
    let weight = 1 - h.beta1
    lerpFromStart = abs(weight) < 0.5
    averageWeight = Scalar(weight)
    averageWeightComplement = Scalar(1 - weight)
    beta2 = Scalar(h.beta2)
    squareWeight = Scalar(1 - h.beta2)
    let t = Double(step)
    let biasCorrection1 = 1 - pow(h.beta1, t)
    biasCorrection2Root = Scalar((1 - pow(h.beta2, t)).squareRoot())
    epsilon = Scalar(h.epsilon)
    negativeStepSize = Scalar(-(h.learningRate / biasCorrection1))
  }
}

extension AdamConstants {
  /// The constants as the C kernel takes them (Float only).
  var kernelConstants: FlowAdamConstants {
    func float(_ value: Scalar) -> Float { Float(value) }
    return FlowAdamConstants(
      coupled: coupledDecay ? 1 : 0, decoupled: decoupledDecay ? 1 : 0, lerp_from_start: lerpFromStart ? 1 : 0,
      weight_decay: float(weightDecay), decay_factor: float(decayFactor), average_weight: float(averageWeight),
      average_weight_complement: float(averageWeightComplement), beta2: float(beta2),
      square_weight: float(squareWeight), bias_correction2_root: float(biasCorrection2Root),
      epsilon: float(epsilon), negative_step_size: float(negativeStepSize))
  }
}

/// The fused Adam update of `range`, in PyTorch's operation order.
@inline(__always)
func adamLoop<Scalar: TensorScalar>(
  _ p: UnsafeMutablePointer<Scalar>, _ g: UnsafePointer<Scalar>, _ m: UnsafeMutablePointer<Scalar>,
  _ v: UnsafeMutablePointer<Scalar>, _ range: Range<Int>, _ c: AdamConstants<Scalar>,
  coupled: Bool, decoupled: Bool, lerpFromStart: Bool
) {
  for i in range {
    var parameter = p[i]
    var gradient = g[i]
    if coupled { gradient = gradient + c.weightDecay * parameter }
    if decoupled { parameter = parameter * c.decayFactor }
    let average = lerpFromStart
      ? m[i] + c.averageWeight * (gradient - m[i])
      : gradient - (gradient - m[i]) * c.averageWeightComplement
    let averageOfSquares = v[i] * c.beta2 + c.squareWeight * gradient * gradient
    m[i] = average
    v[i] = averageOfSquares
    let denominator = averageOfSquares.squareRoot() / c.biasCorrection2Root + c.epsilon
    p[i] = parameter + c.negativeStepSize * (average / denominator)
  }
}
