import FlowTensor
import XCTest
import _TestSupport

/// First and second steps worked out by hand, and four-step sequences
/// against `make_optim_fixtures.py`, which replicates torch.optim's formulas.
final class OptimizerStepTests: XCTestCase {
  /// p = weight [1, −2], bias [0.5]; g = weight [0.5, 1], bias [−1] at both steps.
  func model<Scalar: TensorScalar>(_: Scalar.Type) -> TwoParameterModel<Scalar> {
    TwoParameterModel(weight: Tensor([1, -2]), bias: Tensor([0.5]))
  }

  func gradients<Scalar: TensorScalar>(_: Scalar.Type) -> [String: Tensor<Scalar>] {
    ["weight": Tensor([0.5, 1]), "bias": Tensor([-1])]
  }

  /// Runs two steps and compares both against `expected` (weight, bias).
  func checkTwoSteps<Scalar: TensorScalar, O: Optimizer>(
    _ optimizer: O, expected: [([Double], [Double])], secondGradients: [String: Tensor<Scalar>]? = nil,
    tolerance: Scalar, file: StaticString = #filePath, line: UInt = #line
  ) where O.Scalar == Scalar {
    var optimizer = optimizer
    var model = model(Scalar.self)
    for (step, (weight, bias)) in expected.enumerated() {
      optimizer.update(&model, along: step == 1 ? secondGradients ?? gradients(Scalar.self) : gradients(Scalar.self))
      XCTAssertEqual(optimizer.step, step + 1, file: file, line: line)
      assertClose(model.weight, Tensor(weight.map { Scalar($0) }), absolute: tolerance, "step \(step)", file: file, line: line)
      assertClose(model.bias, Tensor(bias.map { Scalar($0) }), absolute: tolerance, "step \(step)", file: file, line: line)
    }
  }

