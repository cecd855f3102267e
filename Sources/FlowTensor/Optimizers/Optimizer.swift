/// Updates the parameters of a ``Layer`` from their gradients, one step at
/// a time, keeping per-parameter state (moments, momentum) under the
/// parameters' dotted names.
///
/// ```swift
/// var optimizer = Adam<Float>(learningRate: 1e-3)
/// for batch in batches {
///   let (loss, gradients) = valueWithGradient(at: model) { model in model.loss(batch) }
///   optimizer.update(&model, along: gradients)
/// }
/// ```
///
/// Hyperparameters are `Double`, as PyTorch's are Python floats: derived
/// constants such as lr/(1 − β₁ᵗ) are computed in double precision and
/// rounded once to `Scalar` per step.
///
/// The state is a set of named tensors, `"<parameter>.<entry>"` (for
/// example `"layers.0.weight.exp_avg"`), plus the ``step`` count: save both
/// with a checkpoint and ``restoreState(_:step:)`` them into a fresh
/// optimizer with the same hyperparameters, and the run continues exactly
/// as if uninterrupted.
public protocol Optimizer {
  /// The scalar type of the parameters and gradients.
  associatedtype Scalar: TensorScalar

  /// The step size of the next update; set it from a
  /// ``LearningRateSchedule`` between updates.
  var learningRate: Double { get set }

  /// The number of updates applied so far (calls of ``update(_:along:)``).
  var step: Int { get }

  /// Applies one update step to every parameter of `model` that has a
  /// gradient; parameters without one are left unchanged (their state too).
  ///
  /// Updated parameters carry no autodiff state.
  /// - Parameters:
  ///   - model: the layer whose parameters move.
  ///   - gradients: by parameter name, each of its parameter's shape; every
  ///     name must be a parameter of `model`.
  mutating func update<Model: Layer>(_ model: inout Model, along gradients: [String: Tensor<Scalar>])
  where Model.Scalar == Scalar

  /// The per-parameter state as named tensors, `"<parameter>.<entry>"`.
  var state: [String: Tensor<Scalar>] { get }

  /// Replaces the state and step count with saved ones (from ``state`` and
  /// ``step``); nothing changes when it throws.
  /// - Throws: ``OptimizerStateError`` for an entry this optimizer does not
  ///   keep, a parameter with some entries missing, entries of one parameter
  ///   with different shapes, or an invalid step count.
  mutating func restoreState(_ state: [String: Tensor<Scalar>], step: Int) throws
}

extension Optimizer {
  /// Sets ``learningRate`` from `schedule` at the current ``step``, then
  /// applies one update.
  public mutating func update<Model: Layer, Schedule: LearningRateSchedule>(
    _ model: inout Model, along gradients: [String: Tensor<Scalar>], schedule: Schedule
  ) where Model.Scalar == Scalar {
    learningRate = schedule.learningRate(atStep: step)
    update(&model, along: gradients)
  }

  /// ``restoreState(_:step:)`` after checking the state against `model`:
  /// every entry must belong to a parameter of `model` and have its shape
  /// (the `step` entries, rank-0 counts, excepted).
  /// - Throws: ``OptimizerStateError`` as ``restoreState(_:step:)`` does, and
  ///   ``OptimizerStateError/unknownParameter(key:)`` or
  ///   ``OptimizerStateError/shapeMismatch(key:expected:found:)`` where the
  ///   state does not fit the model.
  public mutating func restoreState<Model: Layer>(
    _ state: [String: Tensor<Scalar>], step: Int, for model: Model
  ) throws where Model.Scalar == Scalar {
    let shapes = Dictionary(model.parameters.map { ($0.name, $0.value.shape) }, uniquingKeysWith: { a, _ in a })
    for key in state.keys.sorted() {
      let (parameter, entry) = try OptimizerStateKey.split(key)
      guard let shape = shapes[parameter] else { throw OptimizerStateError.unknownParameter(key: key) }
      if entry != "step", state[key]!.shape != shape {
        throw OptimizerStateError.shapeMismatch(key: key, expected: shape, found: state[key]!.shape)
      }
    }
    try restoreState(state, step: step)
  }
}

