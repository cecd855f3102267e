import FlowTensor
import XCTest
import _TestSupport

final class ConvolutionDerivativeTests: XCTestCase {
  private func random(_ shape: [Int], _ generator: inout SeededGenerator) -> Tensor<Double> {
    Tensor.randomNormal(shape: shape, using: &generator)
  }

  private func assertDerivatives(
    _ name: String, _ body: @escaping ([Tensor<Double>]) -> Tensor<Double>, at inputs: [Tensor<Double>],
    file: StaticString = #filePath, line: UInt = #line
  ) {
    let reverse = checkVJP(of: body, at: inputs)
    XCTAssertTrue(reverse.passed, "\(name): \(reverse)", file: file, line: line)
    let forward = checkJVP(of: body, at: inputs)
    XCTAssertTrue(forward.passed, "\(name): \(forward)", file: file, line: line)
  }

  func testConv2dWithStridePaddingAndBias() {
    var generator = SeededGenerator(seed: 11)
    let x = random([2, 3, 5, 6], &generator)
    let w = random([4, 3, 3, 3], &generator)
    let b = random([4], &generator)
    assertDerivatives(
      "stride 2, padding 1, bias", { conv2d($0[0], filter: $0[1], bias: $0[2], strides: (2, 2), padding: (1, 1)) },
      at: [x, w, b])
    assertDerivatives(
      "no bias, strides (1, 2), padding (0, 1)", { conv2d($0[0], filter: $0[1], strides: (1, 2), padding: (0, 1)) },
      at: [x, w])
    let pointwise = random([5, 3, 1, 1], &generator)
    assertDerivatives(
      "1×1 kernel", { conv2d($0[0], filter: $0[1], bias: $0[2]) }, at: [x, pointwise, random([5], &generator)])
  }

  func testConv2dDerivativeInOneOperandOnly() {
    var generator = SeededGenerator(seed: 12)
    let x = random([1, 2, 4, 4], &generator)
    let w = random([3, 2, 2, 2], &generator)
    let b = random([3], &generator)
    assertDerivatives("input", { conv2d($0[0], filter: w, bias: b, strides: (2, 1), padding: (1, 0)) }, at: [x])
    assertDerivatives("filter", { conv2d(x, filter: $0[0], bias: b, strides: (2, 1), padding: (1, 0)) }, at: [w])
    assertDerivatives("bias", { conv2d(x, filter: w, bias: $0[0], strides: (2, 1), padding: (1, 0)) }, at: [b])
  }

  func testConv2dTransposedDerivatives() {
    var generator = SeededGenerator(seed: 13)
    // A conv2d of [2, 3, 5, 6] with a 3×3 kernel, strides 2 and padding 1 gives 3×3.
    let g = random([2, 4, 3, 3], &generator)
    let w = random([4, 3, 3, 3], &generator)
    assertDerivatives("strides 2, padding 1", {
      conv2dTransposed($0[0], filter: $0[1], outputSize: (5, 6), strides: (2, 2), padding: (1, 1))
    }, at: [g, w])
    assertDerivatives(
      "default size", { conv2dTransposed($0[0], filter: $0[1]) }, at: [random([1, 4, 2, 3], &generator), w])
  }

  func testConv2dFilterGradientDerivatives() {
    var generator = SeededGenerator(seed: 14)
    let x = random([2, 3, 5, 6], &generator)
    let g = random([2, 4, 3, 3], &generator)
    assertDerivatives("strides 2, padding 1", {
      conv2dFilterGradient(
        input: $0[0], outputGradient: $0[1], filterShape: [4, 3, 3, 3], strides: (2, 2), padding: (1, 1))
    }, at: [x, g])
  }

