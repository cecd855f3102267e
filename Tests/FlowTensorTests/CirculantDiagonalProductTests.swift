import FlowTensor
import XCTest
import _TestSupport

final class CirculantDiagonalProductTests: XCTestCase {
  /// The product by composition of FlowTensor's own ops: diagonal scalings,
  /// rfft, a complex product written with slices, irfft.
  static func reference<Scalar: TensorScalar>(
    _ x: Tensor<Scalar>, diagonals: Tensor<Scalar>, spectra: Tensor<Scalar>
  ) -> Tensor<Scalar> {
    let (m, n) = (diagonals.shape[0], x.shape[1])
    func row(_ t: Tensor<Scalar>, _ index: Int) -> Tensor<Scalar> {
      t.sliced(alongAxis: 0, from: index, to: index + 1).squeezingShape(at: 0)
    }
    var y = x * row(diagonals, m - 1)
    for j in stride(from: m - 2, through: 0, by: -1) {
      let bins = rfft(y)
      let spectrum = row(spectra, j)
      let (a, b) = (bins.sliced(alongAxis: 2, from: 0, to: 1), bins.sliced(alongAxis: 2, from: 1, to: 2))
      let (p, q) = (spectrum.sliced(alongAxis: 1, from: 0, to: 1), spectrum.sliced(alongAxis: 1, from: 1, to: 2))
      let product = Tensor(concatenating: [a * p - b * q, a * q + b * p], alongAxis: 2)
      y = irfft(product, length: n) * row(diagonals, j)
    }
    return y
  }

  func testMatchesTheComposedProduct() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 1)
      for n in [1, 2, 3, 7, 8, 64, 96, 97, 256] {
        for m in [1, 2, 3] {
          for rows in [1, 5, 3000] where rows < 3000 || n == 8 {
            let x = Tensor<Scalar>.randomNormal(shape: [rows, n], using: &generator)
            let diagonals = Tensor<Scalar>.randomNormal(shape: [m, n], using: &generator)
            let spectra = Tensor<Scalar>.randomNormal(shape: [m - 1, n / 2 + 1, 2], using: &generator)
            let expected = Self.reference(x, diagonals: diagonals, spectra: spectra)
            let scale = expected.scalars.map { abs($0) }.max() ?? 1
            assertClose(
              circulantDiagonalProduct(x, diagonals: diagonals, spectra: spectra), expected,
              absolute: tolerance * (1 + scale), "n \(n), m \(m), rows \(rows), \(Scalar.self)")
          }
        }
      }
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-12)
  }

  func testDerivativesPassTheChecks() {
    var generator = SeededGenerator(seed: 2)
    for (n, m) in [(6, 1), (6, 2), (7, 2), (7, 3), (8, 3)] {
      let inputs = [
        Tensor<Double>.randomNormal(shape: [3, n], using: &generator),
        Tensor<Double>.randomNormal(shape: [m, n], using: &generator),
        Tensor<Double>.randomNormal(shape: [m - 1, n / 2 + 1, 2], using: &generator),
      ]
      let body: ([Tensor<Double>]) -> Tensor<Double> = { circulantDiagonalProduct($0[0], diagonals: $0[1], spectra: $0[2]) }
      let reverse = checkVJP(of: body, at: inputs)
      XCTAssertTrue(reverse.passed, "n \(n), m \(m): \(reverse)")
      let forward = checkJVP(of: body, at: inputs)
      XCTAssertTrue(forward.passed, "n \(n), m \(m): \(forward)")
      // Gradients agree with those of the composed product.
      let weights = Tensor<Double>.randomNormal(shape: [3, n], using: &generator)
      let (_, fused) = valueWithGradient(at: inputs) { (body($0) * weights).sum() }
      let (_, composed) = valueWithGradient(at: inputs) { p in
        (Self.reference(p[0], diagonals: p[1], spectra: p[2]) * weights).sum()
      }
      for index in 0..<3 { assertClose(fused[index], composed[index], absolute: 1e-11, "input \(index), n \(n), m \(m)") }
    }
  }

  /// The pullback over many row tiles split across threads, with an odd
  /// row count (a last row packed alone), in both pair layouts (split for
  /// n = 128 and 256, interleaved for the others), agrees with the composed
  /// product's.
  func testGradientsOverManyTilesMatchTheComposedProduct() {
    var generator = SeededGenerator(seed: 3)
    for (rows, n, m) in [(1001, 97, 3), (3000, 8, 2), (257, 96, 4), (301, 128, 3), (64, 256, 2)] {
      let inputs = [
        Tensor<Double>.randomNormal(shape: [rows, n], using: &generator),
        Tensor<Double>.randomNormal(shape: [m, n], using: &generator),
        Tensor<Double>.randomNormal(shape: [m - 1, n / 2 + 1, 2], using: &generator),
      ]
      let weights = Tensor<Double>.randomNormal(shape: [rows, n], using: &generator)
      let (fusedValue, fused) = valueWithGradient(at: inputs) { p in
        (circulantDiagonalProduct(p[0], diagonals: p[1], spectra: p[2]) * weights).sum()
      }
      let (composedValue, composed) = valueWithGradient(at: inputs) { p in
        (Self.reference(p[0], diagonals: p[1], spectra: p[2]) * weights).sum()
      }
      XCTAssertEqual(fusedValue.scalar, composedValue.scalar, accuracy: 1e-9 * Swift.max(1, abs(composedValue.scalar)))
      for index in 0..<3 {
        let scale = composed[index].scalars.map { abs($0) }.max() ?? 1
        assertClose(fused[index], composed[index], absolute: 1e-11 * (1 + scale), "input \(index), rows \(rows), n \(n), m \(m)")
      }
    }
  }
}
