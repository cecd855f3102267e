import FlowTensor
import XCTest
import _TestSupport

/// Reverse- and forward-mode derivatives of the reductions and of softmax,
/// against central differences (`checkVJP`/`checkJVP`, which also compare
/// a batch of two tangents against two single passes).
final class ReductionDerivativeTests: XCTestCase {
  typealias Body = ([Tensor<Double>]) -> Tensor<Double>

  /// Distinct normal scalars, so that max and min have no ties.
  private func random(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
    var generator = SeededGenerator(seed: seed)
    return Tensor.randomNormal(shape: shape, using: &generator)
  }

  /// Checks both modes of `body` at one random input of `shape`.
  private func check(
    _ name: String, shape: [Int], seed: UInt64 = 1, file: StaticString = #filePath, line: UInt = #line,
    _ body: @escaping (Tensor<Double>) -> Tensor<Double>
  ) {
    let input = random(shape, seed: seed)
    let reverse = checkVJP(of: { body($0[0]) }, at: [input])
    XCTAssertTrue(reverse.passed, "\(name) on \(shape): \(reverse)", file: file, line: line)
    let forward = checkJVP(of: { body($0[0]) }, at: [input])
    XCTAssertTrue(forward.passed, "\(name) on \(shape): \(forward)", file: file, line: line)
  }

  /// The axis sets tried on every rank-3 shape: none, one (positive and
  /// negative), two out of order, and all.
  private let axisSets: [[Int]] = [[], [0], [-1], [1], [2, 0], [0, 1, 2]]
  private let shapes: [[Int]] = [[2, 3, 4], [3, 1, 2]]

  func testSumAndMean() {
    for shape in shapes {
      for axes in axisSets {
        for keep in [false, true] {
          check("sum(alongAxes: \(axes), keepingDimensions: \(keep))", shape: shape) {
            $0.sum(alongAxes: axes, keepingDimensions: keep)
          }
          check("mean(alongAxes: \(axes), keepingDimensions: \(keep))", shape: shape) {
            $0.mean(alongAxes: axes, keepingDimensions: keep)
          }
        }
      }
    }
    check("sum()", shape: [2, 3]) { $0.sum() }
    check("mean()", shape: [2, 3]) { $0.mean() }
    check("mean() of a rank-0 tensor", shape: []) { $0.mean() }
  }

  func testVariance() {
    for shape in shapes {
      for axes in axisSets where !axes.isEmpty {
        for keep in [false, true] {
          // A divisor of 0 (one scalar, correction 1) makes the value NaN; skipped.
          let count = axes.map { shape[($0 + 3) % 3] }.reduce(1, *)
          for correction in [0, 1] where count > correction {
            check("variance(alongAxes: \(axes), keepingDimensions: \(keep), correction: \(correction))", shape: shape) {
              $0.variance(alongAxes: axes, keepingDimensions: keep, correction: correction)
            }
          }
        }
      }
    }
    check("variance()", shape: [2, 3]) { $0.variance() }
    check("variance(correction: 1)", shape: [4]) { $0.variance(correction: 1) }
  }

  func testMaxAndMinWithoutTies() {
    for shape in shapes {
      for axes in axisSets {
        for keep in [false, true] {
          check("max(alongAxes: \(axes), keepingDimensions: \(keep))", shape: shape) {
            $0.max(alongAxes: axes, keepingDimensions: keep)
          }
          check("min(alongAxes: \(axes), keepingDimensions: \(keep))", shape: shape) {
            $0.min(alongAxes: axes, keepingDimensions: keep)
          }
        }
      }
    }
    check("max()", shape: [2, 3]) { $0.max() }
    check("min()", shape: [3, 1]) { $0.min() }
  }

