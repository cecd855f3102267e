import FlowTensor
import XCTest
import _TestSupport

/// The fused `layerNormalization` against the formula in scalar loops and
/// its derivatives against central differences.
final class LayerNormTests: XCTestCase {
  /// (x − μ)/√(σ² + ε)·scale + offset row by row, in Double loops.
  private func reference<Scalar: TensorScalar>(
    _ x: Tensor<Scalar>, scale: Tensor<Scalar>, offset: Tensor<Scalar>, epsilon: Double
  ) -> Tensor<Scalar> {
    let features = x.shape.last!
    let values = x.scalars.map(Double.init)
    var result: [Scalar] = []
    for row in 0..<(values.count / features) {
      let slice = values[(row * features)..<((row + 1) * features)]
      let mean = slice.reduce(0, +) / Double(features)
      let variance = slice.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(features)
      for (j, value) in slice.enumerated() {
        result.append(Scalar((value - mean) / (variance + epsilon).squareRoot() * Double(scale[j]) + Double(offset[j])))
      }
    }
    return Tensor(shape: x.shape, scalars: result)
  }

  func testMatchesTheFormula() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 1)
      for shape in [[2, 3, 7], [5, 1], [4], [0, 3], [3, 300]] {
        let features = shape.last!
        let x = Tensor<Scalar>.randomNormal(shape: shape, mean: 3, standardDeviation: 2, using: &generator)
        let scale = Tensor<Scalar>.randomNormal(shape: [features], using: &generator)
        let offset = Tensor<Scalar>.randomNormal(shape: [features], using: &generator)
        assertClose(
          layerNormalization(x, scale: scale, offset: offset, epsilon: 1e-5),
          reference(x, scale: scale, offset: offset, epsilon: 1e-5), absolute: tolerance, relative: tolerance, "\(shape)")
      }
      // A constant row normalises to zero: only the offset remains.
      let constant = layerNormalization(
        Tensor<Scalar>(repeating: 4, shape: [1, 3]), scale: Tensor([2, 2, 2]), offset: Tensor([1, 0, -1]), epsilon: 1e-5)
      XCTAssertEqual(constant.scalars, [1, 0, -1])
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-13)
  }

  func testDerivativesMatchCentralDifferences() {
    var generator = SeededGenerator(seed: 2)
    let inputs = [
      Tensor<Double>.randomNormal(shape: [2, 3, 5], using: &generator),
      Tensor<Double>.randomNormal(shape: [5], using: &generator),
      Tensor<Double>.randomNormal(shape: [5], using: &generator),
    ]
    let body: ([Tensor<Double>]) -> Tensor<Double> = {
      layerNormalization($0[0], scale: $0[1], offset: $0[2], epsilon: 1e-3)
    }
    let reverse = checkVJP(of: body, at: inputs)
    XCTAssertTrue(reverse.passed, "\(reverse)")
    let forward = checkJVP(of: body, at: inputs)
    XCTAssertTrue(forward.passed, "\(forward)")
    // Each operand alone carries the tangent (the others' are zero).
    for index in 0..<3 {
      let partial = checkJVP(of: { p in body(inputs.indices.map { $0 == index ? p[0] : inputs[$0] }) }, at: [inputs[index]])
      XCTAssertTrue(partial.passed, "operand \(index): \(partial)")
    }
  }

  /// Many rows (several rows per block of the scale and offset sums) and
  /// an empty batch: the gradients against the normalisation written out in
  /// tensor ops.
  func testGradientsOverManyRowsMatchTheComposite() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 4)
      for shape in [[3, 70, 9], [0, 9]] {
        let x = Tensor<Scalar>.randomNormal(shape: shape, mean: 1, standardDeviation: 2, using: &generator)
        let scale = Tensor<Scalar>.randomNormal(shape: [9], using: &generator)
        let offset = Tensor<Scalar>.randomNormal(shape: [9], using: &generator)
        let weights = Tensor<Scalar>.randomNormal(shape: shape, using: &generator)
        let (_, fused) = valueWithGradient(at: [x, scale, offset]) { p in
          (layerNormalization(p[0], scale: p[1], offset: p[2], epsilon: 1e-5) * weights).sum()
        }
        let (_, expected) = valueWithGradient(at: [x, scale, offset]) { p in
          let last = p[0].rank - 1
          let centered = p[0] - p[0].mean(alongAxes: [last], keepingDimensions: true)
          let variance = square(centered).mean(alongAxes: [last], keepingDimensions: true)
          return ((centered * rsqrt(variance + 1e-5) * p[1] + p[2]) * weights).sum()
        }
        for (index, (actual, reference)) in zip(fused, expected).enumerated() {
          assertClose(actual, reference, absolute: tolerance, relative: tolerance, "\(shape), operand \(index)")
        }
      }
    }
    check(Float.self, tolerance: 1e-3)
    check(Double.self, tolerance: 1e-11)
  }

  /// The tangent rule is itself differentiable (reverse over forward).
  func testTangentDifferentiatesInReverseMode() {
    var generator = SeededGenerator(seed: 3)
    let x = Tensor<Double>.randomNormal(shape: [3, 4], using: &generator)
    let direction = Tensor<Double>.randomNormal(shape: [3, 4], using: &generator)
    let scale = Tensor<Double>.randomNormal(shape: [4], using: &generator)
    let offset = Tensor<Double>([0.1, 0.2, 0.3, 0.4])
    let report = checkVJP(
      of: { p in
        jvp(of: { layerNormalization($0, scale: p[1], offset: offset, epsilon: 1e-3) }, at: p[0], along: direction).tangent
      }, at: [x, scale])
    XCTAssertTrue(report.passed, "\(report)")
  }
}
