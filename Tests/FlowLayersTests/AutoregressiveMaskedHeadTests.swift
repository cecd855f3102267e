import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

/// The within-position MADE head of Mix-1.
final class AutoregressiveMaskedHeadTests: XCTestCase {
  /// Row d of the output moves with features < d and with the context, never with features ≥ d.
  func testOutputsOfFeatureDDependOnEarlierFeaturesOnly() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 1)
      var head = MaskedAutoregressiveHead<Scalar>(features: 4, hiddenSize: 10, outputsPerFeature: 3, using: &generator)
      head.output.weight = Tensor.randomNormal(shape: head.output.weight.shape, using: &generator)
      let x = Tensor<Scalar>.randomNormal(shape: [2, 4], using: &generator)
      let context = Tensor<Scalar>.randomNormal(shape: [2, 10], using: &generator)
      let y = head(x, context: context)
      XCTAssertEqual(y.shape, [2, 4, 3])
      for changed in 0..<4 {
        var values = x.scalars
        values[changed] += 1
        values[4 + changed] -= 1
        let other = head(Tensor(shape: x.shape, scalars: values), context: context)
        for feature in 0..<4 {
          let moved = (0..<2).contains { sample in (0..<3).contains { other[sample, feature, $0] != y[sample, feature, $0] } }
          XCTAssertEqual(moved, feature > changed, "feature \(feature) after changing input \(changed)")
        }
      }
      let shifted = head(x, context: context + 1)
      XCTAssertNotEqual(shifted.sliced(alongAxis: 1, from: 0, to: 1), y.sliced(alongAxis: 1, from: 0, to: 1))
    }
    check(Float.self)
    check(Double.self)
  }

  func testStartsAtZeroAndDifferentiates() {
    var generator = SeededGenerator(seed: 2)
    let head = MaskedAutoregressiveHead<Double>(features: 3, hiddenSize: 5, outputsPerFeature: 2, using: &generator)
    let x = Tensor<Double>.randomNormal(shape: [2, 1, 3], using: &generator)
    let context = Tensor<Double>.randomNormal(shape: [2, 1, 5], using: &generator)
    XCTAssertEqual(head(x, context: context), Tensor.zeros(shape: [2, 1, 3, 2]))
    let weight = Tensor<Double>.randomNormal(shape: [5, 6], using: &generator)
    let body: ([Tensor<Double>]) -> Tensor<Double> = { p in
      var copy = head
      copy.output = Dense(weight: p[2], bias: copy.output.bias)
      return copy(p[0], context: p[1])
    }
    let reverse = checkVJP(of: body, at: [x, context, weight])
    XCTAssertTrue(reverse.passed, "\(reverse)")
    let forward = checkJVP(of: body, at: [x, context, weight])
    XCTAssertTrue(forward.passed, "\(forward)")
  }
}