  /// Ties share the gradient evenly (torch's amax/amin), and the tangent is
  /// the mean of the tied positions' tangents.
  func testMaxAndMinSplitTiesEvenly() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let x = Tensor<Scalar>([[1, 3, 3], [2, 0, 2], [5, 5, 5]])
      let maxGradient = valueWithGradient(at: x) { ($0.max(alongAxes: [1]) * Tensor([1, 2, 3])).sum() }.gradient
      assertClose(maxGradient, Tensor<Scalar>([[0, 0.5, 0.5], [1, 0, 1], [1, 1, 1]]), absolute: 1e-6)
      let minGradient = valueWithGradient(at: x) { $0.min(alongAxes: [0]).sum() }.gradient
      assertClose(minGradient, Tensor<Scalar>([[1, 0, 0], [0, 1, 1], [0, 0, 0]]), absolute: 1e-6)
      let wholeGradient = valueWithGradient(at: x) { $0.max() }.gradient
      assertClose(wholeGradient, Tensor<Scalar>([[0, 0, 0], [0, 0, 0], [1, 1, 1]]) / 3, absolute: 1e-6)
      let direction = Tensor<Scalar>([[9, 1, 2], [4, 7, 6], [3, 0, 6]])
      let (value, tangent) = jvp(of: { $0.max(alongAxes: [-1], keepingDimensions: true) }, at: x, along: direction)
      assertClose(value, Tensor<Scalar>(shape: [3, 1], scalars: [3, 2, 5]), absolute: 0)
      assertClose(tangent, Tensor<Scalar>(shape: [3, 1], scalars: [1.5, 5, 3]), absolute: 1e-6)
    }
    check(Float.self)
    check(Double.self)
  }

  func testLogSumExp() {
    for shape in shapes {
      for axes in axisSets {
        for keep in [false, true] {
          check("logSumExp(alongAxes: \(axes), keepingDimensions: \(keep))", shape: shape) {
            $0.logSumExp(alongAxes: axes, keepingDimensions: keep)
          }
        }
      }
    }
    check("logSumExp()", shape: [2, 3]) { $0.logSumExp() }
    // Large inputs: the rule must use the shifted form too.
    check("logSumExp of large inputs", shape: [2, 3]) { ($0 * 300).logSumExp(alongAxes: [1]) }
  }

  func testSoftmaxAndLogSoftmax() {
    for shape in shapes {
      for axis in [0, 1, -1] {
        check("softmax(alongAxis: \(axis))", shape: shape) { softmax($0, alongAxis: axis) }
        check("logSoftmax(alongAxis: \(axis))", shape: shape) { logSoftmax($0, alongAxis: axis) }
      }
    }
    check("softmax of a vector", shape: [5]) { softmax($0) }
    check("logSoftmax of large inputs", shape: [2, 4]) { logSoftmax($0 * 500) }
  }

  /// The tangents of the rules that read the primal are themselves
  /// recorded: the gradient of a JVP (one direction, and a batch of two)
  /// agrees with central differences.
  func testReverseOverForward() {
    let cases: [(String, [Int], (Tensor<Double>) -> Tensor<Double>)] = [
      ("mean", [3, 4], { $0.mean(alongAxes: [-1]) }),
      ("variance", [3, 4], { $0.variance(alongAxes: [0], correction: 1) }),
      ("max", [3, 4], { $0.max(alongAxes: [1], keepingDimensions: true) }),
      ("min", [3, 4], { $0.min() }),
      ("logSumExp", [3, 4], { $0.logSumExp(alongAxes: [0, 1]) }),
      ("softmax", [3, 4], { softmax($0, alongAxis: 0) }),
      ("logSoftmax", [3, 4], { logSoftmax($0) }),
    ]
    for (name, shape, function) in cases {
      let input = random(shape, seed: 3)
      let direction = random(shape, seed: 4)
      let directions = random([2] + shape, seed: 5)
      let single = checkVJP(of: { p in jvp(of: function, at: p[0], along: direction).tangent }, at: [input])
      XCTAssertTrue(single.passed, "\(name): \(single)")
      let batched = checkVJP(of: { p in jvp(of: function, at: p[0], along: directions).tangent }, at: [input])
      XCTAssertTrue(batched.passed, "\(name), two directions: \(batched)")
    }
  }
}
