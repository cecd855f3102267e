import FlowTensor
import XCTest
import _TestSupport

/// `causalSelfAttention` against scalar loops and against the composite of
/// head splitting, `matmul` and `causalSoftmax`; lengths past 64 run
/// several blocks of queries.
final class SelfAttentionTests: XCTestCase {
  /// softmax over keys j ≤ i of q_i·k_j/√d, times v, per sample and head, in Double loops.
  private func reference<Scalar: TensorScalar>(_ projections: Tensor<Scalar>, heads: Int) -> Tensor<Scalar> {
    let (batch, length, width) = (projections.shape[0], projections.shape[1], projections.shape[2] / 3)
    let size = width / heads
    let p = projections.scalars.map(Double.init)
    var result = [Scalar](repeating: 0, count: batch * length * width)
    func at(_ sample: Int, _ position: Int, _ part: Int, _ head: Int, _ feature: Int) -> Double {
      p[(sample * length + position) * 3 * width + part * width + head * size + feature]
    }
    for sample in 0..<batch {
      for head in 0..<heads {
        for query in 0..<length {
          let scores = (0...query).map { key in
            (0..<size).reduce(0.0) { $0 + at(sample, query, 0, head, $1) * at(sample, key, 1, head, $1) }
              / Double(size).squareRoot()
          }
          let largest = scores.max()!
          let weights = scores.map { Double.exp($0 - largest) }
          let total = weights.reduce(0, +)
          for feature in 0..<size {
            let value = (0...query).reduce(0.0) { $0 + weights[$1] * at(sample, $1, 2, head, feature) } / total
            result[(sample * length + query) * width + head * size + feature] = Scalar(value)
          }
        }
      }
    }
    return Tensor(shape: [batch, length, width], scalars: result)
  }

  /// The same attention from the tensor ops it fuses.
  private func composite<Scalar: TensorScalar>(_ projections: Tensor<Scalar>, heads: Int) -> Tensor<Scalar> {
    let (batch, length, width) = (projections.shape[0], projections.shape[1], projections.shape[2] / 3)
    let size = width / heads
    let parts = projections.reshaped(to: [batch, length, 3, heads, size])
      .transposed(permutation: [2, 0, 3, 1, 4])
      .split(count: 3, alongAxis: 0)
      .map { $0.reshaped(to: [batch, heads, length, size]) }
    let queries = parts[0] * Scalar(1 / Double(size).squareRoot())
    let attended = matmul(causalSoftmax(matmul(queries, parts[1], transposingB: true)), parts[2])
    return attended.transposed(permutation: [0, 2, 1, 3]).reshaped(to: [batch, length, width])
  }

  func testMatchesScalarLoopsAcrossBlocksAndHeads() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 11)
      for (batch, length, width, heads) in [(2, 5, 6, 2), (1, 1, 4, 1), (2, 70, 6, 3), (1, 130, 4, 2)] {
        let projections = Tensor<Scalar>.randomNormal(shape: [batch, length, 3 * width], using: &generator) * 2
        assertClose(
          causalSelfAttention(projections, headCount: heads), reference(projections, heads: heads),
          absolute: tolerance, relative: tolerance, "batch \(batch), length \(length), width \(width), heads \(heads)")
      }
      // Empty batch and empty sequence.
      XCTAssertEqual(causalSelfAttention(Tensor<Scalar>.zeros(shape: [0, 3, 12]), headCount: 2).shape, [0, 3, 4])
      XCTAssertEqual(causalSelfAttention(Tensor<Scalar>.zeros(shape: [2, 0, 12]), headCount: 2).shape, [2, 0, 4])
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-12)
  }

  /// Position i's output does not move when positions after i change.
  func testLaterPositionsDoNotReachEarlierOutputs() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 12)
      let projections = Tensor<Scalar>.randomNormal(shape: [1, 80, 12], using: &generator)
      let changed = Tensor(
        concatenating: [
          projections.sliced(alongAxis: 1, from: 0, to: 66),
          Tensor<Scalar>.randomNormal(shape: [1, 14, 12], using: &generator),
        ], alongAxis: 1)
      let (before, after) = (causalSelfAttention(projections, headCount: 2), causalSelfAttention(changed, headCount: 2))
      XCTAssertEqual(before.sliced(alongAxis: 1, from: 0, to: 66), after.sliced(alongAxis: 1, from: 0, to: 66))
      XCTAssertNotEqual(before.sliced(alongAxis: 1, from: 66, to: 67), after.sliced(alongAxis: 1, from: 66, to: 67))
    }
    check(Float.self)
    check(Double.self)
  }

  func testDerivativesMatchCentralDifferences() {
    var generator = SeededGenerator(seed: 13)
    for (batch, length, width, heads) in [(2, 4, 6, 2), (1, 3, 4, 1)] {
      let projections = Tensor<Double>.randomNormal(shape: [batch, length, 3 * width], using: &generator)
      let body: ([Tensor<Double>]) -> Tensor<Double> = { causalSelfAttention($0[0], headCount: heads) }
      let reverse = checkVJP(of: body, at: [projections])
      XCTAssertTrue(reverse.passed, "\(reverse)")
      let forward = checkJVP(of: body, at: [projections])
      XCTAssertTrue(forward.passed, "\(forward)")
    }
  }

  /// Gradients and tangents over several blocks of queries against the composite's.
  func testDerivativesOverSeveralBlocksMatchTheComposite() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 14)
      let projections = Tensor<Scalar>.randomNormal(shape: [2, 150, 12], using: &generator)
      let weights = Tensor<Scalar>.randomNormal(shape: [2, 150, 4], using: &generator)
      let direction = Tensor<Scalar>.randomNormal(shape: [2, 150, 12], using: &generator)
      let (fusedValue, fused) = valueWithGradient(at: projections) { (causalSelfAttention($0, headCount: 2) * weights).sum() }
      let (expectedValue, expected) = valueWithGradient(at: projections) { (self.composite($0, heads: 2) * weights).sum() }
      assertClose(fusedValue, expectedValue, absolute: tolerance, relative: tolerance)
      assertClose(fused, expected, absolute: tolerance, relative: tolerance)
      let (_, tangent) = jvp(of: { causalSelfAttention($0, headCount: 2) }, at: projections, along: direction)
      let (_, expectedTangent) = jvp(of: { self.composite($0, heads: 2) }, at: projections, along: direction)
      assertClose(tangent, expectedTangent, absolute: tolerance, relative: tolerance)
    }
    check(Float.self, tolerance: 1e-4)
    check(Double.self, tolerance: 1e-11)
  }

  /// Reverse over forward: the gradient of a directional derivative, fused against composite.
  func testReverseOverForwardMatchesTheComposite() {
    var generator = SeededGenerator(seed: 15)
    let projections = Tensor<Double>.randomNormal(shape: [1, 5, 12], using: &generator)
    let direction = Tensor<Double>.randomNormal(shape: [1, 5, 12], using: &generator)
    func directional(_ body: @escaping (Tensor<Double>) -> Tensor<Double>) -> Tensor<Double> {
      valueWithGradient(at: projections) { x in
        let (_, tangent) = jvp(of: body, at: x, along: direction)
        return (tangent * tangent).sum()
      }.gradient
    }
    assertClose(
      directional { causalSelfAttention($0, headCount: 2) }, directional { self.composite($0, heads: 2) },
      absolute: 1e-11, relative: 1e-11)
  }
}
