import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

final class InvertibleConvolutionTests: XCTestCase {
  /// W = [[2, 1], [0, 3]] on a 1×2 image whose pixels are (1, 1) and (0, 1):
  /// W·(1, 1) = (3, 3), W·(0, 1) = (1, 3); log|det| = 2·log 6.
  func testConvolutionOnHandCheckedImage() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let w = Tensor<Scalar>([[2, 1], [0, 3]])
      // Channel 0 holds [1, 0], channel 1 holds [1, 1].
      let x = Tensor<Scalar>(shape: [1, 2, 1, 2], scalars: [1, 0, 1, 1])
      let expected = Tensor<Scalar>(shape: [1, 2, 1, 2], scalars: [3, 1, 3, 3])
      let dense = InvertibleConvolution1x1(weight: w)
      let lu = try! LUInvertibleConvolution1x1(weight: w)
      for (name, layer) in [("dense", dense as any Bijector<Scalar>), ("LU", lu)] {
        let (y, logDeterminant) = layer.forward(x)
        assertClose(y, expected, absolute: tolerance, name)
        assertClose(logDeterminant, Tensor([2 * Scalar.log(6)]), absolute: tolerance, name)
        let (back, inverseLogDeterminant) = layer.inverse(y)
        assertClose(back, x, absolute: tolerance, name)
        assertClose(inverseLogDeterminant, Tensor([-2 * Scalar.log(6)]), absolute: tolerance, name)
      }
      assertClose(lu.weight, w, absolute: tolerance)
    }
    check(Double.self, tolerance: 1e-14)
    check(Float.self, tolerance: 1e-5)
  }

  /// The convolutions are their flat layers applied to every pixel: the
  /// same outputs pixel by pixel in both directions, and log-determinants
  /// that sum the per-pixel ones (height·width times the flat one). Checked
  /// on non-square images, 1×1 images, and with noisy LU parameters.
  func testConvolutionsEqualFlatLayersPerPixel() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 31)
      for shape in [[2, 3, 2, 5], [3, 4, 1, 1], [1, 1, 3, 2]] {
        let channels = shape[1]
        let x = Tensor<Scalar>.randomNormal(shape: shape, using: &generator)
        let w = Tensor<Scalar>.randomNormal(shape: [channels, channels], using: &generator)
          + Tensor.identity(size: channels) * Scalar(2)
        let flat = InvertibleLinear(weight: w)
        compare(InvertibleConvolution1x1(weight: w), flat, x, tolerance: tolerance, "dense \(shape)")

        var luFlat = try! LUInvertibleLinear(weight: w)
        luFlat.updateParameters { _, parameter in
          parameter = parameter + Tensor.randomNormal(shape: parameter.shape, standardDeviation: 0.2, using: &generator)
        }
        var luConvolution = try! LUInvertibleConvolution1x1(weight: w)
        (luConvolution.lower, luConvolution.upper, luConvolution.logScale) = (luFlat.lower, luFlat.upper, luFlat.logScale)
        assertIdentical(luConvolution.weight, luFlat.weight)
        compare(luConvolution, luFlat, x, tolerance: tolerance, "LU \(shape)")
      }
    }
    check(Double.self, tolerance: 1e-12)
    check(Float.self, tolerance: 1e-4)
  }

  /// Glow's random orthogonal initialisation: log|det| = 0 and WᵀW = I.
  func testOrthogonalInitialization() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 17)
      let dense = InvertibleConvolution1x1<Scalar>(channels: 4, using: &generator)
      let lu = LUInvertibleConvolution1x1<Scalar>(channels: 4, using: &generator)
      let x = Tensor<Scalar>.randomNormal(shape: [2, 4, 2, 2], using: &generator)
      for layer in [dense as any Bijector<Scalar>, lu] {
        assertClose(layer.forward(x).logDeterminant, Tensor.zeros(shape: [2]), absolute: tolerance)
      }
      for w in [dense.weight, lu.weight] {
        assertClose(matmul(w, w, transposingA: true), Tensor.identity(size: 4), absolute: tolerance)
      }
      XCTAssertEqual(dense.parameters.map(\.name), ["weight"])
      XCTAssertEqual(lu.parameters.map(\.name), ["lower", "upper", "logScale"])
    }
    check(Double.self, tolerance: 1e-13)
    check(Float.self, tolerance: 1e-5)
  }

  func testEmptyBatch() {
    var generator = SeededGenerator(seed: 3)
    let dense = InvertibleConvolution1x1<Double>(channels: 3, using: &generator)
    let lu = LUInvertibleConvolution1x1<Double>(channels: 3, using: &generator)
    let empty = Tensor<Double>.zeros(shape: [0, 3, 2, 2])
    for (y, logDeterminant) in [dense.forward(empty), dense.inverse(empty), lu.forward(empty), lu.inverse(empty)] {
      XCTAssertEqual(y.shape, [0, 3, 2, 2])
      XCTAssertEqual(logDeterminant.shape, [0])
    }
  }

  /// Both directions of both forms are differentiable in the input and the
  /// parameters.
  func testDerivativesOfBothDirections() {
    var generator = SeededGenerator(seed: 19)
    let x = Tensor<Double>.randomNormal(shape: [2, 3, 2, 2], using: &generator)
    let dense = InvertibleConvolution1x1<Double>(channels: 3, using: &generator)
    let lu = LUInvertibleConvolution1x1<Double>(channels: 3, using: &generator)
    func summary(_ pass: (output: Tensor<Double>, logDeterminant: Tensor<Double>)) -> Tensor<Double> {
      pass.output.sum(alongAxes: [2, 3]) + pass.logDeterminant.expandingShape(at: 1)
    }
    func withLU(_ inputs: [Tensor<Double>]) -> LUInvertibleConvolution1x1<Double> {
      var copy = lu
      (copy.lower, copy.upper, copy.logScale) = (inputs[1], inputs[2], inputs[3])
      return copy
    }
    let bodies: [(String, ([Tensor<Double>]) -> Tensor<Double>, [Tensor<Double>])] = [
      ("InvertibleConvolution1x1.forward", { summary(InvertibleConvolution1x1(weight: $0[1]).forward($0[0])) }, [x, dense.weight]),
      ("InvertibleConvolution1x1.inverse", { summary(InvertibleConvolution1x1(weight: $0[1]).inverse($0[0])) }, [x, dense.weight]),
      ("LUInvertibleConvolution1x1.forward", { summary(withLU($0).forward($0[0])) }, [x, lu.lower, lu.upper, lu.logScale]),
      ("LUInvertibleConvolution1x1.inverse", { summary(withLU($0).inverse($0[0])) }, [x, lu.lower, lu.upper, lu.logScale]),
    ]
    for (name, body, inputs) in bodies {
      let reverse = checkVJP(of: body, at: inputs)
      XCTAssertTrue(reverse.passed, "\(name): \(reverse)")
      let forward = checkJVP(of: body, at: inputs)
      XCTAssertTrue(forward.passed, "\(name): \(forward)")
    }
  }
}

