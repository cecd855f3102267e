import FlowTensor
import XCTest
import _TestSupport

/// The rectangular-flow estimator needs gradients of quantities that are
/// themselves forward-mode derivatives; these tests check that composition.
final class ReverseOverForwardTests: XCTestCase {
  /// f(x; θ) = W₂·silu(W₁·x + b₁) + b₂ on a batch, silu(z) = z / (1 + e^(−z))
  /// written with primitive ops.
  static func network(_ x: Tensor<Double>, _ theta: [Tensor<Double>]) -> Tensor<Double> {
    let z = matmul(x, theta[0]) + theta[1]
    let hidden = z / (1 + exp(-z))
    return matmul(hidden, theta[2]) + theta[3]
  }

  static func parameters(seed: UInt64) -> [Tensor<Double>] {
    var generator = SeededGenerator(seed: seed)
    return [[3, 5], [5], [5, 2], [2]].map { Tensor<Double>.randomNormal(shape: $0, using: &generator) * 0.7 }
  }

  /// ∇θ ‖J_f(x; θ)·v‖² by reverse mode through a JVP, against central differences.
  func testGradientOfSquaredJacobianVectorProduct() {
    var generator = SeededGenerator(seed: 9)
    let x = Tensor<Double>.randomNormal(shape: [4, 3], using: &generator)
    let v = Tensor<Double>.randomNormal(shape: [4, 3], using: &generator)
    func loss(_ theta: [Tensor<Double>]) -> Tensor<Double> {
      let (_, tangent) = jvp(of: { Self.network($0, theta) }, at: x, along: v)
      return (tangent * tangent).sum()
    }
    let theta = Self.parameters(seed: 10)
    let (value, gradients) = valueWithGradient(at: theta, in: loss)
    XCTAssertGreaterThan(value.scalar, 0)
    let step = 1e-6
    var worst = 0.0
    for (index, parameter) in theta.enumerated() {
      let analytic = gradients[index].scalars
      for element in 0..<parameter.scalarCount {
        var plus = theta
        var minus = theta
        plus[index].withUnsafeMutableBufferPointer { $0[element] += step }
        minus[index].withUnsafeMutableBufferPointer { $0[element] -= step }
        let numeric = (loss(plus).scalar - loss(minus).scalar) / (2 * step)
        worst = max(worst, abs(analytic[element] - numeric) / (1e-7 + 1e-6 * abs(numeric)))
      }
    }
    XCTAssertLessThanOrEqual(worst, 1, "worst error/tolerance \(worst)")
  }

  /// d one-hot directions pushed through one pass give the whole Jacobian,
  /// equal to d separate passes and to central differences.
  func testBatchedTangentsGiveTheJacobian() {
    let theta = Self.parameters(seed: 11)
    var generator = SeededGenerator(seed: 12)
    let x = Tensor<Double>.randomNormal(shape: [1, 3], using: &generator)
    let oneHots = Tensor<Double>.identity(size: 3).reshaped(to: [3, 1, 3])
    let (value, jacobian) = jvp(of: { Self.network($0, theta) }, at: x, along: oneHots)
    XCTAssertEqual(value.shape, [1, 2])
    XCTAssertEqual(jacobian.shape, [3, 1, 2])
    for column in 0..<3 {
      var direction = Tensor<Double>.zeros(shape: [1, 3])
      direction[0, column] = 1
      let (_, single) = jvp(of: { Self.network($0, theta) }, at: x, along: direction)
      let step = 1e-6
      let numeric = (Self.network(x + step * direction, theta) - Self.network(x - step * direction, theta)) / (2 * step)
      for output in 0..<2 {
        XCTAssertEqual(jacobian[column, 0, output], single[0, output], accuracy: 1e-14)
        XCTAssertEqual(jacobian[column, 0, output], numeric[0, output], accuracy: 1e-8)
      }
    }
  }
}
