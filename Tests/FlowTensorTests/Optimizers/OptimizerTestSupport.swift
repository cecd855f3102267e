import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// A layer with two parameters, `weight` and `bias`, as the optimizer tests
/// move them.
struct TwoParameterModel<Scalar: TensorScalar>: Layer {
  var weight: Tensor<Scalar>
  var bias: Tensor<Scalar>

  mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("weight", &weight)
    visitor.visit("bias", &bias)
  }
}

/// Two-parameter layers under `layers.0.`, `layers.1.`, …, for dotted state names.
struct StackedModel<Scalar: TensorScalar>: Layer {
  var layers: [TwoParameterModel<Scalar>]

  mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("layers", &layers)
  }
}

/// min ‖A x − b‖² over x, with A `[16, 4]` seeded and scaled by 1/4 so that
/// AᵀA is near the identity (its eigenvalues, for this seed, well inside
/// [0.25, 2.25]): well conditioned, and every optimizer here converges.
struct LeastSquares<Scalar: TensorScalar>: Layer {
  var x: Tensor<Scalar>
  let a: Tensor<Scalar>
  let b: Tensor<Scalar>

  init(seed: UInt64) {
    var generator = SeededGenerator(seed: seed)
    a = Tensor.randomNormal(shape: [16, 4], standardDeviation: 0.25, using: &generator)
    b = Tensor.randomNormal(shape: [16], using: &generator)
    x = Tensor.zeros(shape: [4])
  }

  mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("x", &x)
  }

  func loss() -> Tensor<Scalar> {
    let residual = matmul(a, x) - b
    return (residual * residual).sum()
  }

  /// The minimiser of ‖A x − b‖² + (λ/2)‖x‖²: the solution of the normal
  /// equations (2AᵀA + λI) x = 2Aᵀb.
  func optimum(l2 lambda: Scalar = 0) throws -> Tensor<Scalar> {
    let normal = 2 * matmul(a, a, transposingA: true) + lambda * Tensor.identity(size: 4)
    return try solve(normal, 2 * matmul(b, a))
  }
}

/// The optimizer fixtures (`Fixtures/make_optim_fixtures.py`).
struct OptimizerFixture: Decodable {
  struct Configuration: Decodable {
    let learningRate: Double
    let momentum: Double?
    let dampening: Double?
    let nesterov: Bool?
    let weightDecay: Double?
    let beta1: Double?
    let beta2: Double?
    let epsilon: Double?
  }

  struct Case: Decodable {
    let optimizer: String
    let name: String
    let config: Configuration
    /// The parameters after each step.
    let expected: [[String: FixtureTensor]]
    /// The state after the last step.
    let state: [String: FixtureTensor]
  }

  let initial: [String: FixtureTensor]
  /// One set per step; a parameter missing from a set has no gradient then.
  let gradients: [[String: FixtureTensor]]
  let cases: [Case]

  static func load(_ name: String, file: StaticString = #filePath) throws -> OptimizerFixture {
    let url = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fixtures").appendingPathComponent(name)
    return try JSONDecoder().decode(OptimizerFixture.self, from: Data(contentsOf: url))
  }
}

extension Dictionary where Key == String, Value == FixtureTensor {
  func tensors<Scalar: TensorScalar>(_: Scalar.Type) -> [String: Tensor<Scalar>] {
    mapValues { $0.tensor(Scalar.self) }
  }
}

/// Asserts both dictionaries have the same names and close tensors.
func assertClose<Scalar: TensorScalar>(
  _ actual: [String: Tensor<Scalar>], _ expected: [String: Tensor<Scalar>], absolute: Scalar, relative: Scalar = 0,
  _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertEqual(actual.keys.sorted(), expected.keys.sorted(), message(), file: file, line: line)
  for (name, value) in expected {
    guard let found = actual[name] else { continue }
    assertClose(found, value, absolute: absolute, relative: relative, "\(name) \(message())", file: file, line: line)
  }
}