/// The pixels of `[batch, channels, height, width]` images as rows
/// `[batch·height·width, channels]`, ordered by batch, then row, then column.
private func pixelRows<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.transposed(permutation: [0, 2, 3, 1]).reshaped(to: [x.shape[0] * x.shape[2] * x.shape[3], x.shape[1]])
}

/// Checks that `convolution` on images equals `flat` on their pixel rows,
/// in both directions, with log-determinants summed over each image's pixels.
private func compare<Scalar: TensorScalar>(
  _ convolution: some Bijector<Scalar>, _ flat: some Bijector<Scalar>, _ x: Tensor<Scalar>, tolerance: Scalar,
  _ message: String, file: StaticString = #filePath, line: UInt = #line
) {
  let (batch, pixels) = (x.shape[0], x.shape[2] * x.shape[3])
  for direction in ["forward", "inverse"] {
    let (output, logDeterminant) = direction == "forward" ? convolution.forward(x) : convolution.inverse(x)
    let (flatOutput, flatLogDeterminant) = direction == "forward" ? flat.forward(pixelRows(x)) : flat.inverse(pixelRows(x))
    assertClose(pixelRows(output), flatOutput, absolute: tolerance, "\(message) \(direction)", file: file, line: line)
    let perImage = flatLogDeterminant.reshaped(to: [batch, pixels]).sum(alongAxes: [1])
    assertClose(logDeterminant, perImage, absolute: tolerance, "\(message) \(direction) log-det", file: file, line: line)
  }
  let (output, _) = convolution.forward(x)
  assertClose(convolution.inverse(output).output, x, absolute: tolerance, "\(message) round trip", file: file, line: line)
}
