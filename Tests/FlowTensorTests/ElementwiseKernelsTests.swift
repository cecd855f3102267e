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

/// One parameter tensor, for optimizer kernels.
private struct Vector: Layer {
  var values: Tensor<Float>
  mutating func visitParameters(with visitor: ParameterVisitor<Float>) { visitor.visit("values", &values) }
}

final class AdamKernelTests: XCTestCase {
  override func tearDown() { ElementwiseKernels.forcePortable(false) }

  /// The AVX2 Adam kernel and the portable one give the same bits (both
  /// round every operation separately), for Adam and AdamW over three
  /// steps on a length that leaves a scalar tail; and the result moves
  /// against the gradient.
  func testVectorisedAdamMatchesPortableBitForBit() {
    var generator = SeededGenerator(seed: 8)
    let start = Tensor<Float>.randomNormal(shape: [1003], using: &generator)
    let gradients = (0..<3).map { _ in Tensor<Float>.randomNormal(shape: [1003], using: &generator) }
    func run<O: Optimizer>(_ optimizer: O, portable: Bool) -> Tensor<Float> where O.Scalar == Float {
      ElementwiseKernels.forcePortable(portable)
      var optimizer = optimizer
      var model = Vector(values: start)
      for gradient in gradients { optimizer.update(&model, along: ["values": gradient]) }
      return model.values
    }
    for portable in [false, true] {
      let adam = run(Adam<Float>(learningRate: 0.01, weightDecay: 0.1), portable: portable)
      XCTAssertEqual(adam.scalars, run(Adam<Float>(learningRate: 0.01, weightDecay: 0.1), portable: !portable).scalars)
      let adamW = run(AdamW<Float>(learningRate: 0.01), portable: portable)
      XCTAssertEqual(adamW.scalars, run(AdamW<Float>(learningRate: 0.01), portable: !portable).scalars)
      XCTAssertNotEqual(adam.scalars, start.scalars)
    }
    // One step of plain Adam moves each parameter by lr·sign(g) (m̂/√v̂ = ±1).
    let single = { () -> Tensor<Float> in
      var optimizer = Adam<Float>(learningRate: 0.01)
      var model = Vector(values: start)
      optimizer.update(&model, along: ["values": gradients[0]])
      return model.values
    }()
    let expected = start - 0.01 * Tensor<Float>(gradients[0].scalars.map { $0 > 0 ? 1 : -1 })
    assertClose(single, expected, absolute: 1e-6)
  }
}

final class GeluKernelTests: XCTestCase {
  override func tearDown() { ElementwiseKernels.forcePortable(false) }

  /// Float GELU and its pullback against the Double functions rounded to
  /// Float, on 200,001 points of [−16, 12] plus special values, on both
  /// kernel paths: at most 1 ulp apart (the kernels compute in double to
  /// about 1e-12, then round once).
  func testFloatGeluAndPullbackWithinOneUlpOnEveryPath() {
    let inputs = (0...200_000).map { Float(-16 + 28 * Double($0) / 200_000) } + [0, -0.0, 1e-30, -1e-30]
    let x = Tensor<Float>(inputs)
    let doubles = Tensor<Double>(inputs.map(Double.init))
    let expected = gelu(doubles).scalars.map(Float.init)
    let (_, pullback) = vjp(of: { gelu($0) }, at: doubles)
    let expectedSlopes = pullback(Tensor<Double>.ones(shape: [inputs.count])).scalars.map(Float.init)
    for portable in [false, true] {
      ElementwiseKernels.forcePortable(portable)
      let values = gelu(x).scalars
      let (_, floatPullback) = vjp(of: { gelu($0) }, at: x)
      let slopes = floatPullback(Tensor<Float>.ones(shape: [inputs.count])).scalars
      for (name, actual, reference) in [("gelu", values, expected), ("gelu′", slopes, expectedSlopes)] {
        var worst: (ulps: Float, input: Float) = (0, 0)
        for index in inputs.indices where actual[index] != reference[index] {
          let ulp = Swift.max(reference[index].ulp, Float.leastNonzeroMagnitude)
          let ulps = abs(actual[index] - reference[index]) / ulp
          if ulps > worst.ulps { worst = (ulps, inputs[index]) }
        }
        XCTAssertLessThanOrEqual(worst.ulps, 1, "\(name), \(ElementwiseKernels.instructionSet): worst at \(worst.input)")
      }
      XCTAssertTrue(gelu(Tensor<Float>([.nan])).scalar.isNaN)
      XCTAssertEqual(gelu(Tensor<Float>([.infinity, 100, -100])).scalars, [.infinity, 100, 0])
      // −∞·Φ(−∞) = −∞·0: NaN, as in the Double path and PyTorch.
      XCTAssertTrue(gelu(Tensor<Float>([-.infinity])).scalar.isNaN)
      // Special values inside the kernels' groups of 16, beside central and
      // tail lanes: each as in a group of 4 of its own (the lanes never mix).
      let mixed: [Float] = [0.5, .nan, -2, 4, .infinity, -1, 1, -.infinity, 3.5, -0.75, 2, -5, 0, 1e-30, 7, -3] + [.nan, 1, -4, 2.5, 0.25]
      let mixedValues = gelu(Tensor(mixed)).scalars
      let mixedSlopes = vjp(of: { gelu($0) }, at: Tensor(mixed)).1(Tensor.ones(shape: [mixed.count])).scalars
      for (index, value) in mixed.enumerated() {
        let group = Tensor<Float>([value, 0, 0, 0])
        let alone = gelu(group).scalars[0]
        let aloneSlope = vjp(of: { gelu($0) }, at: group).1(Tensor.ones(shape: [4])).scalars[0]
        XCTAssertTrue(mixedValues[index] == alone || (mixedValues[index].isNaN && alone.isNaN), "gelu(\(value)) at \(index)")
        XCTAssertTrue(
          mixedSlopes[index] == aloneSlope || (mixedSlopes[index].isNaN && aloneSlope.isNaN), "gelu′(\(value)) at \(index)")
      }
    }
  }
}