  /// An empty batch and single-pixel images.
  func testEmptyBatchAndSinglePixel() {
    var generator = SeededGenerator(seed: 17)
    let w = random([3, 2, 1, 1], &generator)
    let b = random([3], &generator)
    let (_, gradients) = valueWithGradient(at: [Tensor<Double>.zeros(shape: [0, 2, 1, 1]), w, b]) { p in
      conv2d(p[0], filter: p[1], bias: p[2]).sum()
    }
    XCTAssertEqual(gradients[0].shape, [0, 2, 1, 1])
    XCTAssertEqual(gradients[1], Tensor.zeros(shape: [3, 2, 1, 1]))
    XCTAssertEqual(gradients[2], Tensor.zeros(shape: [3]))
    assertDerivatives("1×1 image, 3×3 kernel, padding 1", {
      conv2d($0[0], filter: $0[1], bias: $0[2], padding: (1, 1))
    }, at: [random([2, 2, 1, 1], &generator), random([3, 2, 3, 3], &generator), b])
  }

  /// Reverse over forward: the gradient of conv2d's tangent along (dx, dw, db).
  func testReverseOverForward() {
    var generator = SeededGenerator(seed: 16)
    let x = random([1, 2, 4, 4], &generator)
    let w = random([3, 2, 3, 3], &generator)
    let b = random([3], &generator)
    let directions = [random([1, 2, 4, 4], &generator), random([3, 2, 3, 3], &generator), random([3], &generator)]
    let body: ([Tensor<Double>]) -> Tensor<Double> = { p in
      jvp(of: { conv2d($0[0], filter: $0[1], bias: $0[2], strides: (2, 2), padding: (1, 1)) }, at: p, along: directions)
        .tangent
    }
    let report = checkVJP(of: body, at: [x, w, b])
    XCTAssertTrue(report.passed, "\(report)")
  }

  /// Reverse over forward with batched tangents, whose folding into the
  /// channel axes transposes: needs the shape ops' derivative rules.
  func testReverseOverForwardWithBatchedTangents() {
    var generator = SeededGenerator(seed: 18)
    let x = random([1, 2, 4, 4], &generator)
    let w = random([3, 2, 3, 3], &generator)
    let g = random([1, 3, 2, 2], &generator)
    let batch = [2]
    let cases: [(String, [Tensor<Double>], ([Tensor<Double>]) -> Tensor<Double>)] = [
      ("conv2d", [x, w], { conv2d($0[0], filter: $0[1], strides: (2, 2), padding: (1, 1)) }),
      ("conv2dTransposed", [g, w], {
        conv2dTransposed($0[0], filter: $0[1], outputSize: (4, 4), strides: (2, 2), padding: (1, 1))
      }),
      ("conv2dFilterGradient", [x, g], {
        conv2dFilterGradient(
          input: $0[0], outputGradient: $0[1], filterShape: [3, 2, 3, 3], strides: (2, 2), padding: (1, 1))
      }),
    ]
    for (name, inputs, f) in cases {
      let directions = inputs.map { random(batch + $0.shape, &generator) }
      let report = checkVJP(of: { p in jvp(of: f, at: p, along: directions).tangent }, at: inputs)
      XCTAssertTrue(report.passed, "\(name): \(report)")
    }
  }

  /// The three ops as adjoints, through autodiff: the gradient of
  /// ⟨conv2d(x, w), g⟩ with respect to x and w is the other two ops, in
  /// Float and Double.
  func testConv2dGradientsAreTheAdjointOps() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 15)
      let x = Tensor<Scalar>.randomNormal(shape: [2, 2, 4, 5], using: &generator)
      let w = Tensor<Scalar>.randomNormal(shape: [3, 2, 3, 2], using: &generator)
      let g = Tensor<Scalar>.randomNormal(shape: [2, 3, 2, 3], using: &generator)
      let (_, gradients) = valueWithGradient(at: [x, w]) { p in
        (conv2d(p[0], filter: p[1], strides: (2, 2), padding: (1, 1)) * g).sum()
      }
      assertClose(
        gradients[0], conv2dTransposed(g, filter: w, outputSize: (4, 5), strides: (2, 2), padding: (1, 1)),
        absolute: tolerance)
      assertClose(
        gradients[1],
        conv2dFilterGradient(input: x, outputGradient: g, filterShape: w.shape, strides: (2, 2), padding: (1, 1)),
        absolute: tolerance)
    }
    check(Float.self, tolerance: 1e-4)
    check(Double.self, tolerance: 1e-12)
  }
}
