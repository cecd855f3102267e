import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// rfft, irfft, fft and ifft against a naive O(n²) DFT computed here in
/// `Double`, and their identities (round trips, Parseval, Hermitian bins).
final class FFTTests: XCTestCase {
  /// Powers of two, primes (FFTW's Rader path), 96 = 2⁵·3 and the trivial 1.
  static let lengths = [1, 2, 7, 8, 13, 64, 96, 97, 128]
  /// A batch given by one leading axis and by two.
  static let leadingShapes = [[3], [2, 2]]

  func testRealForwardMatchesNaiveDFT() {
    checkRealForward(Float.self, tolerance: 1e-5)
    checkRealForward(Double.self, tolerance: 1e-12)
  }

  func testRealInverseMatchesNaiveDFT() {
    checkRealInverse(Float.self, tolerance: 1e-5)
    checkRealInverse(Double.self, tolerance: 1e-12)
  }

  func testComplexForwardAndInverseMatchNaiveDFT() {
    checkComplex(Float.self, tolerance: 1e-5)
    checkComplex(Double.self, tolerance: 1e-12)
  }

  func testRoundTrips() {
    checkRoundTrips(Float.self, tolerance: 1e-5)
    checkRoundTrips(Double.self, tolerance: 1e-12)
  }

  func testParseval() {
    checkParseval(Float.self, tolerance: 1e-5)
    checkParseval(Double.self, tolerance: 1e-12)
  }

  func testRealInputHasRealZeroAndNyquistBins() {
    checkRealBins(Float.self)
    checkRealBins(Double.self)
  }

  func testHandDerivedValues() {
    checkHandDerived(Float.self)
    checkHandDerived(Double.self)
  }

  func testRankOneAndEmptyBatches() {
    checkRankOneAndEmpty(Float.self, tolerance: 1e-5)
    checkRankOneAndEmpty(Double.self, tolerance: 1e-12)
  }

  /// Batches large enough to be split across threads, with odd lengths
  /// whose rows are not 64-byte multiples.
  func testLargeBatchesMatchNaiveDFT() {
    checkLargeBatches(Float.self, tolerance: 1e-5)
    checkLargeBatches(Double.self, tolerance: 1e-12)
  }

  // MARK: - Generic bodies

