@testable import FlowTensor
import XCTest
import _TestSupport

final class ElementwiseKernelsTests: XCTestCase {
  override func tearDown() {
    ElementwiseKernels.forcePortable(false)
  }

  /// Float exp against Double's exp rounded to Float, at every 97th Float
  /// bit pattern from −104 to 89 (about 22 million inputs, both signs), on
  /// the vectorised path and on the portable one: at most 1 ulp apart.
  func testFloatExpIsWithinOneUlpOnEveryPath() {
    var inputs: [Float] = []
    for sign: Float in [1, -1] {
      var bits: UInt32 = 0
      let limit: Float = sign > 0 ? 89 : 104
      while Float(bitPattern: bits) <= limit {
        inputs.append(sign * Float(bitPattern: bits))
        bits += 97
      }
    }
    XCTAssertGreaterThan(inputs.count, 20_000_000)
    let expected = inputs.map { Float(Double.exp(Double($0))) }
    for portable in [false, true] {
      ElementwiseKernels.forcePortable(portable)
      let results = exp(Tensor<Float>(inputs)).scalars
      var worst: (ulps: Float, input: Float, result: Float) = (0, 0, 0)
      for index in inputs.indices where results[index] != expected[index] {
        let reference = expected[index]
        let ulp = reference.isFinite && reference != 0 ? reference.ulp : Float.leastNonzeroMagnitude
        let ulps = reference.isInfinite || results[index].isInfinite ? .infinity : abs(results[index] - reference) / ulp
        if ulps > worst.ulps { worst = (ulps, inputs[index], results[index]) }
      }
      XCTAssertLessThanOrEqual(
        worst.ulps, 1,
        "\(ElementwiseKernels.instructionSet): exp(\(worst.input)) = \(worst.result), expected \(Double.exp(Double(worst.input)))")
    }
  }

  func testFloatExpSpecialValuesOnEveryPath() {
    func reference(_ x: Float) -> Float { Float(Double.exp(Double(x))) }
    // Lengths 13 and 16: the vector loop and its scalar tail both see them.
    let inputs: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 89, 88.72283, -87.33654, -103, -104, -200, 1e-30, 1]
    for portable in [false, true] {
      ElementwiseKernels.forcePortable(portable)
      for input in [inputs, inputs + inputs.prefix(3)] {
        let results = exp(Tensor<Float>(input)).scalars
        XCTAssertTrue(results[0].isNaN)
        XCTAssertEqual(
          Array(results[1..<13]),
          [.infinity, 0, 1, 1, .infinity, reference(88.72283), reference(-87.33654), reference(-103), 0, 0, 1,
           reference(1)],
          ElementwiseKernels.instructionSet)
      }
    }
  }
}
