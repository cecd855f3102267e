import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

/// Uniform dequantization (values in their bins, seeded noise that is
/// uniform, quantization undoing it) and the bits-per-dimension accounting
/// against hand examples and the exact discrete probability of a Gaussian.
final class DequantizationTests: XCTestCase {
  func testDequantizedValuesLieInTheirBins() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let pixels = Tensor<Scalar>(shape: [2, 128], scalars: (0..<256).map { Scalar($0) })
      for centred in [false, true] {
        let dequantization = UniformDequantization(centred: centred)
        XCTAssertEqual(dequantization.levels, 256)
        let offset = centred ? 0.5 : 0
        var generator = SeededGenerator(seed: 1)
        let x = dequantization.dequantize(pixels, using: &generator)
        XCTAssertEqual(x.shape, [2, 128])
        for (pixel, value) in zip(pixels.scalars, x.scalars) {
          let low = Double(pixel) / 256 - offset
          XCTAssertTrue(Double(value) >= low && Double(value) < low + 1.0 / 256, "pixel \(pixel) → \(value), centred \(centred)")
        }
        // The extreme draws: u = 0 gives the bin's lower end exactly; the
        // largest u stays below the upper end even where Float would round
        // (255 + u)/256 to 1.
        var lowest = ConstantGenerator(value: 0)
        var highest = ConstantGenerator(value: .max)
        let bottom = dequantization.dequantize(pixels, using: &lowest)
        let top = dequantization.dequantize(pixels, using: &highest)
        for (index, pixel) in pixels.scalars.enumerated() {
          let low = Double(pixel) / 256 - offset
          XCTAssertEqual(Double(bottom.scalars[index]), low)
          XCTAssertLessThan(Double(top.scalars[index]), low + 1.0 / 256, "pixel \(pixel), centred \(centred)")
          XCTAssertGreaterThan(Double(top.scalars[index]), low)
        }
        XCTAssertEqual(top.scalars.last, Scalar(1 - offset).nextDown)
      }
    }
    check(Double.self)
    check(Float.self)
  }

  /// The noise is seeded, the same for raw bytes and tensors, and uniform:
  /// L·x − pixel has mean ½ and variance 1/12 within 4 standard errors.
  func testNoiseIsSeededAndUniform() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var pixelGenerator = SeededGenerator(seed: 2)
      let bytes = (0..<40_000).map { _ in UInt8.random(in: 0...255, using: &pixelGenerator) }
      let pixels = Tensor<Scalar>(shape: [100, 400], scalars: bytes.map { Scalar($0) })
      let dequantization = UniformDequantization()
      var first = SeededGenerator(seed: 3)
      var second = SeededGenerator(seed: 3)
      var other = SeededGenerator(seed: 4)
      let x = dequantization.dequantize(pixels, using: &first)
      let fromBytes: Tensor<Scalar> = dequantization.dequantize(bytes, shape: [100, 400], using: &second)
      XCTAssertEqual(x, fromBytes)
      XCTAssertNotEqual(x, dequantization.dequantize(pixels, using: &other))

      let noise = zip(x.scalars, bytes).map { Double($0) * 256 - Double($1) }
      let n = Double(noise.count)
      let mean = noise.reduce(0, +) / n
      let variance = noise.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)
      XCTAssertLessThanOrEqual(abs(mean - 0.5), 4 * (1.0 / 12 / n).squareRoot())
      // Var of the sample variance of U[0, 1): (μ₄ − σ⁴)/n = (1/80 − 1/144)/n.
      XCTAssertLessThanOrEqual(abs(variance - 1.0 / 12), 4 * ((1.0 / 80 - 1.0 / 144) / n).squareRoot())
    }
    check(Double.self)
    check(Float.self)
  }

  /// Quantization undoes dequantization (at 8 bits) or keeps the high bits
  /// (at 5 bits, as Glow's n_bits), and clamps values outside the range.
  func testQuantizationUndoesDequantization() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let pixels = Tensor<Scalar>(shape: [4, 64], scalars: (0..<256).map { Scalar($0) })
      for centred in [false, true] {
        var generator = SeededGenerator(seed: 5)
        let eight = UniformDequantization(centred: centred)
        XCTAssertEqual(eight.quantize(eight.dequantize(pixels, using: &generator)), pixels)

        let five = UniformDequantization(bits: 5, centred: centred)
        XCTAssertEqual(five.levels, 32)
        let x = five.dequantize(pixels, using: &generator)
        let offset = centred ? 0.5 : 0
        for (pixel, value) in zip(pixels.scalars, x.scalars) {
          let level = (Double(pixel) / 8).rounded(.down)
          XCTAssertTrue(Double(value) >= level / 32 - offset && Double(value) < (level + 1) / 32 - offset)
        }
        XCTAssertEqual(five.quantize(x), Tensor(shape: [4, 64], scalars: (0..<256).map { Scalar($0 / 8 * 8) }))

        let outside = Tensor<Scalar>([Scalar(-0.7 - offset), Scalar(1.2 - offset), Scalar(1 - offset), .nan])
        XCTAssertEqual(eight.quantize(outside), Tensor([0, 255, 255, 0]))
        XCTAssertEqual(five.quantize(outside), Tensor([0, 248, 248, 0]))
      }
    }
    check(Double.self)
    check(Float.self)
  }

  /// Hand examples: a uniform density on [0, 1)^D (NLL 0) costs exactly 8
  /// bits per dimension; density 2^D on [0, ½)^D (NLL −D·log 2) costs 7;
  /// 10 nats over 3 dimensions cost 8 + 10/(3·log 2).
  func testBitsPerDimensionOnHandExamples() {
    for dimensions in [1, 784, 3072] {
      XCTAssertEqual(bitsPerDimension(negativeLogLikelihood: 0, dimensions: dimensions), 8)
      assertClose(
        bitsPerDimension(negativeLogLikelihood: -Double(dimensions) * Double.log(2), dimensions: dimensions), 7,
        relative: 1e-15)
    }
    XCTAssertEqual(bitsPerDimension(negativeLogLikelihood: 0, dimensions: 5, bits: 5), 5)
    XCTAssertEqual(UniformDequantization(bits: 3).bitsPerDimension(negativeLogLikelihood: 0, dimensions: 5), 3)
    assertClose(
      bitsPerDimension(negativeLogLikelihood: 10, dimensions: 3),
      (10 + 3 * Double.log(256)) / (3 * Double.log(2)), relative: 1e-15)
    assertClose(bitsPerDimension(negativeLogLikelihood: 10, dimensions: 3), 8 + 10 / (3 * 0.6931471805599453), relative: 1e-15)

    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let nll = Tensor<Scalar>([0, 10, -3 * Scalar.log(2)])
      let bpd = bitsPerDimension(negativeLogLikelihood: nll, dimensions: 3)
      assertClose(bpd, Tensor([8, Scalar(8 + 10 / (3 * Double.log(2))), 7]), relative: tolerance)
      assertClose(UniformDequantization().bitsPerDimension(negativeLogLikelihood: nll, dimensions: 3), bpd, relative: tolerance)
      // d bpd / d NLL = 1/(D·log 2) for each sample.
      let (_, slope) = valueWithGradient(at: nll) { bitsPerDimension(negativeLogLikelihood: $0, dimensions: 3).sum() }
      assertClose(slope, Tensor(repeating: Scalar(1 / (3 * Double.log(2))), shape: [3]), relative: tolerance)
    }
    check(Double.self, tolerance: 1e-15)
    check(Float.self, tolerance: 1e-6)
  }

  /// The accounting against the exact discrete probability: for a diagonal
  /// Gaussian density on dequantised pixels, the bits per dimension from
  /// the mean continuous NLL bound −log₂ P(y)/D from above (Jensen), and
  /// nearly reach it where the density is nearly constant over a bin.
  /// P(y) = Πⱼ [Φ((yⱼ + 1)/256 − μⱼ)/σⱼ) − Φ((yⱼ/256 − μⱼ)/σⱼ)].
  func testBitsPerDimensionBoundsTheDiscreteCodeLength() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let pixels: [Double] = [150, 100, 200]
      let mean: [Double] = [0.5, 0.5, 0.5]
      let deviation: [Double] = [0.1, 0.2, 0.15]
      for centred in [false, true] {
        let offset = centred ? 0.5 : 0
        let density = DiagonalGaussian<Scalar>(
          mean: Tensor(mean.map { Scalar($0 - offset) }), logStandardDeviation: Tensor(deviation.map { Scalar(Double.log($0)) }))
        let count = 20_000
        let batch = Tensor<Scalar>(shape: [count, 3], scalars: (0..<count).flatMap { _ in pixels.map { Scalar($0) } })
        var generator = SeededGenerator(seed: 6)
        let dequantization = UniformDequantization(centred: centred)
        let negativeLogLikelihoods = (-density.logProbability(dequantization.dequantize(batch, using: &generator))).scalars.map(Double.init)
        let meanNLL = negativeLogLikelihoods.reduce(0, +) / Double(count)
        let spread = (negativeLogLikelihoods.map { ($0 - meanNLL) * ($0 - meanNLL) }.reduce(0, +) / Double(count - 1)).squareRoot()
        let bpd = dequantization.bitsPerDimension(negativeLogLikelihood: meanNLL, dimensions: 3)

        func phi(_ z: Double) -> Double { 0.5 * Double.erfc(-z / 2.squareRoot()) }
        let logProbability = (0..<3).map { j in
          Double.log(phi(((pixels[j] + 1) / 256 - mean[j]) / deviation[j]) - phi((pixels[j] / 256 - mean[j]) / deviation[j]))
        }.reduce(0, +)
        let discrete = -logProbability / (3 * Double.log(2))
        let standardError = spread / Double(count).squareRoot() / (3 * Double.log(2))
        XCTAssertGreaterThanOrEqual(bpd, discrete - 4 * standardError, "centred \(centred)")
        // The Jensen gap is about Var(log p over a bin)/2 ≈ 1e-4 nats here.
        XCTAssertLessThanOrEqual(bpd, discrete + 1e-3, "centred \(centred)")
      }
    }
    check(Double.self)
    check(Float.self)
  }
}

/// A generator that always returns the same word: the extreme noise draws.
private struct ConstantGenerator: RandomNumberGenerator {
  let value: UInt64
  mutating func next() -> UInt64 { value }
}