  func checkRealForward<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
    var generator = SeededGenerator(seed: 11)
    for length in Self.lengths {
      for leading in Self.leadingShapes {
        let x = Tensor<Scalar>.randomNormal(shape: leading + [length], using: &generator)
        let expected = naiveRealForward(widenedScalars(x), length: length)
        assertClose(
          rfft(x), roundedTensor(expected, shape: leading + [length / 2 + 1, 2]),
          absolute: tolerance * Scalar(euclideanNorm(expected)), "rfft \(Scalar.self) shape \(x.shape)")
      }
    }
  }

  func checkRealInverse<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
    var generator = SeededGenerator(seed: 12)
    for length in Self.lengths {
      for leading in Self.leadingShapes {
        // Arbitrary bins, including nonzero imaginary parts at 0 and n/2,
        // which the inverse ignores as NumPy does.
        let bins = Tensor<Scalar>.randomNormal(shape: leading + [length / 2 + 1, 2], using: &generator)
        let expected = naiveRealInverse(widenedScalars(bins), length: length)
        let result = irfft(bins, length: length)
        assertClose(
          result, roundedTensor(expected, shape: leading + [length]),
          absolute: tolerance * Scalar(euclideanNorm(expected)), "irfft \(Scalar.self) shape \(bins.shape) length \(length)")
        assertIdentical(
          result, irfft(zeroingEdgeImaginaryParts(bins, length: length), length: length),
          "irfft \(Scalar.self) length \(length): the imaginary parts of bins 0 and n/2 must not matter")
      }
    }
  }

  func checkComplex<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
    var generator = SeededGenerator(seed: 13)
    for length in Self.lengths {
      for leading in Self.leadingShapes {
        let z = Tensor<Scalar>.randomNormal(shape: leading + [length, 2], using: &generator)
        let forward = naiveDFT(widenedScalars(z), length: length, sign: -1)
        assertClose(
          fft(z), roundedTensor(forward, shape: z.shape),
          absolute: tolerance * Scalar(euclideanNorm(forward)), "fft \(Scalar.self) shape \(z.shape)")
        let inverse = naiveDFT(widenedScalars(z), length: length, sign: 1).map { $0 / Double(length) }
        assertClose(
          ifft(z), roundedTensor(inverse, shape: z.shape),
          absolute: tolerance * Scalar(euclideanNorm(inverse)), "ifft \(Scalar.self) shape \(z.shape)")
      }
    }
  }

  func checkRoundTrips<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
    var generator = SeededGenerator(seed: 14)
    for length in Self.lengths {
      for leading in Self.leadingShapes {
        let x = Tensor<Scalar>.randomNormal(shape: leading + [length], using: &generator)
        assertClose(
          irfft(rfft(x), length: length), x, absolute: tolerance * Scalar(euclideanNorm(widenedScalars(x))),
          "irfft(rfft(x)) \(Scalar.self) shape \(x.shape)")
        let z = Tensor<Scalar>.randomNormal(shape: leading + [length, 2], using: &generator)
        assertClose(
          ifft(fft(z)), z, absolute: tolerance * Scalar(euclideanNorm(widenedScalars(z))),
          "ifft(fft(z)) \(Scalar.self) shape \(z.shape)")
        assertClose(
          fft(ifft(z)), z, absolute: tolerance * Scalar(euclideanNorm(widenedScalars(z))),
          "fft(ifft(z)) \(Scalar.self) shape \(z.shape)")
      }
    }
  }

  /// Σ|x[j]|² = (1/n)·Σ|X[k]|² per row; for rfft the bins strictly between
  /// 0 and n/2 stand for themselves and their conjugates.
  func checkParseval<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
    var generator = SeededGenerator(seed: 15)
    for length in Self.lengths {
      let rows = 3
      let x = Tensor<Scalar>.randomNormal(shape: [rows, length], using: &generator)
      let spectrum = widenedScalars(rfft(x))
      let z = Tensor<Scalar>.randomNormal(shape: [rows, length, 2], using: &generator)
      let complexSpectrum = widenedScalars(fft(z))
      let signal = widenedScalars(x)
      let complexSignal = widenedScalars(z)
      let bins = length / 2 + 1
      for row in 0..<rows {
        let energy = (0..<length).reduce(0.0) { $0 + signal[row * length + $1] * signal[row * length + $1] }
        var spectralEnergy = 0.0
        for k in 0..<bins {
          let weight = k == 0 || (length % 2 == 0 && k == length / 2) ? 1.0 : 2.0
          let re = spectrum[(row * bins + k) * 2]
          let im = spectrum[(row * bins + k) * 2 + 1]
          spectralEnergy += weight * (re * re + im * im)
        }
        assertClose(
          spectralEnergy / Double(length), energy, relative: Double(tolerance),
          "rfft Parseval \(Scalar.self) n = \(length) row \(row)")

        let rowRange = (row * 2 * length)..<((row + 1) * 2 * length)
        let complexEnergy = rowRange.reduce(0.0) { $0 + complexSignal[$1] * complexSignal[$1] }
        let complexSpectralEnergy = rowRange.reduce(0.0) { $0 + complexSpectrum[$1] * complexSpectrum[$1] }
        assertClose(
          complexSpectralEnergy / Double(length), complexEnergy, relative: Double(tolerance),
          "fft Parseval \(Scalar.self) n = \(length) row \(row)")
      }
    }
  }

  func checkRealBins<Scalar: TensorScalar>(_: Scalar.Type) {
    var generator = SeededGenerator(seed: 16)
    for length in Self.lengths {
      let x = Tensor<Scalar>.randomNormal(shape: [2, 2, length], using: &generator)
      let spectrum = rfft(x)
      for first in 0..<2 {
        for second in 0..<2 {
          XCTAssertEqual(spectrum[first, second, 0, 1], 0, "Im X[0], \(Scalar.self) n = \(length)")
          if length % 2 == 0 {
            XCTAssertEqual(spectrum[first, second, length / 2, 1], 0, "Im X[n/2], \(Scalar.self) n = \(length)")
          }
        }
      }
    }
  }

  func checkHandDerived<Scalar: TensorScalar>(_: Scalar.Type) {
    // [1, 2, 3, 4]: X[0] = 10, X[1] = (1 − 3) + i(4 − 2) = −2 + 2i, X[2] = 1 − 2 + 3 − 4 = −2.
    assertClose(
      rfft(Tensor<Scalar>([1, 2, 3, 4])), Tensor(shape: [3, 2], scalars: [10, 0, -2, 2, -2, 0]),
      absolute: 1e-6)
    // n = 1 is the identity on each row.
    assertIdentical(rfft(Tensor<Scalar>([[3], [-2]])), Tensor(shape: [2, 1, 2], scalars: [3, 0, -2, 0]))
    assertIdentical(irfft(Tensor<Scalar>(shape: [1, 1, 2], scalars: [5, 7]), length: 1), Tensor([[5]]))
    assertIdentical(fft(Tensor<Scalar>(shape: [1, 2], scalars: [4, -1])), Tensor(shape: [1, 2], scalars: [4, -1]))
    // z = [1, i]: X[0] = 1 + i, X[1] = 1 − i; the inverse halves the sums.
    assertClose(fft(Tensor<Scalar>([[1, 0], [0, 1]])), Tensor([[1, 1], [1, -1]]), absolute: 1e-6)
    assertClose(ifft(Tensor<Scalar>([[1, 0], [0, 1]])), Tensor([[0.5, 0.5], [0.5, -0.5]]), absolute: 1e-6)
    // Length 3 and length 2 both have 2 bins; the length decides.
    let bins = Tensor<Scalar>([[3, 0], [1, 0]])
    assertClose(irfft(bins, length: 2), Tensor([2, 1]), absolute: 1e-6)
    // x[j] = (3 + 2·cos(2πj/3)) / 3: [5/3, 2/3, 2/3].
    assertClose(irfft(bins, length: 3), Tensor([5.0 / 3, 2.0 / 3, 2.0 / 3]), absolute: 1e-6)
  }

  func checkRankOneAndEmpty<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
    var generator = SeededGenerator(seed: 17)
    for length in [1, 7, 8] {
      let x = Tensor<Scalar>.randomNormal(shape: [length], using: &generator)
      let expected = naiveRealForward(widenedScalars(x), length: length)
      let spectrum = rfft(x)
      assertClose(
        spectrum, roundedTensor(expected, shape: [length / 2 + 1, 2]), absolute: tolerance * Scalar(euclideanNorm(expected)),
        "rfft rank 1 \(Scalar.self) n = \(length)")
      assertClose(
        irfft(spectrum, length: length), x, absolute: tolerance * Scalar(euclideanNorm(widenedScalars(x))),
        "irfft rank 2 \(Scalar.self) n = \(length)")
      let z = Tensor<Scalar>.randomNormal(shape: [length, 2], using: &generator)
      let forward = naiveDFT(widenedScalars(z), length: length, sign: -1)
      assertClose(
        fft(z), roundedTensor(forward, shape: [length, 2]), absolute: tolerance * Scalar(euclideanNorm(forward)),
        "fft rank 2 \(Scalar.self) n = \(length)")
      assertClose(
        ifft(fft(z)), z, absolute: tolerance * Scalar(euclideanNorm(widenedScalars(z))), "ifft rank 2 \(Scalar.self) n = \(length)")
    }
    XCTAssertEqual(rfft(Tensor<Scalar>.zeros(shape: [0, 8])).shape, [0, 5, 2])
    XCTAssertEqual(rfft(Tensor<Scalar>.zeros(shape: [2, 0, 7])).shape, [2, 0, 4, 2])
    XCTAssertEqual(irfft(Tensor<Scalar>.zeros(shape: [0, 5, 2]), length: 8).shape, [0, 8])
    XCTAssertEqual(irfft(Tensor<Scalar>.zeros(shape: [3, 0, 5, 2]), length: 9).shape, [3, 0, 9])
    XCTAssertEqual(fft(Tensor<Scalar>.zeros(shape: [0, 4, 2])).shape, [0, 4, 2])
    XCTAssertEqual(ifft(Tensor<Scalar>.zeros(shape: [2, 0, 1, 2])).shape, [2, 0, 1, 2])
  }

  func checkLargeBatches<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
    var generator = SeededGenerator(seed: 18)
    for shape in [[600, 64], [1001, 33], [7, 151, 31]] {
      let length = shape[shape.count - 1]
      let leading = Array(shape.dropLast())
      let x = Tensor<Scalar>.randomNormal(shape: shape, using: &generator)
      let expected = naiveRealForward(widenedScalars(x), length: length)
      let spectrum = rfft(x)
      assertClose(
        spectrum, roundedTensor(expected, shape: leading + [length / 2 + 1, 2]),
        absolute: tolerance * Scalar(euclideanNorm(expected)), "rfft \(Scalar.self) shape \(shape)")
      assertClose(
        irfft(spectrum, length: length), x, absolute: tolerance * Scalar(euclideanNorm(widenedScalars(x))),
        "irfft \(Scalar.self) shape \(shape)")
      let z = Tensor<Scalar>.randomNormal(shape: shape + [2], using: &generator)
      let forward = naiveDFT(widenedScalars(z), length: length, sign: -1)
      let transformed = fft(z)
      assertClose(
        transformed, roundedTensor(forward, shape: z.shape), absolute: tolerance * Scalar(euclideanNorm(forward)),
        "fft \(Scalar.self) shape \(z.shape)")
      assertClose(
        ifft(transformed), z, absolute: tolerance * Scalar(euclideanNorm(widenedScalars(z))), "ifft \(Scalar.self) shape \(z.shape)")
    }
  }
}

