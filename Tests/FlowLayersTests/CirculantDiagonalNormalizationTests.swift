import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

final class CirculantDiagonalNormalizationTests: XCTestCase {
  /// Factors away from orthogonal: log-magnitudes uniform in [−0.4, 0.4),
  /// the signs and phases of the random initialisation.
  private func perturbedNormalizationFactors<Scalar: TensorScalar>(
    _: Scalar.Type, channels: Int, diagonalCount: Int, seed: UInt64
  ) -> CirculantDiagonalFactors<Scalar> {
    var generator = SeededGenerator(seed: seed)
    var factors = CirculantDiagonalFactors<Scalar>(size: channels, diagonalCount: diagonalCount, using: &generator)
    factors.updateParameters { name, parameter in
      if name.hasSuffix("logMagnitude") {
        parameter = Tensor.randomUniform(shape: parameter.shape, in: -0.4..<0.4, using: &generator)
      }
    }
    return factors
  }

  /// σ computed here from the scalars: Π over the factors of exp(max logMagnitude).
  private func boundFromScalars<Scalar: TensorScalar>(_ factors: CirculantDiagonalFactors<Scalar>) -> Double {
    let maxima = factors.diagonals.map { $0.logMagnitude.scalars.max()! }
      + factors.circulants.map { $0.logMagnitude.scalars.max()! }
    return Double.exp(maxima.map(Double.init).reduce(0, +))
  }

  /// The normalised layer is the plain layer divided by σ, its log-det is
  /// the plain one minus pixels·channels·log σ, and both directions agree.
  func testSpectralNormalizationDividesByTheBound() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Double) {
      for (channels, diagonalCount) in [(6, 2), (7, 3), (4, 1), (1, 2)] {
        let context = "\(Scalar.self) n = \(channels), m = \(diagonalCount)"
        let factors = perturbedNormalizationFactors(
          Scalar.self, channels: channels, diagonalCount: diagonalCount, seed: UInt64(10 * channels + diagonalCount))
        let plain = CirculantDiagonalConv1x1(factors: factors)
        let normalized = CirculantDiagonalConv1x1(factors: factors, normalization: .spectral)
        XCTAssertEqual(plain.normalization, .none)
        let sigma = boundFromScalars(factors)
        assertClose(Double(normalized.spectralNormBound().scalar), sigma, relative: tolerance, context)
        assertClose(
          Double(factors.logSpectralNormBound().scalar), Double.log(sigma), absolute: tolerance, context)

        var generator = SeededGenerator(seed: 5)
        let x = Tensor<Scalar>.randomNormal(shape: [2, channels, 3, 2], using: &generator)
        let (y, logDeterminant) = normalized.forward(x)
        let (plainY, plainLogDeterminant) = plain.forward(x)
        assertClose(y, plainY / Scalar(sigma), absolute: Scalar(tolerance), relative: Scalar(tolerance), context)
        let shift = Scalar(6 * channels) * Scalar.log(Scalar(sigma))
        assertClose(
          logDeterminant, plainLogDeterminant - shift, absolute: Scalar(tolerance), relative: Scalar(tolerance), context)
        assertClose(
          normalized.logAbsoluteDeterminant(height: 3, width: 2), Tensor(logDeterminant.scalars[0]), absolute: Scalar(tolerance),
          relative: Scalar(tolerance), context)
        let (back, inverseLogDeterminant) = normalized.inverse(y)
        assertClose(back, x, absolute: Scalar(10 * tolerance), relative: Scalar(10 * tolerance), context)
        assertClose(
          inverseLogDeterminant, -logDeterminant, absolute: Scalar(tolerance), relative: Scalar(tolerance), context)
      }
    }
    check(Double.self, tolerance: 1e-12)
    check(Float.self, tolerance: 1e-5)
  }

  /// ‖W/σ‖₂ ≤ 1: the largest singular value of the normalised map on one
  /// pixel, by power iteration on (W/σ)ᵀ(W/σ) with the matrix assembled
  /// column by column from the layer. At n = 1 (and m = 1, W diagonal) the
  /// bound is exact, so the norm is 1.
  func testNormalizedMatrixHasSpectralNormAtMostOne() {
    for (channels, diagonalCount) in [(6, 2), (8, 2), (7, 3), (5, 1), (1, 2)] {
      let context = "n = \(channels), m = \(diagonalCount)"
      let factors = perturbedNormalizationFactors(
        Double.self, channels: channels, diagonalCount: diagonalCount, seed: UInt64(channels + 100 * diagonalCount))
      let layer = CirculantDiagonalConv1x1(factors: factors, normalization: .spectral)
      // Column j of W/σ is the image of the unit vector e_j (one pixel).
      let units = Tensor<Double>.identity(size: channels).reshaped(to: [channels, channels, 1, 1])
      let columns = layer.forward(units).output.reshaped(to: [channels, channels])  // row j = (W/σ)·e_j
      let matrix = columns.transposed()
      var vector = Tensor<Double>.ones(shape: [channels, 1])
      var norm = 0.0
      for _ in 0..<500 {
        let next = matmul(matrix.transposed(), matmul(matrix, vector))
        norm = next.scalars.map { $0 * $0 }.reduce(0, +).squareRoot()
        vector = next / norm
      }
      let spectralNorm = norm.squareRoot()
      XCTAssertLessThanOrEqual(spectralNorm, 1 + 1e-12, context)
      XCTAssertGreaterThan(spectralNorm, 0.1, context)
      if diagonalCount == 1 || channels == 1 { assertClose(spectralNorm, 1, relative: 1e-9, context) }
    }
  }

  /// Both initialisations have σ = 1, so the normalised layer starts as
  /// the plain one (the same map, log-det 0); the identity stays the identity.
  func testNormalizationChangesNothingAtInitialisation() {
    for initialization in CirculantDiagonalInitialization.allCases {
      var generator = SeededGenerator(seed: 9)
      let plain = CirculantDiagonalConv1x1<Double>(channels: 8, initialization: initialization, using: &generator)
      let normalized = CirculantDiagonalConv1x1(factors: plain.factors, normalization: .spectral)
      let x = Tensor<Double>.randomNormal(shape: [2, 8, 2, 2], using: &generator)
      let (y, logDeterminant) = normalized.forward(x)
      assertClose(y, plain.forward(x).output, absolute: 1e-13)
      assertClose(logDeterminant, Tensor.zeros(shape: [2]), absolute: 1e-13)
      if initialization == .identity { assertClose(y, x, absolute: 1e-13) }
    }
  }
}
