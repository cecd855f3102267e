import FlowTensor
import XCTest
import _TestSupport

/// One case of `conv_conv2d.json`, written by `Fixtures/make_blas_fixtures.py`.
private struct ConvolutionCase: Decodable {
  let input: FixtureTensor
  let filter: FixtureTensor
  let bias: FixtureTensor?
  let strides: [Int]
  let padding: [Int]
  let expected: FixtureTensor
  let outputGradient: FixtureTensor
  let inputGradient: FixtureTensor
  let filterGradient: FixtureTensor
}

final class ConvolutionTests: XCTestCase {
  func testMatchesNumPyLoopFixtures() throws {
    let cases = try Fixtures.load([String: ConvolutionCase].self, named: "conv_conv2d.json")
    XCTAssertEqual(cases.count, 5)
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      for (name, test) in cases.sorted(by: { $0.key < $1.key }) {
        let input = test.input.tensor(Scalar.self)
        let filter = test.filter.tensor(Scalar.self)
        let strides = (test.strides[0], test.strides[1])
        let padding = (test.padding[0], test.padding[1])
        let output = conv2d(
          input, filter: filter, bias: test.bias?.tensor(Scalar.self), strides: strides, padding: padding)
        assertClose(
          output, test.expected.tensor(), absolute: tolerance, relative: tolerance, "conv2d \(name) in \(Scalar.self)")
        let inputGradient = conv2dTransposed(
          test.outputGradient.tensor(Scalar.self), filter: filter,
          outputSize: (input.shape[2], input.shape[3]), strides: strides, padding: padding)
        assertClose(
          inputGradient, test.inputGradient.tensor(), absolute: tolerance, relative: tolerance,
          "conv2dTransposed \(name) in \(Scalar.self)")
        let filterGradient = conv2dFilterGradient(
          input: input, outputGradient: test.outputGradient.tensor(Scalar.self), filterShape: filter.shape,
          strides: strides, padding: padding)
        assertClose(
          filterGradient, test.filterGradient.tensor(), absolute: tolerance, relative: tolerance,
          "conv2dFilterGradient \(name) in \(Scalar.self)")
      }
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-12)
  }

  /// Seeded cases against the defining sum, written as direct loops here.
  func testMatchesDirectLoops() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 11)
      for setting in Self.settings {
        let input = Tensor<Scalar>.randomNormal(shape: setting.input, using: &generator)
        let filter = Tensor<Scalar>.randomNormal(shape: setting.filter, using: &generator)
        let bias = Tensor<Scalar>.randomNormal(shape: [setting.filter[0]], using: &generator)
        assertClose(
          conv2d(input, filter: filter, bias: bias, strides: setting.strides, padding: setting.padding),
          directConvolution(input, filter: filter, bias: bias, strides: setting.strides, padding: setting.padding),
          absolute: tolerance, relative: tolerance, "\(setting) in \(Scalar.self)")
      }
    }
    check(Float.self, tolerance: 1e-4)
    check(Double.self, tolerance: 1e-12)
  }

  /// The three ops are one bilinear form read three ways:
  /// ⟨conv2d(x, w), g⟩ = ⟨x, conv2dTransposed(g, w)⟩ = ⟨w, conv2dFilterGradient(x, g)⟩.
  func testAdjointIdentities() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Double) {
      var generator = SeededGenerator(seed: 23)
      for setting in Self.settings {
        let x = Tensor<Scalar>.randomNormal(shape: setting.input, using: &generator)
        let w = Tensor<Scalar>.randomNormal(shape: setting.filter, using: &generator)
        let y = conv2d(x, filter: w, strides: setting.strides, padding: setting.padding)
        let g = Tensor<Scalar>.randomNormal(shape: y.shape, using: &generator)
        let inputGradient = conv2dTransposed(
          g, filter: w, outputSize: (setting.input[2], setting.input[3]),
          strides: setting.strides, padding: setting.padding)
        let filterGradient = conv2dFilterGradient(
          input: x, outputGradient: g, filterShape: w.shape, strides: setting.strides, padding: setting.padding)
        XCTAssertEqual(inputGradient.shape, x.shape)
        XCTAssertEqual(filterGradient.shape, w.shape)
        let forward = innerProduct(y, g)
        let scale = max(1, abs(forward))
        assertClose(innerProduct(x, inputGradient), forward, absolute: tolerance * scale, "\(setting) in \(Scalar.self)")
        assertClose(innerProduct(w, filterGradient), forward, absolute: tolerance * scale, "\(setting) in \(Scalar.self)")
      }
    }
    check(Float.self, tolerance: 1e-4)
    check(Double.self, tolerance: 1e-12)
  }

  /// Without `outputSize` the transposed convolution picks the smallest input
  /// size; a larger one (stride 2 leaves a last row and column unread) gets
  /// zeros there.
  func testTransposedOutputSize() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let filter = Tensor<Scalar>.ones(shape: [1, 1, 3, 3])
      let gradient = Tensor<Scalar>.ones(shape: [1, 1, 3, 3])
      // Forward input 7×7 and 8×8 both give 3×3 at stride 2.
      let smallest = conv2dTransposed(gradient, filter: filter, strides: (2, 2))
      XCTAssertEqual(smallest.shape, [1, 1, 7, 7])
      let larger = conv2dTransposed(gradient, filter: filter, outputSize: (8, 8), strides: (2, 2))
      XCTAssertEqual(larger.shape, [1, 1, 8, 8])
      // Each input position counts the 3×3 windows at rows {0, 2, 4} (and
      // columns likewise) covering it: 1, 1, 2, 1, 2, 1, 1 along an axis.
      let coverage: [Scalar] = [1, 1, 2, 1, 2, 1, 1, 0]
      var expected = [Scalar]()
      for row in 0..<8 { for column in 0..<8 { expected.append(coverage[row] * coverage[column]) } }
      assertIdentical(larger, Tensor(shape: [1, 1, 8, 8], scalars: expected))
      let expectedSmallest = (0..<7).flatMap { row in (0..<7).map { coverage[row] * coverage[$0] } }
      assertIdentical(smallest, Tensor(shape: [1, 1, 7, 7], scalars: expectedSmallest))
    }
    check(Float.self)
    check(Double.self)
  }

  func testEmptyBatch() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let input = Tensor<Scalar>.zeros(shape: [0, 3, 5, 4])
      let filter = Tensor<Scalar>.ones(shape: [2, 3, 3, 2])
      let output = conv2d(input, filter: filter, bias: Tensor([1, 2]), strides: (2, 1), padding: (1, 0))
      XCTAssertEqual(output.shape, [0, 2, 3, 3])
      let inputGradient = conv2dTransposed(
        output, filter: filter, outputSize: (5, 4), strides: (2, 1), padding: (1, 0))
      XCTAssertEqual(inputGradient.shape, [0, 3, 5, 4])
      // Summing over no images gives zeros.
      _ = Tensor<Scalar>.full(7, shape: [36]) + Tensor<Scalar>.full(7, shape: [36])
      let filterGradient = conv2dFilterGradient(
        input: input, outputGradient: output, filterShape: filter.shape, strides: (2, 1), padding: (1, 0))
      assertIdentical(filterGradient, Tensor.zeros(shape: [2, 3, 3, 2]))
    }
    check(Float.self)
    check(Double.self)
  }

  /// With no input channels the sum is empty: the output is the bias, or zeros.
  func testNoInputChannels() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let input = Tensor<Scalar>.zeros(shape: [2, 0, 3, 3])
      let filter = Tensor<Scalar>.zeros(shape: [2, 0, 2, 2])
      let biased = conv2d(input, filter: filter, bias: Tensor([5, -1]))
      let expected = (0..<2).flatMap { _ in [Scalar](repeating: 5, count: 4) + [Scalar](repeating: -1, count: 4) }
      assertIdentical(biased, Tensor(shape: [2, 2, 2, 2], scalars: expected))
      _ = Tensor<Scalar>.full(7, shape: [16]) + Tensor<Scalar>.full(7, shape: [16])
      assertIdentical(conv2d(input, filter: filter), Tensor.zeros(shape: [2, 2, 2, 2]))
      let gradient = Tensor<Scalar>.ones(shape: [2, 2, 2, 2])
      XCTAssertEqual(conv2dTransposed(gradient, filter: filter, outputSize: (3, 3)).shape, [2, 0, 3, 3])
    }
    check(Float.self)
    check(Double.self)
  }

  /// A batch whose column matrices exceed the scratch budget is processed
  /// in several chunks. With a 1×2 kernel every op has a closed form:
  /// y[b, 0, r, c] = w₀·x[b, 0, r, c] + w₁·x[b, 0, r, c + 1] + bias.
  func testBatchLargerThanOneScratchChunk() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      // 2·1024·1024 column entries per image: two images per 4 Mi chunk, so
      // three images take two chunks.
      let (batch, height, width) = (3, 1024, 1025)
      var generator = SeededGenerator(seed: 3)
      let input = Tensor<Scalar>.randomUniform(shape: [batch, 1, height, width], in: -1..<1, using: &generator)
      let filter = Tensor<Scalar>(shape: [1, 1, 1, 2], scalars: [0.5, -2])
      let output = conv2d(input, filter: filter, bias: Tensor([0.25]))
      XCTAssertEqual(output.shape, [batch, 1, height, width - 1])
      let x = input.scalars
      let y = output.scalars
      let gradient = Tensor<Scalar>.randomUniform(shape: output.shape, in: -1..<1, using: &generator)
      let g = gradient.scalars
      let inputGradient = conv2dTransposed(gradient, filter: filter, outputSize: (height, width)).scalars
      let filterGradient = conv2dFilterGradient(input: input, outputGradient: gradient, filterShape: filter.shape)
      var worstOutput: Scalar = 0
      var worstInputGradient: Scalar = 0
      var sums = (0.0, 0.0)
      var magnitude = 0.0
      for image in 0..<batch {
        for row in 0..<height {
          let inputRow = (image * height + row) * width
          let outputRow = (image * height + row) * (width - 1)
          for column in 0..<(width - 1) {
            let expected = 0.5 * x[inputRow + column] - 2 * x[inputRow + column + 1] + 0.25
            worstOutput = max(worstOutput, abs(y[outputRow + column] - expected))
            sums.0 += Double(g[outputRow + column]) * Double(x[inputRow + column])
            sums.1 += Double(g[outputRow + column]) * Double(x[inputRow + column + 1])
            magnitude += abs(Double(g[outputRow + column]) * Double(x[inputRow + column]))
          }
          for column in 0..<width {
            var expected: Scalar = 0
            if column < width - 1 { expected += 0.5 * g[outputRow + column] }
            if column > 0 { expected -= 2 * g[outputRow + column - 1] }
            worstInputGradient = max(worstInputGradient, abs(inputGradient[inputRow + column] - expected))
          }
        }
      }
      XCTAssertLessThanOrEqual(worstOutput, tolerance, "conv2d in \(Scalar.self)")
      XCTAssertLessThanOrEqual(worstInputGradient, tolerance, "conv2dTransposed in \(Scalar.self)")
      // Sums of 3 Mi products: rounding grows at most as ε·Σ|terms|.
      assertClose(
        filterGradient, Tensor(shape: [1, 1, 1, 2], scalars: [Scalar(sums.0), Scalar(sums.1)]),
        absolute: Scalar.ulpOfOne * Scalar(magnitude), "conv2dFilterGradient in \(Scalar.self)")
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-13)
  }

  /// Shapes exercising strides, padding, non-square kernels and inputs,
  /// size-1 axes and the 1×1 fast path.
  private struct Setting: CustomStringConvertible {
    let input: [Int]
    let filter: [Int]
    let strides: (Int, Int)
    let padding: (Int, Int)
    var description: String { "input \(input), filter \(filter), strides \(strides), padding \(padding)" }
  }

  private static let settings: [Setting] = [
    Setting(input: [2, 3, 9, 8], filter: [4, 3, 3, 2], strides: (2, 2), padding: (1, 1)),
    Setting(input: [3, 2, 7, 10], filter: [5, 2, 2, 3], strides: (2, 1), padding: (2, 1)),
    Setting(input: [1, 4, 6, 6], filter: [2, 4, 5, 5], strides: (1, 1), padding: (2, 2)),
    Setting(input: [2, 1, 5, 1], filter: [3, 1, 3, 1], strides: (1, 1), padding: (0, 0)),
    Setting(input: [2, 3, 4, 5], filter: [6, 3, 1, 1], strides: (1, 1), padding: (0, 0)),
    Setting(input: [2, 3, 5, 5], filter: [2, 3, 1, 1], strides: (2, 3), padding: (1, 0)),
    Setting(input: [1, 2, 8, 9], filter: [3, 2, 3, 4], strides: (3, 2), padding: (0, 3)),
    // Same-size geometries take the shifted-plane path of im2col/col2im:
    // a Glow conditioner's 3×3, images barely wider than the padding, a
    // non-square kernel; the last one's padding reaches past the image
    // and takes the general path.
    Setting(input: [3, 4, 7, 7], filter: [5, 4, 3, 3], strides: (1, 1), padding: (1, 1)),
    Setting(input: [3, 2, 2, 2], filter: [2, 2, 3, 3], strides: (1, 1), padding: (1, 1)),
    Setting(input: [2, 2, 3, 4], filter: [3, 2, 1, 3], strides: (1, 1), padding: (0, 1)),
    Setting(input: [2, 2, 1, 5], filter: [3, 2, 3, 3], strides: (1, 1), padding: (1, 1)),
    // At most half as many output as input channels at stride 1: the
    // adjoint forms (see `flippedFilter`), with a non-square kernel and
    // unequal paddings, and an empty image that padding makes 2×1.
    Setting(input: [3, 6, 5, 4], filter: [2, 6, 3, 2], strides: (1, 1), padding: (1, 0)),
    Setting(input: [2, 8, 7, 7], filter: [4, 8, 3, 3], strides: (1, 1), padding: (1, 1)),
    Setting(input: [2, 4, 0, 3], filter: [1, 4, 3, 3], strides: (1, 1), padding: (2, 1)),
    // Enough images of at least 128 output pixels to convolve images one
    // by one across threads: a 3×3, a pointwise one and an adjoint form.
    Setting(input: [2 * Parallel.threadCount + 1, 3, 12, 12], filter: [4, 3, 3, 3], strides: (1, 1), padding: (1, 1)),
    Setting(input: [2 * Parallel.threadCount + 2, 4, 16, 8], filter: [5, 4, 1, 1], strides: (1, 1), padding: (0, 0)),
    Setting(input: [2 * Parallel.threadCount + 1, 8, 12, 11], filter: [2, 8, 3, 3], strides: (1, 1), padding: (1, 1)),
  ]
}