// MARK: - Reference transforms, in Double

/// The scalars of a tensor, widened to `Double` exactly.
private func widenedScalars<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> [Double] {
  x.scalars.map { Double($0) }
}

/// A tensor of either precision from `Double` values (rounded for `Float`).
private func roundedTensor<Scalar: TensorScalar>(_ values: [Double], shape: [Int]) -> Tensor<Scalar> {
  Tensor(shape: shape, scalars: values.map { Scalar($0) })
}

/// The Euclidean norm of all values.
private func euclideanNorm(_ values: [Double]) -> Double {
  values.reduce(0) { $0 + $1 * $1 }.squareRoot()
}

/// Σⱼ z[j]·e^(sign·2πi·jk/n) for every row of interleaved complex values, O(n²).
private func naiveDFT(_ z: [Double], length n: Int, sign: Double) -> [Double] {
  let rows = z.count / (2 * n)
  var result = [Double](repeating: 0, count: z.count)
  for row in 0..<rows {
    for k in 0..<n {
      var re = 0.0
      var im = 0.0
      for j in 0..<n {
        // Reducing jk mod n first keeps the angle exact in its argument.
        let angle = sign * 2 * Double.pi * Double((j * k) % n) / Double(n)
        let a = z[(row * n + j) * 2]
        let b = z[(row * n + j) * 2 + 1]
        re += a * cos(angle) - b * sin(angle)
        im += a * sin(angle) + b * cos(angle)
      }
      result[(row * n + k) * 2] = re
      result[(row * n + k) * 2 + 1] = im
    }
  }
  return result
}