  func testSGDByHand() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      // Plain: p − η·g with η = 0.1.
      checkTwoSteps(
        SGD<Scalar>(learningRate: 0.1),
        expected: [([1 - 0.1 * 0.5, -2 - 0.1 * 1], [0.5 + 0.1]), ([1 - 0.2 * 0.5, -2 - 0.2 * 1], [0.5 + 0.2])],
        tolerance: tolerance)
      // Momentum μ = 0.9: b₁ = g, b₂ = 0.9·g + g = 1.9·g.
      checkTwoSteps(
        SGD<Scalar>(learningRate: 0.1, momentum: 0.9),
        expected: [
          ([0.95, -2.1], [0.6]),
          ([0.95 - 0.1 * 1.9 * 0.5, -2.1 - 0.1 * 1.9 * 1], [0.6 + 0.1 * 1.9]),
        ],
        tolerance: tolerance)
      // Nesterov: d₁ = g + 0.9·b₁ = 1.9·g, d₂ = g + 0.9·1.9·g = 2.71·g.
      checkTwoSteps(
        SGD<Scalar>(learningRate: 0.1, momentum: 0.9, nesterov: true),
        expected: [
          ([1 - 0.1 * 1.9 * 0.5, -2 - 0.1 * 1.9], [0.5 + 0.1 * 1.9]),
          ([0.905 - 0.1 * 2.71 * 0.5, -2.19 - 0.1 * 2.71], [0.69 + 0.1 * 2.71]),
        ],
        tolerance: tolerance)
      // Dampening τ = 0.5 (first step undamped as in PyTorch): b₂ = 0.9·g + 0.5·g = 1.4·g.
      checkTwoSteps(
        SGD<Scalar>(learningRate: 0.1, momentum: 0.9, dampening: 0.5),
        expected: [([0.95, -2.1], [0.6]), ([0.95 - 0.1 * 1.4 * 0.5, -2.1 - 0.1 * 1.4], [0.6 + 0.1 * 1.4])],
        tolerance: tolerance)
      // Weight decay λ = 0.1: g' = g + 0.1·p.
      // Step 1: g' = [0.5 + 0.1, 1 − 0.2] = [0.6, 0.8], bias −1 + 0.05 = −0.95.
      // Step 2: g' = [0.5 + 0.094, 1 − 0.208], bias −1 + 0.0595.
      checkTwoSteps(
        SGD<Scalar>(learningRate: 0.1, weightDecay: 0.1),
        expected: [
          ([1 - 0.06, -2 - 0.08], [0.5 + 0.095]),
          ([0.94 - 0.1 * 0.594, -2.08 - 0.1 * 0.792], [0.595 + 0.1 * (1 - 0.0595)]),
        ],
        tolerance: tolerance)
    }
    check(Float.self, tolerance: 1e-6)
    check(Double.self, tolerance: 1e-14)
  }

  func testAdamAndAdamWByHand() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      // Step 1 with m₁ = 0.1·g, v₁ = 0.001·g²: the bias-corrected ratio is
      // g/(|g| + ε), a step of η·sign(g) up to ε.
      let ratio = { (g: Double) in g / (abs(g) + 1e-8) }
      // Step 2 with gradient weight [−0.5, 2], bias [−1]:
      // m₂ = 0.9·0.1·g₁ + 0.1·g₂, m̂ = m₂/(1 − 0.9²); v₂ = 0.999·0.001·g₁² + 0.001·g₂², v̂ = v₂/(1 − 0.999²).
      let second: [String: Tensor<Scalar>] = ["weight": Tensor([-0.5, 2]), "bias": Tensor([-1])]
      func secondRatio(_ g1: Double, _ g2: Double) -> Double {
        let m = (0.09 * g1 + 0.1 * g2) / (1 - 0.81)
        let v = (0.000999 * g1 * g1 + 0.001 * g2 * g2) / (1 - 0.998001)
        return m / (v.squareRoot() + 1e-8)
      }
      let w1 = [1 - 0.01 * ratio(0.5), -2 - 0.01 * ratio(1)]
      let b1 = 0.5 - 0.01 * ratio(-1)
      checkTwoSteps(
        Adam<Scalar>(learningRate: 0.01),
        expected: [
          (w1, [b1]),
          ([w1[0] - 0.01 * secondRatio(0.5, -0.5), w1[1] - 0.01 * secondRatio(1, 2)], [b1 - 0.01 * secondRatio(-1, -1)]),
        ],
        secondGradients: second, tolerance: tolerance)
      // AdamW, λ = 0.1: p·(1 − 0.01·0.1) first, then the same Adam step.
      let decay = 1 - 0.01 * 0.1
      let dw1 = [1 * decay - 0.01 * ratio(0.5), -2 * decay - 0.01 * ratio(1)]
      let db1 = 0.5 * decay - 0.01 * ratio(-1)
      checkTwoSteps(
        AdamW<Scalar>(learningRate: 0.01, weightDecay: 0.1),
        expected: [
          (dw1, [db1]),
          ([dw1[0] * decay - 0.01 * secondRatio(0.5, -0.5), dw1[1] * decay - 0.01 * secondRatio(1, 2)],
           [db1 * decay - 0.01 * secondRatio(-1, -1)]),
        ],
        secondGradients: second, tolerance: tolerance)
      // Adam with L2 decay λ = 0.1: g' = g + 0.1·p enters the moments; at step
      // 1 the ratio is still g'/(|g'| + ε): weight g' = [0.6, 0.8], bias −0.95.
      checkTwoSteps(
        Adam<Scalar>(learningRate: 0.01, weightDecay: 0.1),
        expected: [([1 - 0.01 * ratio(0.6), -2 - 0.01 * ratio(0.8)], [0.5 - 0.01 * ratio(-0.95)])],
        tolerance: tolerance)
    }
    check(Float.self, tolerance: 1e-6)
    check(Double.self, tolerance: 1e-13)
  }

  /// Four steps of each configuration, with `bias` lacking a gradient at
  /// the second: it keeps its value, and Adam's per-parameter step count
  /// (hence its bias correction) lags `weight`'s by one, as in PyTorch.
  func testSequencesMatchTorchFormulas() throws {
    let fixture = try OptimizerFixture.load("optim_steps.json")
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      for testCase in fixture.cases {
        let c = testCase.config
        switch testCase.optimizer {
        case "sgd":
          run(SGD<Scalar>(
            learningRate: c.learningRate, momentum: c.momentum ?? 0, dampening: c.dampening ?? 0,
            nesterov: c.nesterov ?? false, weightDecay: c.weightDecay ?? 0), testCase, tolerance)
        case "adam":
          run(Adam<Scalar>(
            learningRate: c.learningRate, beta1: c.beta1 ?? 0.9, beta2: c.beta2 ?? 0.999,
            epsilon: c.epsilon ?? 1e-8, weightDecay: c.weightDecay ?? 0), testCase, tolerance)
        case "adamw":
          run(AdamW<Scalar>(
            learningRate: c.learningRate, beta1: c.beta1 ?? 0.9, beta2: c.beta2 ?? 0.999,
            epsilon: c.epsilon ?? 1e-8, weightDecay: c.weightDecay ?? 0.01), testCase, tolerance)
        default:
          XCTFail("unknown optimizer \(testCase.optimizer)")
        }
      }
    }
    func run<O: Optimizer>(_ optimizer: O, _ testCase: OptimizerFixture.Case, _ tolerance: O.Scalar) {
      var optimizer = optimizer
      let initial = fixture.initial.tensors(O.Scalar.self)
      var model = TwoParameterModel(weight: initial["weight"]!, bias: initial["bias"]!)
      let label = "\(testCase.optimizer) \(testCase.name) \(O.Scalar.self)"
      for (step, gradients) in fixture.gradients.enumerated() {
        optimizer.update(&model, along: gradients.tensors(O.Scalar.self))
        assertClose(
          model.namedParameters, testCase.expected[step].tensors(O.Scalar.self), absolute: tolerance,
          "\(label) step \(step)")
      }
      XCTAssertEqual(optimizer.step, fixture.gradients.count, label)
      assertClose(optimizer.state, testCase.state.tensors(O.Scalar.self), absolute: tolerance, relative: tolerance, label)
    }
    check(Float.self, tolerance: 2e-6)
    check(Double.self, tolerance: 1e-12)
  }

  /// Parameters that enter with graph nodes leave as plain values; a
  /// parameter without a gradient is untouched; an empty step only counts.
  func testUpdatedParametersCarryNoAutodiffState() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var model = TwoParameterModel<Scalar>(
        weight: Tensor([1, 2]).requiringGradient(), bias: Tensor([3]).requiringGradient())
      var optimizer = Adam<Scalar>(learningRate: 0.1)
      optimizer.update(&model, along: ["weight": Tensor([1, 1])])
      XCTAssertFalse(model.weight.requiresGradient)
      XCTAssertTrue(model.bias.requiresGradient, "a parameter without a gradient is left as it was")
      XCTAssertEqual(model.bias, Tensor([3]))
      XCTAssertEqual(optimizer.state.keys.sorted(), ["weight.exp_avg", "weight.exp_avg_sq", "weight.step"])
      optimizer.update(&model, along: [:])
      XCTAssertEqual(optimizer.step, 2)
      XCTAssertEqual(optimizer.state["weight.step"], Tensor(1))
      var sgd = SGD<Scalar>(learningRate: 0.1, momentum: 0.5)
      model.bias = model.bias.requiringGradient()
      sgd.update(&model, along: ["bias": Tensor([2])])
      XCTAssertFalse(model.bias.requiresGradient)
      assertClose(model.bias, Tensor([Scalar(3 - 0.2)]), absolute: 1e-6)
    }
    check(Float.self)
    check(Double.self)
  }

  /// Size-0 parameters pass through every optimizer; a parameter larger than
  /// the parallel grain is updated in chunks exactly as a sequential loop would.
  func testEmptyAndLargeParameters() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 7)
      let count = 3 * Parallel.elementwiseGrain + 5
      let start = Tensor<Scalar>.randomNormal(shape: [count], using: &generator)
      let gradient = Tensor<Scalar>.randomNormal(shape: [count], using: &generator)
      var model = TwoParameterModel(weight: start, bias: Tensor<Scalar>.zeros(shape: [0]))
      var optimizer = AdamW<Scalar>(learningRate: 0.01, weightDecay: 0.1)
      optimizer.update(&model, along: ["weight": gradient, "bias": Tensor.zeros(shape: [0])])
      XCTAssertEqual(model.bias.shape, [0])
      // Step 1: p·(1 − 0.001) − 0.01·g/(|g|·(√0.001/√0.001) + ε), elementwise.
      let (p, g) = (start.scalars, gradient.scalars)
      let c = AdamConstantsForTest<Scalar>()
      let expected = (0..<count).map { i -> Scalar in
        let m = c.zero + c.averageWeight * (g[i] - c.zero)
        let v = c.zero * c.beta2 + c.squareWeight * g[i] * g[i]
        return p[i] * c.decay + c.negativeStepSize * (m / (v.squareRoot() / c.root + c.epsilon))
      }
      assertIdentical(model.weight, Tensor(expected))
    }
    check(Float.self)
    check(Double.self)
  }
}

/// Step-1 AdamW constants for β = (0.9, 0.999), ε = 10⁻⁸, η = 0.01, λ = 0.1,
/// computed in `Double` and rounded, as the optimizer rounds them.
struct AdamConstantsForTest<Scalar: TensorScalar> {
  let zero: Scalar = 0
  let averageWeight: Scalar = rounded(1 - 0.9)
  let beta2: Scalar = rounded(0.999)
  let squareWeight: Scalar = rounded(1 - 0.999)
  let root: Scalar = rounded((1 - 0.999).squareRoot())
  let epsilon: Scalar = rounded(1e-8)
  let decay: Scalar = rounded(1 - 0.01 * 0.1)
  let negativeStepSize: Scalar = rounded(-(0.01 / (1 - 0.9)))
}

fileprivate func rounded<Scalar: TensorScalar>(_ value: Double) -> Scalar { Scalar(value) }
