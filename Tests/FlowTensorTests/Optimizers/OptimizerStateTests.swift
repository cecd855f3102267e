import FlowTensor
import XCTest
import _TestSupport

/// The state as named tensors: its names, a checkpoint round trip that
/// continues exactly, and the errors of a state that does not fit.
final class OptimizerStateTests: XCTestCase {
  /// Two layers; each maps data `[4, 3]` through `weight` `[3, 2]` and `bias`
  /// `[2]` to a squared error, so gradients depend on the parameters.
  static func model<Scalar: TensorScalar>(_: Scalar.Type) -> StackedModel<Scalar> {
    var generator = SeededGenerator(seed: 5)
    return StackedModel(layers: (0..<2).map { _ in
      TwoParameterModel(
        weight: Tensor.randomNormal(shape: [3, 2], using: &generator),
        bias: Tensor.randomNormal(shape: [2], using: &generator))
    })
  }

  static func loss<Scalar: TensorScalar>(_ model: StackedModel<Scalar>, step: Int) -> Tensor<Scalar> {
    var generator = SeededGenerator(seed: UInt64(100 + step))
    let data = Tensor<Scalar>.randomNormal(shape: [4, 3], using: &generator)
    let target = Tensor<Scalar>.randomNormal(shape: [4, 2], using: &generator)
    return model.layers.map { layer -> Tensor<Scalar> in
      let residual = matmul(data, layer.weight) + layer.bias - target
      return (residual * residual).sum()
    }.reduce(Tensor(0), +)
  }

  /// Runs steps `range`; at odd steps `layers.1.bias` gets no gradient, so
  /// per-parameter step counts differ.
  static func train<O: Optimizer>(
    _ model: inout StackedModel<O.Scalar>, _ optimizer: inout O, steps range: Range<Int>
  ) {
    for step in range {
      var (_, gradients) = valueWithGradient(at: model) { loss($0, step: step) }
      if step % 2 == 1 { gradients["layers.1.bias"] = nil }
      optimizer.update(&model, along: gradients, schedule: CosineDecay(initial: 0.05, decaySteps: 10))
    }
  }

  /// A copy that shares no storage, as a checkpoint file gives back.
  static func copied<Scalar: TensorScalar>(_ tensors: [String: Tensor<Scalar>]) -> [String: Tensor<Scalar>] {
    tensors.mapValues { Tensor(shape: $0.shape, scalars: $0.scalars) }
  }

  func testRestoredRunContinuesExactly() throws {
    func check<O: Optimizer>(_ makeOptimizer: () -> O) throws {
      let label = "\(O.self)"
      var uninterrupted = Self.model(O.Scalar.self)
      var optimizer = makeOptimizer()
      Self.train(&uninterrupted, &optimizer, steps: 0..<10)

      var firstHalf = Self.model(O.Scalar.self)
      var first = makeOptimizer()
      Self.train(&firstHalf, &first, steps: 0..<5)
      let (parameters, state, step) = (Self.copied(firstHalf.namedParameters), Self.copied(first.state), first.step)

      var resumed = Self.model(O.Scalar.self)
      try resumed.loadParameters(parameters)
      var second = makeOptimizer()
      try second.restoreState(state, step: step, for: resumed)
      Self.train(&resumed, &second, steps: 5..<10)
      for (name, value) in uninterrupted.namedParameters {
        assertIdentical(resumed.namedParameters[name]!, value, "\(label) \(name)")
      }
      XCTAssertEqual(second.step, optimizer.step, label)
      XCTAssertEqual(second.state, optimizer.state, label)

      // Without the state the same resumption ends elsewhere: the test can fail.
      var forgetful = Self.model(O.Scalar.self)
      try forgetful.loadParameters(parameters)
      var fresh = makeOptimizer()
      Self.train(&forgetful, &fresh, steps: 5..<10)
      XCTAssertNotEqual(forgetful.namedParameters, uninterrupted.namedParameters, label)
    }
    try check { SGD<Float>(learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01) }
    try check { SGD<Double>(learningRate: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01) }
    try check { Adam<Float>(weightDecay: 0.01) }
    try check { Adam<Double>(beta1: 0.8) }
    try check { AdamW<Float>(weightDecay: 0.1) }
    try check { AdamW<Double>(weightDecay: 0.1) }
  }