/// Bins 0…n/2 of the DFT of real rows, interleaved.
private func naiveRealForward(_ x: [Double], length n: Int) -> [Double] {
  let rows = x.count / n
  let complex = x.flatMap { [$0, 0.0] as [Double] }
  let full = naiveDFT(complex, length: n, sign: -1)
  let bins = n / 2 + 1
  var result: [Double] = []
  for row in 0..<rows {
    result += full[(row * n * 2)..<((row * n + bins) * 2)]
  }
  return result
}

/// NumPy's irfft: x[j] = (1/n)·[Re X₀ + 2·Σ_{0<k<n/2} Re(X_k·e^(2πi·jk/n)) + Re X_{n/2}·(−1)^j (even n)],
/// reading only the real parts of bins 0 and n/2.
private func naiveRealInverse(_ bins: [Double], length n: Int) -> [Double] {
  let binCount = n / 2 + 1
  let rows = bins.count / (2 * binCount)
  var result = [Double](repeating: 0, count: rows * n)
  for row in 0..<rows {
    let base = row * binCount * 2
    for j in 0..<n {
      var sum = bins[base]
      for k in stride(from: 1, through: (n - 1) / 2, by: 1) {
        let angle = 2 * Double.pi * Double((j * k) % n) / Double(n)
        sum += 2 * (bins[base + 2 * k] * cos(angle) - bins[base + 2 * k + 1] * sin(angle))
      }
      if n % 2 == 0 { sum += bins[base + n] * (j % 2 == 0 ? 1 : -1) }
      result[row * n + j] = sum / Double(n)
    }
  }
  return result
}

/// A copy of c2r input with Im X[0] and, for even n, Im X[n/2] set to zero.
private func zeroingEdgeImaginaryParts<Scalar: TensorScalar>(_ bins: Tensor<Scalar>, length n: Int) -> Tensor<Scalar> {
  var values = bins.scalars
  let binCount = n / 2 + 1
  for row in 0..<(values.count / (2 * binCount)) {
    values[row * binCount * 2 + 1] = 0
    if n % 2 == 0 { values[row * binCount * 2 + n + 1] = 0 }
  }
  return Tensor(shape: bins.shape, scalars: values)
}
