import FlowTensor
import XCTest
import _TestSupport

final class FFTDerivativeTests: XCTestCase {
  private func assertDerivatives(
    _ name: String, _ body: @escaping ([Tensor<Double>]) -> Tensor<Double>, at inputs: [Tensor<Double>],
    file: StaticString = #filePath, line: UInt = #line
  ) {
    let reverse = checkVJP(of: body, at: inputs)
    XCTAssertTrue(reverse.passed, "\(name): \(reverse)", file: file, line: line)
    let forward = checkJVP(of: body, at: inputs)
    XCTAssertTrue(forward.passed, "\(name): \(forward)", file: file, line: line)
  }

  func testTransformsForOddAndEvenLengthsAndBatches() {
    var generator = SeededGenerator(seed: 21)
    for length in [1, 2, 7, 8] {
      for batch in [[], [3], [2, 2]] {
        let real = Tensor<Double>.randomNormal(shape: batch + [length], using: &generator)
        let complex = Tensor<Double>.randomNormal(shape: batch + [length, 2], using: &generator)
        let bins = Tensor<Double>.randomNormal(shape: batch + [length / 2 + 1, 2], using: &generator)
        let name = "length \(length), batch \(batch)"
        assertDerivatives("rfft, \(name)", { rfft($0[0]) }, at: [real])
        assertDerivatives("irfft, \(name)", { irfft($0[0], length: length) }, at: [bins])
        assertDerivatives("fft, \(name)", { fft($0[0]) }, at: [complex])
        assertDerivatives("ifft, \(name)", { ifft($0[0]) }, at: [complex])
      }
    }
  }

  func testEmptyBatch() {
    let (_, real) = valueWithGradient(at: Tensor<Double>.zeros(shape: [0, 8])) { rfft($0).sum() }
    XCTAssertEqual(real.shape, [0, 8])
    let (_, complex) = valueWithGradient(at: Tensor<Double>.zeros(shape: [0, 7, 2])) { ifft($0).sum() }
    XCTAssertEqual(complex.shape, [0, 7, 2])
    let (_, tangent) = jvp(
      of: { irfft($0, length: 7) }, at: Tensor<Double>.zeros(shape: [0, 4, 2]),
      along: Tensor<Double>.zeros(shape: [2, 0, 4, 2]))
    XCTAssertEqual(tangent.shape, [2, 0, 7])
  }

  /// A composition whose derivative is known: irfft(rfft(x)) = x, so the
  /// gradient of ⟨irfft(rfft(x)), g⟩ is g; likewise ifft∘fft. In Float and Double.
  func testRoundTripsHaveTheIdentityGradient() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 22)
      for length in [7, 8] {
        let x = Tensor<Scalar>.randomNormal(shape: [2, length], using: &generator)
        let g = Tensor<Scalar>.randomNormal(shape: [2, length], using: &generator)
        let (_, real) = valueWithGradient(at: x) { (irfft(rfft($0), length: length) * g).sum() }
        assertClose(real, g, absolute: tolerance)
        let z = Tensor<Scalar>.randomNormal(shape: [2, length, 2], using: &generator)
        let h = Tensor<Scalar>.randomNormal(shape: [2, length, 2], using: &generator)
        let (_, complex) = valueWithGradient(at: z) { (fft(ifft($0)) * h).sum() }
        assertClose(complex, h, absolute: tolerance)
      }
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-12)
  }

  /// Parseval: Σ|fft(z)|² = n·Σ|z|², so its gradient is 2n·z.
  func testParsevalGradient() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 23)
      let z = Tensor<Scalar>.randomNormal(shape: [3, 7, 2], using: &generator)
      let (_, gradient) = valueWithGradient(at: z) { z in
        let transform = fft(z)
        return (transform * transform).sum()
      }
      assertClose(gradient, z * Scalar(14), absolute: tolerance)
    }
    check(Float.self, tolerance: 1e-4)
    check(Double.self, tolerance: 1e-11)
  }
}