/// A saved optimizer state that does not fit.
public enum OptimizerStateError: Error, Equatable, CustomStringConvertible {
  /// `key` is not `"<parameter>.<entry>"` with an entry this optimizer keeps.
  case unknownEntry(key: String, expected: [String])
  /// The parameter has some of its entries but not `key`.
  case missingEntry(key: String)
  /// `key` has shape `found` where `expected` was required.
  case shapeMismatch(key: String, expected: [Int], found: [Int])
  /// A step count (`key`, or the optimizer's own for an empty key) that is
  /// not a non-negative integer.
  case invalidStep(key: String, value: Double)
  /// `key` names a parameter the model does not have.
  case unknownParameter(key: String)

  public var description: String {
    switch self {
    case .unknownEntry(let key, let expected):
      return "optimizer state '\(key)' is not '<parameter>.<entry>' with an entry in \(expected)"
    case .missingEntry(let key):
      return "optimizer state '\(key)' is missing"
    case .shapeMismatch(let key, let expected, let found):
      return "optimizer state '\(key)' has shape \(found), expected \(expected)"
    case .invalidStep(let key, let value):
      return key.isEmpty
        ? "optimizer step \(value) is not a non-negative integer"
        : "optimizer state '\(key)' holds \(value), not a non-negative integer step count"
    case .unknownParameter(let key):
      return "optimizer state '\(key)' belongs to no parameter of the model"
    }
  }
}

/// Parsing of `"<parameter>.<entry>"` state keys; parameter names contain
/// dots themselves, so the entry is what follows the last one.
enum OptimizerStateKey {
  static func split(_ key: String) throws -> (parameter: String, entry: String) {
    guard let dot = key.lastIndex(of: "."), dot != key.startIndex, key.index(after: dot) != key.endIndex else {
      throw OptimizerStateError.unknownEntry(key: key, expected: [])
    }
    return (String(key[..<dot]), String(key[key.index(after: dot)...]))
  }

  /// Groups `state` by parameter, checking every entry is in `entries`.
  static func group<Scalar: TensorScalar>(
    _ state: [String: Tensor<Scalar>], entries: [String]
  ) throws -> [String: [String: Tensor<Scalar>]] {
    var groups: [String: [String: Tensor<Scalar>]] = [:]
    for key in state.keys.sorted() {
      guard let (parameter, entry) = try? split(key), entries.contains(entry) else {
        throw OptimizerStateError.unknownEntry(key: key, expected: entries)
      }
      groups[parameter, default: [:]][entry] = state[key]!.detached
    }
    return groups
  }

  /// A rank-0 or one-scalar tensor holding a non-negative integer count.
  static func count<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>, key: String) throws -> Int {
    guard tensor.scalarCount == 1 else {
      throw OptimizerStateError.shapeMismatch(key: key, expected: [], found: tensor.shape)
    }
    let value = Double(tensor.scalar)
    guard value >= 0, value.rounded() == value, value < 0x1p53 else {
      throw OptimizerStateError.invalidStep(key: key, value: value)
    }
    return Int(value)
  }
}

/// Walks the parameters of `model` that have a gradient, checking names and
/// shapes; the shared first half of every optimizer's `update`.
@inline(__always)
func forEachParameterWithGradient<Model: Layer>(
  of model: inout Model, gradients: [String: Tensor<Model.Scalar>], operation: String,
  _ body: (String, inout Tensor<Model.Scalar>, Tensor<Model.Scalar>) -> Void
) {
  var matched = Set<String>()
  model.updateParameters { name, parameter in
    guard let gradient = gradients[name] else { return }
    matched.insert(name)
    precondition(
      gradient.shape == parameter.shape,
      "\(operation): gradient of '\(name)' has shape \(gradient.shape), the parameter has shape \(parameter.shape)")
    body(name, &parameter, gradient.detached)
  }
  if matched.count != gradients.count {
    let unknown = gradients.keys.filter { !matched.contains($0) }.sorted()
    preconditionFailure("\(operation): gradients \(unknown) name no parameter of the model")
  }
}

/// Checks a learning rate before an update.
@inline(__always)
func checkLearningRate(_ learningRate: Double, operation: String) {
  precondition(
    learningRate.isFinite && learningRate >= 0,
    "\(operation): learning rate \(learningRate) must be finite and non-negative")
}