  func testStateNamesFollowTheParameters() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var model = Self.model(Scalar.self)
      var adam = Adam<Scalar>()
      var sgd = SGD<Scalar>(learningRate: 0.1, momentum: 0.9)
      var plain = SGD<Scalar>(learningRate: 0.1)
      Self.train(&model, &adam, steps: 0..<2)
      Self.train(&model, &sgd, steps: 0..<2)
      Self.train(&model, &plain, steps: 0..<2)
      let names = ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
      XCTAssertEqual(
        adam.state.keys.sorted(), names.flatMap { [$0 + ".exp_avg", $0 + ".exp_avg_sq", $0 + ".step"] }.sorted())
      XCTAssertEqual(adam.state["layers.0.weight.exp_avg"]?.shape, [3, 2])
      XCTAssertEqual(adam.state["layers.0.weight.step"], Tensor(2))
      XCTAssertEqual(adam.state["layers.1.bias.step"], Tensor(1), "no gradient at step 1")
      XCTAssertEqual(sgd.state.keys.sorted(), names.map { $0 + ".momentum_buffer" }.sorted())
      XCTAssertTrue(plain.state.isEmpty, "plain SGD keeps no state")
    }
    check(Float.self)
    check(Double.self)
  }

  func testStateThatDoesNotFitIsRejectedAndChangesNothing() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var model = Self.model(Scalar.self)
      var adam = Adam<Scalar>()
      Self.train(&model, &adam, steps: 0..<1)
      let good = adam.state
      let before = adam
      func expect(
        _ error: OptimizerStateError, _ state: [String: Tensor<Scalar>], step: Int = 1, checkingModel: Bool = false,
        line: UInt = #line
      ) {
        XCTAssertThrowsError(
          try checkingModel ? adam.restoreState(state, step: step, for: model) : adam.restoreState(state, step: step),
          line: line
        ) { XCTAssertEqual($0 as? OptimizerStateError, error, line: line) }
        XCTAssertEqual(adam.state, before.state, line: line)
        XCTAssertEqual(adam.step, before.step, line: line)
      }
      var state = good
      state["layers.0.weight.momentum_buffer"] = Tensor.zeros(shape: [3, 2])
      expect(.unknownEntry(key: "layers.0.weight.momentum_buffer", expected: ["exp_avg", "exp_avg_sq", "step"]), state)
      expect(.unknownEntry(key: "weight", expected: ["exp_avg", "exp_avg_sq", "step"]), ["weight": Tensor(1)])
      state = good
      state["layers.1.bias.exp_avg_sq"] = nil
      expect(.missingEntry(key: "layers.1.bias.exp_avg_sq"), state)
      state = good
      state["layers.0.bias.exp_avg_sq"] = Tensor.zeros(shape: [3])
      expect(.shapeMismatch(key: "layers.0.bias.exp_avg_sq", expected: [2], found: [3]), state)
      state = good
      state["layers.0.bias.step"] = Tensor(1.5)
      expect(.invalidStep(key: "layers.0.bias.step", value: 1.5), state)
      state["layers.0.bias.step"] = Tensor(-1)
      expect(.invalidStep(key: "layers.0.bias.step", value: -1), state)
      expect(.invalidStep(key: "", value: -3), good, step: -3)
      // Consistent in itself, yet not this model's.
      state = good
      for entry in ["exp_avg", "exp_avg_sq"] { state["layers.0.bias." + entry] = Tensor.zeros(shape: [5]) }
      expect(.shapeMismatch(key: "layers.0.bias.exp_avg", expected: [2], found: [5]), state, checkingModel: true)
      state = good
      for entry in ["exp_avg", "exp_avg_sq", "step"] { state["layers.2.bias." + entry] = good["layers.1.bias." + entry] }
      expect(.unknownParameter(key: "layers.2.bias.exp_avg"), state, checkingModel: true)
      var sgd = SGD<Scalar>(learningRate: 0.1, momentum: 0.9)
      XCTAssertThrowsError(try sgd.restoreState(["x.exp_avg": Tensor(0)], step: 1)) {
        XCTAssertEqual($0 as? OptimizerStateError, .unknownEntry(key: "x.exp_avg", expected: ["momentum_buffer"]))
      }
    }
    check(Float.self)
    check(Double.self)
  }

  func testErrorDescriptionsNameTheEntry() {
    XCTAssertEqual(
      OptimizerStateError.shapeMismatch(key: "layers.0.bias.exp_avg", expected: [2], found: [5]).description,
      "optimizer state 'layers.0.bias.exp_avg' has shape [5], expected [2]")
    XCTAssertEqual(
      OptimizerStateError.invalidStep(key: "w.step", value: 1.5).description,
      "optimizer state 'w.step' holds 1.5, not a non-negative integer step count")
    XCTAssertEqual(
      OptimizerStateError.unknownEntry(key: "w.m", expected: ["momentum_buffer"]).description,
      "optimizer state 'w.m' is not '<parameter>.<entry>' with an entry in [\"momentum_buffer\"]")
  }
}
