import FlowTensor
import XCTest
import _TestSupport

/// Each optimizer minimises the convex ‖A x − b‖² through
/// `valueWithGradient(at:in:)` and reaches the solution of the normal
/// equations.
final class OptimizerConvergenceTests: XCTestCase {
  /// Runs `steps` updates from x = 0 and returns the final x.
  func minimise<O: Optimizer, Schedule: LearningRateSchedule>(
    _ problem: LeastSquares<O.Scalar>, with optimizer: O, steps: Int, schedule: Schedule
  ) -> Tensor<O.Scalar> {
    var optimizer = optimizer
    var model = problem
    for _ in 0..<steps {
      let (_, gradients) = valueWithGradient(at: model) { $0.loss() }
      optimizer.update(&model, along: gradients, schedule: schedule)
    }
    XCTAssertEqual(optimizer.step, steps)
    return model.x
  }

  func testEveryOptimizerReachesTheLeastSquaresSolution() throws {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) throws {
      let problem = LeastSquares<Scalar>(seed: 11)
      let optimum = try problem.optimum()
      // The problem is not trivial: the solution is far from the start.
      XCTAssertGreaterThan(Double(optimum.scalars.map(abs).max()!), 0.5)
      let constant = ConstantLearningRate(0.1)
      let decaying = WarmupCosineDecay(peak: 0.05, warmupSteps: 50, totalSteps: 1500)
      let runs: [(String, Tensor<Scalar>)] = [
        ("SGD", minimise(problem, with: SGD<Scalar>(learningRate: 0.1), steps: 600, schedule: constant)),
        ("SGD momentum",
         minimise(problem, with: SGD<Scalar>(learningRate: 0.1, momentum: 0.5), steps: 400, schedule: constant)),
        ("SGD Nesterov",
         minimise(problem, with: SGD<Scalar>(learningRate: 0.1, momentum: 0.5, nesterov: true), steps: 400,
                  schedule: constant)),
        ("Adam", minimise(problem, with: Adam<Scalar>(beta2: 0.99), steps: 1500, schedule: decaying)),
        // AdamW's fixed points solve the problem under ‖x‖∞ ≤ 1/λ = 10
        // (Xie & Li 2024), which the unconstrained solution satisfies. It
        // gets there more slowly: the decay λ·p is balanced by m̂/√v̂ until
        // v forgets the early, large gradients.
        ("AdamW",
         minimise(problem, with: AdamW<Scalar>(beta2: 0.99, weightDecay: 0.1), steps: 6000,
                  schedule: WarmupCosineDecay(peak: 0.05, warmupSteps: 50, totalSteps: 6000))),
      ]
      for (name, x) in runs {
        assertClose(x, optimum, absolute: tolerance, "\(name) \(Scalar.self)")
      }
    }
    try check(Float.self, tolerance: 1e-4)
    try check(Double.self, tolerance: 1e-6)
  }

  /// SGD's L2 weight decay λ minimises ‖A x − b‖² + (λ/2)‖x‖², whose
  /// solution is (2AᵀA + λI)⁻¹ 2Aᵀb; so does Adam's (a different path to
  /// the same stationary point).
  func testWeightDecayReachesTheRegularisedSolution() throws {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) throws {
      let problem = LeastSquares<Scalar>(seed: 11)
      let optimum = try problem.optimum(l2: 0.5)
      let plain = try problem.optimum()
      XCTAssertGreaterThan(Double((optimum - plain).scalars.map(abs).max()!), 0.01, "the decay must move the solution")
      let sgd = minimise(
        problem, with: SGD<Scalar>(learningRate: 0.1, momentum: 0.5, weightDecay: 0.5), steps: 400,
        schedule: ConstantLearningRate(0.1))
      assertClose(sgd, optimum, absolute: tolerance, "SGD \(Scalar.self)")
      let adam = minimise(
        problem, with: Adam<Scalar>(beta2: 0.99, weightDecay: 0.5), steps: 1500,
        schedule: WarmupCosineDecay(peak: 0.05, warmupSteps: 50, totalSteps: 1500))
      assertClose(adam, optimum, absolute: tolerance, "Adam \(Scalar.self)")
    }
    try check(Float.self, tolerance: 1e-4)
    try check(Double.self, tolerance: 1e-6)
  }
}