/// The convolution's defining sum, pixel by pixel, accumulating in Double.
private func directConvolution<Scalar: TensorScalar>(
  _ input: Tensor<Scalar>, filter: Tensor<Scalar>, bias: Tensor<Scalar>, strides: (Int, Int), padding: (Int, Int)
) -> Tensor<Scalar> {
  let (batch, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
  let (outChannels, kernelHeight, kernelWidth) = (filter.shape[0], filter.shape[2], filter.shape[3])
  let outHeight = (height + 2 * padding.0 - kernelHeight) / strides.0 + 1
  let outWidth = (width + 2 * padding.1 - kernelWidth) / strides.1 + 1
  let (x, w, b) = (input.scalars, filter.scalars, bias.scalars)
  var result = [Scalar]()
  for image in 0..<batch {
    for output in 0..<outChannels {
      for outRow in 0..<outHeight {
        for outColumn in 0..<outWidth {
          var sum = Double(b[output])
          for channel in 0..<channels {
            for kernelRow in 0..<kernelHeight {
              for kernelColumn in 0..<kernelWidth {
                let row = outRow * strides.0 + kernelRow - padding.0
                let column = outColumn * strides.1 + kernelColumn - padding.1
                guard row >= 0 && row < height && column >= 0 && column < width else { continue }
                let inputValue = x[((image * channels + channel) * height + row) * width + column]
                let weight = w[((output * channels + channel) * kernelHeight + kernelRow) * kernelWidth + kernelColumn]
                sum += Double(inputValue) * Double(weight)
              }
            }
          }
          result.append(Scalar(sum))
        }
      }
    }
  }
  return Tensor(shape: [batch, outChannels, outHeight, outWidth], scalars: result)
}
