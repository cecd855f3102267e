import FlowTensor
import XCTest
import _TestSupport

final class GradientClippingTests: XCTestCase {
  /// ‖([3, 4], [[12]])‖ = √(9 + 16 + 144) = 13.
  func gradients<Scalar: TensorScalar>(_: Scalar.Type) -> [String: Tensor<Scalar>] {
    ["a": Tensor([3, 4]), "b": Tensor([[12]]), "empty": Tensor.zeros(shape: [2, 0])]
  }

  func testClipsAboveTheMaximumKeepingTheDirection() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var clipped = gradients(Scalar.self)
      let norm = clipByGlobalNorm(&clipped, maximumNorm: 6.5)
      assertClose(norm, 13, relative: tolerance)
      // Every gradient scaled by 6.5/13 = 0.5.
      assertClose(clipped["a"]!, Tensor([1.5, 2]), relative: tolerance)
      assertClose(clipped["b"]!, Tensor([[6]]), relative: tolerance)
      XCTAssertEqual(clipped["empty"]!.shape, [2, 0])
      var again = clipped
      assertClose(clipByGlobalNorm(&again, maximumNorm: 100), 6.5, relative: tolerance)
    }
    check(Float.self, tolerance: 1e-6)
    check(Double.self, tolerance: 1e-15)
  }

  func testLeavesGradientsAtOrBelowTheMaximum() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      for maximum: Scalar in [13, 20, .infinity] {
        var unchanged = gradients(Scalar.self)
        XCTAssertEqual(clipByGlobalNorm(&unchanged, maximumNorm: maximum), 13)
        XCTAssertEqual(unchanged, gradients(Scalar.self))
      }
      var none: [String: Tensor<Scalar>] = [:]
      XCTAssertEqual(clipByGlobalNorm(&none, maximumNorm: 1), 0)
      var zeros: [String: Tensor<Scalar>] = ["z": Tensor.zeros(shape: [3])]
      XCTAssertEqual(clipByGlobalNorm(&zeros, maximumNorm: 1), 0)
      XCTAssertEqual(zeros["z"], Tensor.zeros(shape: [3]))
    }
    check(Float.self)
    check(Double.self)
  }

  /// A NaN anywhere makes the norm NaN; an infinity (and no NaN) makes it
  /// +∞; either way the gradients stay as they were.
  func testNonFiniteNormIsReportedAndChangesNothing() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let cases: [([String: Tensor<Scalar>], Bool)] = [
        (["a": Tensor([1, .nan]), "b": Tensor([2])], true),
        (["a": Tensor([1, -.infinity]), "b": Tensor([2])], false),
        (["a": Tensor([.infinity]), "b": Tensor([.nan, 1])], true),
      ]
      for (original, isNaN) in cases {
        var gradients = original
        let norm = clipByGlobalNorm(&gradients, maximumNorm: 1)
        if isNaN {
          XCTAssertTrue(norm.isNaN, "\(original)")
        } else {
          XCTAssertEqual(norm, .infinity, "\(original)")
        }
        for (name, value) in original { assertIdentical(gradients[name]!, value) }
      }
    }
    check(Float.self)
    check(Double.self)
  }

  /// Values whose squares overflow or underflow the scalar type still give
  /// the right norm.
  func testNormNeitherOverflowsNorUnderflows() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, huge: Scalar, tiny: Scalar) {
      var large: [String: Tensor<Scalar>] = ["a": Tensor([huge, huge]), "b": Tensor([huge, huge])]
      // ‖(h, h, h, h)‖ = 2h; clipped to 1, each becomes 1/2.
      assertClose(clipByGlobalNorm(&large, maximumNorm: 1), 2 * huge, relative: 1e-6)
      assertClose(large["a"]!, Tensor([0.5, 0.5]), relative: 1e-6)
      var small: [String: Tensor<Scalar>] = ["a": Tensor([tiny, -tiny, tiny, tiny])]
      assertClose(clipByGlobalNorm(&small, maximumNorm: 1), 2 * tiny, relative: 1e-6)
      XCTAssertEqual(small["a"], Tensor([tiny, -tiny, tiny, tiny]))
    }
    check(Float.self, huge: 1e30, tiny: 1e-30)
    check(Double.self, huge: 1e300, tiny: 1e-300)
    // A subnormal maximum, whose reciprocal overflows: ‖(4d, 4d)‖ = 4√2·d,
    // rounded to a multiple of d = Double.leastNonzeroMagnitude.
    let d = Double.leastNonzeroMagnitude
    var subnormal: [String: Tensor<Double>] = ["a": Tensor([4 * d, 4 * d])]
    XCTAssertEqual(clipByGlobalNorm(&subnormal, maximumNorm: 1), (4 * d) * 2.squareRoot())
    // A Float norm beyond Float's range is +∞, yet the gradients are clipped.
    var beyond: [String: Tensor<Float>] = ["a": Tensor([3e38, 3e38])]
    XCTAssertEqual(clipByGlobalNorm(&beyond, maximumNorm: 1), .infinity)
    assertClose(beyond["a"]!, Tensor([Float(0.5).squareRoot(), Float(0.5).squareRoot()]), relative: 1e-6)
  }

  /// Tensors of several parallel blocks, against a plain `Double` sum.
  func testLargeGradientsAgainstASequentialSum() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 3)
      let original: [String: Tensor<Scalar>] = [
        "big": Tensor.randomNormal(shape: [3, Parallel.elementwiseGrain + 11], using: &generator),
        "small": Tensor.randomNormal(shape: [7], standardDeviation: 100, using: &generator),
      ]
      let expected = original.values.reduce(0.0) { $0 + $1.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } }
        .squareRoot()
      var gradients = original
      let norm = clipByGlobalNorm(&gradients, maximumNorm: 10)
      assertClose(Double(norm), expected, relative: Double(tolerance))
      for (name, value) in original {
        assertClose(gradients[name]!, value * Scalar(10 / expected), relative: tolerance, name)
      }
    }
    check(Float.self, tolerance: 1e-6)
    check(Double.self, tolerance: 1e-12)
  }
}
