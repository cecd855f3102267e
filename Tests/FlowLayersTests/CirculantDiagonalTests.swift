import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

final class CirculantDiagonalTests: XCTestCase {
  /// Forward, inverse and log-determinant against the dense W, assembled
  /// here from the parameters alone: each diagonal as diag(sign·exp(logMagnitude)),
  /// each circulant as the matrix C[i, j] = c[(i − j) mod n] with c the
  /// inverse DFT of the full spectrum (the stored bins and their
  /// conjugates) summed directly, without an FFT. The log-magnitudes are
  /// drawn away from 0 so that W is not orthogonal, the signs and phases
  /// come from the random initialisation.
  func testForwardInverseAndLogDeterminantMatchTheDenseMatrix() {
    var generator = SeededGenerator(seed: 51)
    for size in [1, 2, 3, 7, 96, 97, 128, 255, 256] {
      for diagonalCount in 1...4 {
        let context = "n = \(size), m = \(diagonalCount)"
        let layer = CirculantDiagonalLinear(
          factors: perturbedFactors(size: size, diagonalCount: diagonalCount, using: &generator))
        let w = denseMatrix(layer.factors)

        let x = Tensor<Double>.randomNormal(shape: [3, size], using: &generator)
        let (y, logDeterminant) = layer.forward(x)
        assertCloseToScale(y, matmul(x, w, transposingB: true), relative: 1e-12, context)

        let expectedLogDeterminant = slogdet(w).logAbsDeterminant.scalar
        assertClose(layer.logAbsoluteDeterminant().scalar, expectedLogDeterminant, relative: 1e-10, context)
        assertClose(logDeterminant, Tensor(repeating: expectedLogDeterminant, shape: [3]), relative: 1e-10, context)

        let target = Tensor<Double>.randomNormal(shape: [3, size], using: &generator)
        let (back, inverseLogDeterminant) = layer.inverse(target)
        let expectedBack = try! solve(w, target.transposed()).transposed()
        assertCloseToScale(back, expectedBack, relative: 1e-12, context)
        assertClose(
          inverseLogDeterminant, Tensor(repeating: -expectedLogDeterminant, shape: [3]), relative: 1e-10, context)
      }
    }
  }

  /// A hand-checked W = C for n = 4 (m = 2, identity diagonals): the half
  /// spectrum (−2, i, 3) is the full spectrum (−2, i, 3, −i), whose inverse
  /// DFT is c = (1, −7, 1, −3)/4, C's first column; |det C| = |−2·i·3·(−i)| = 6.
  func testHandCheckedCirculant() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let diagonal = CirculantDiagonalFactors<Scalar>.Diagonal(
        sign: .ones(shape: [4]), logMagnitude: .zeros(shape: [4]))
      let circulant = CirculantDiagonalFactors<Scalar>.Circulant(
        length: 4, sign: Tensor([-1, 1, 1]), logMagnitude: Tensor([Scalar.log(2), 0, Scalar.log(3)]),
        phase: Tensor([Scalar.pi / 2]))
      assertClose(circulant.spectrum, Tensor([[-2, 0], [0, 1], [3, 0]]), absolute: tolerance)
      let layer = CirculantDiagonalLinear(
        factors: CirculantDiagonalFactors(diagonals: [diagonal, diagonal], circulants: [circulant]))
      let unit = Tensor<Scalar>([[1, 0, 0, 0]])
      let (column, logDeterminant) = layer.forward(unit)
      assertClose(column, Tensor([[0.25, -1.75, 0.25, -0.75]]), absolute: tolerance)
      assertClose(logDeterminant, Tensor([Scalar.log(6)]), absolute: tolerance)
      assertClose(circulant.logAbsoluteDeterminant(), Tensor(Scalar.log(6)), absolute: tolerance)
      assertClose(layer.inverse(column).output, unit, absolute: tolerance)
      // max|d| = 1, max|ĉ| = 3.
      assertClose(layer.spectralNormBound(), Tensor(3), absolute: tolerance)
    }
    check(Double.self, tolerance: 1e-15)
    check(Float.self, tolerance: 1e-6)
  }

  /// The identity initialisation is the identity map with log|det| = 0,
  /// for even and odd n and any m; its parameters are the documented ones,
  /// n real numbers per factor.
  func testIdentityInitializationIsTheIdentity() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 52)
      for (size, diagonalCount) in [(1, 1), (1, 3), (2, 2), (5, 2), (8, 3), (33, 4)] {
        let context = "n = \(size), m = \(diagonalCount)"
        let layer = CirculantDiagonalLinear<Scalar>(
          size: size, diagonalCount: diagonalCount, initialization: .identity, using: &generator)
        let x = Tensor<Scalar>.randomNormal(shape: [2, size], using: &generator)
        let (y, logDeterminant) = layer.forward(x)
        assertClose(y, x, absolute: tolerance, context)
        assertIdentical(logDeterminant, Tensor.zeros(shape: [2]))
        assertClose(layer.inverse(x).output, x, absolute: tolerance, context)
        assertIdentical(layer.spectralNormBound(), Tensor(1))
        XCTAssertEqual(layer.parameterCount, (2 * diagonalCount - 1) * size, context)
        XCTAssertTrue(layer.factors.diagonals.allSatisfy { $0.sign == Tensor.ones(shape: [size]) }, context)
        XCTAssertTrue(layer.factors.circulants.allSatisfy { $0.sign == Tensor.ones(shape: [size / 2 + 1]) }, context)
      }
      let layer = CirculantDiagonalLinear<Scalar>(size: 6, initialization: .identity, using: &generator)
      XCTAssertEqual(
        layer.parameters.map(\.name),
        ["diagonals.0.logMagnitude", "diagonals.1.logMagnitude", "circulants.0.logMagnitude", "circulants.0.phase"])
      XCTAssertEqual(layer.parameters.map(\.value.shape), [[6], [6], [4], [2]])
    }
    check(Double.self, tolerance: 1e-14)
    check(Float.self, tolerance: 1e-6)
  }

  /// The random initialisation is orthogonal: every diagonal entry ±1 and
  /// every spectrum bin of modulus 1, so W·Wᵀ = I (W read off as the
  /// images of the unit vectors) and log|det W| = 0; the signs and phases
  /// are random (both signs occur, the phases spread over (−π, π)).
  func testRandomInitializationIsOrthogonal() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 53)
      for (size, diagonalCount) in [(1, 2), (2, 3), (7, 3), (8, 2), (64, 2)] {
        let context = "n = \(size), m = \(diagonalCount)"
        let layer = CirculantDiagonalLinear<Scalar>(size: size, diagonalCount: diagonalCount, using: &generator)
        assertIdentical(layer.logAbsoluteDeterminant(), Tensor(0))
        // Row i is (W·eᵢ)ᵀ, so the rows are W's columns.
        let columns = layer.forward(Tensor.identity(size: size)).output
        assertClose(
          matmul(columns, columns, transposingB: true), Tensor.identity(size: size), absolute: tolerance, context)
        for circulant in layer.factors.circulants {
          let spectrum = circulant.spectrum
          let modulus = sqrt(square(spectrum).sum(alongAxes: [1]))
          assertClose(modulus, Tensor.ones(shape: [size / 2 + 1]), absolute: tolerance, context)
        }
      }
      let large = CirculantDiagonalLinear<Scalar>(size: 64, diagonalCount: 3, using: &generator)
      let signs = large.factors.diagonals.flatMap(\.sign.scalars)
      XCTAssertTrue(signs.contains(1) && signs.contains(-1))
      XCTAssertTrue(signs.allSatisfy { $0 == 1 || $0 == -1 })
      let phases = large.factors.circulants.flatMap(\.phase.scalars)
      XCTAssertEqual(phases.count, 2 * 31)
      XCTAssertTrue(phases.allSatisfy { $0 >= -Scalar.pi && $0 < Scalar.pi })
      XCTAssertLessThan(phases.min()!, -2)
      XCTAssertGreaterThan(phases.max()!, 2)
      // The seed decides the signs and phases.
      func draw(seed: UInt64) -> [Scalar] {
        var seeded = SeededGenerator(seed: seed)
        let factors = CirculantDiagonalLinear<Scalar>(size: 9, diagonalCount: 3, using: &seeded).factors
        return factors.diagonals.flatMap(\.sign.scalars)
          + factors.circulants.flatMap { $0.sign.scalars + $0.phase.scalars }
      }
      XCTAssertEqual(draw(seed: 60), draw(seed: 60))
      XCTAssertNotEqual(draw(seed: 60), draw(seed: 61))
    }
    check(Double.self, tolerance: 1e-14)
    check(Float.self, tolerance: 1e-5)
  }

  /// |det W| = 1 at the random initialisation by the dense determinant,
  /// independently of the layer's own formula.
  func testRandomInitializationHasUnitDeterminantDensely() {
    var generator = SeededGenerator(seed: 54)
    for (size, diagonalCount) in [(2, 2), (7, 3), (16, 4), (31, 2)] {
      let factors = CirculantDiagonalFactors<Double>(size: size, diagonalCount: diagonalCount, using: &generator)
      assertClose(slogdet(denseMatrix(factors)).logAbsDeterminant.scalar, 0, absolute: 1e-13, "n = \(size)")
    }
  }

  /// The 1×1 convolution is the linear map on the channels of each pixel,
  /// with the log-determinant times height·width.
  func testConvolutionIsTheLinearMapPerPixel() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 55)
      for (channels, diagonalCount) in [(1, 2), (7, 2), (8, 3)] {
        let context = "channels = \(channels), m = \(diagonalCount)"
        var factors = CirculantDiagonalFactors<Scalar>(size: channels, diagonalCount: diagonalCount, using: &generator)
        factors.updateParameters { _, parameter in
          parameter = parameter + Tensor.randomNormal(shape: parameter.shape, standardDeviation: 0.3, using: &generator)
        }
        let convolution = CirculantDiagonalConv1x1(factors: factors)
        let linear = CirculantDiagonalLinear(factors: factors)
        let (height, width) = (3, 2)
        let x = Tensor<Scalar>.randomNormal(shape: [2, channels, height, width], using: &generator)
        let (y, logDeterminant) = convolution.forward(x)
        let (back, inverseLogDeterminant) = convolution.inverse(x)
        for row in 0..<height {
          for column in 0..<width {
            let pixel = x.sliced(lowerBounds: [0, 0, row, column], upperBounds: [2, channels, row + 1, column + 1])
            let pixelOf = { (images: Tensor<Scalar>) in
              images.sliced(lowerBounds: [0, 0, row, column], upperBounds: [2, channels, row + 1, column + 1])
                .reshaped(to: [2, channels])
            }
            let pixelContext = "\(context), pixel (\(row), \(column))"
            let samples = pixel.reshaped(to: [2, channels])
            assertClose(pixelOf(y), linear.forward(samples).output, absolute: tolerance, pixelContext)
            assertClose(pixelOf(back), linear.inverse(samples).output, absolute: tolerance, pixelContext)
          }
        }
        let pixels = Scalar(height * width)
        let perPixel = linear.logAbsoluteDeterminant()
        assertClose(logDeterminant, (perPixel * pixels).broadcast(to: [2]), absolute: tolerance, context)
        assertClose(inverseLogDeterminant, (-perPixel * pixels).broadcast(to: [2]), absolute: tolerance, context)
        assertClose(
          convolution.logAbsoluteDeterminant(height: height, width: width), perPixel * pixels, absolute: tolerance,
          context)
        assertIdentical(convolution.spectralNormBound(), linear.spectralNormBound())
      }
    }
    check(Double.self, tolerance: 1e-13)
    check(Float.self, tolerance: 1e-5)
  }

  /// The log-determinant's gradient is the bin multiplicities: 1 for each
  /// diagonal log-magnitude, 1 for the DC and (even n) Nyquist bins, 2 for
  /// the other bins, and 0 for the phases, whatever the parameters.
  func testLogDeterminantGradientIsAnalytic() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 56)
      for size in [1, 2, 5, 6] {
        var layer = CirculantDiagonalLinear<Scalar>(size: size, diagonalCount: 3, using: &generator)
        layer.updateParameters { _, parameter in
          parameter = Tensor.randomNormal(shape: parameter.shape, using: &generator)
        }
        let (_, gradients) = valueWithGradient(at: layer) { $0.logAbsoluteDeterminant() }
        let bins = size / 2 + 1
        let multiplicity = Tensor<Scalar>(
          shape: [bins], scalars: (0..<bins).map { $0 == 0 || 2 * $0 == size ? 1 : 2 })
        for index in 0..<3 {
          assertIdentical(gradients["diagonals.\(index).logMagnitude"]!, Tensor.ones(shape: [size]))
        }
        for index in 0..<2 {
          assertIdentical(gradients["circulants.\(index).logMagnitude"]!, multiplicity)
          assertIdentical(gradients["circulants.\(index).phase"]!, Tensor.zeros(shape: [(size - 1) / 2]))
        }
      }
    }
    check(Double.self)
    check(Float.self)
  }

  /// ‖W‖₂ ≤ the bound, with the largest singular value of the dense W from
  /// power iteration on WᵀW; for m = 1 (W diagonal) the bound is exact.
  func testSpectralNormBoundIsAnUpperBound() {
    var generator = SeededGenerator(seed: 57)
    for (size, diagonalCount) in [(1, 1), (6, 1), (5, 2), (8, 3), (16, 2)] {
      let factors = perturbedFactors(size: size, diagonalCount: diagonalCount, using: &generator)
      let norm = largestSingularValue(denseMatrix(factors), using: &generator)
      let bound = factors.spectralNormBound().scalar
      XCTAssertLessThanOrEqual(norm, bound * (1 + 1e-12), "n = \(size), m = \(diagonalCount)")
      if diagonalCount == 1 { assertClose(norm, bound, relative: 1e-9, "n = \(size)") }
    }
  }

  /// Reverse and forward mode (batched tangents too) of both directions,
  /// with respect to the input and every parameter at once, against
  /// central differences, for even and odd n and m = 1, 2, 3.
  func testDerivativesInBothModes() {
    var generator = SeededGenerator(seed: 59)
    for (size, diagonalCount) in [(6, 1), (6, 2), (7, 3)] {
      let template = perturbedFactors(size: size, diagonalCount: diagonalCount, using: &generator)
      let parameters = template.parameters.map(\.value)
      // inputs[0] is the batch, the rest the parameters in visiting order.
      func layer(_ inputs: [Tensor<Double>]) -> CirculantDiagonalLinear<Double> {
        var factors = template
        var index = 1
        factors.updateParameters { _, parameter in
          parameter = inputs[index]
          index += 1
        }
        return CirculantDiagonalLinear(factors: factors)
      }
      let x = Tensor<Double>.randomNormal(shape: [2, size], using: &generator)
      let bodies: [(String, ([Tensor<Double>]) -> Tensor<Double>)] = [
        ("forward", { layer($0).forward($0[0]).output }),
        ("inverse", { layer($0).inverse($0[0]).output }),
        ("log-determinant", { layer($0).forward($0[0]).logDeterminant }),
      ]
      for (name, body) in bodies {
        let context = "\(name), n = \(size), m = \(diagonalCount)"
        let reverse = checkVJP(of: body, at: [x] + parameters)
        XCTAssertTrue(reverse.passed, "\(context): \(reverse)")
        let forward = checkJVP(of: body, at: [x] + parameters)
        XCTAssertTrue(forward.passed, "\(context): \(forward)")
      }
    }
  }

  /// A batch of zero samples maps to itself, with an empty log-determinant.
  func testEmptyBatch() {
    var generator = SeededGenerator(seed: 58)
    let layer = CirculantDiagonalLinear<Double>(size: 5, using: &generator)
    let (y, logDeterminant) = layer.forward(Tensor.zeros(shape: [0, 5]))
    XCTAssertEqual(y.shape, [0, 5])
    XCTAssertEqual(logDeterminant.shape, [0])
    let convolution = CirculantDiagonalConv1x1<Double>(channels: 5, using: &generator)
    XCTAssertEqual(convolution.inverse(Tensor.zeros(shape: [2, 5, 0, 3])).output.shape, [2, 5, 0, 3])
  }
}

/// Random factors of order `size`: the random initialisation's signs and
/// phases, the diagonal log-magnitudes in [0.05, 0.35] (so log|det W|
/// stays away from 0 and a relative tolerance means something) and the
/// circulant ones in [−0.3, 0.3].
private func perturbedFactors(
  size: Int, diagonalCount: Int, using generator: inout SeededGenerator
) -> CirculantDiagonalFactors<Double> {
  var factors = CirculantDiagonalFactors<Double>(size: size, diagonalCount: diagonalCount, using: &generator)
  factors.updateParameters { name, parameter in
    if name.hasPrefix("diagonals") {
      parameter = Tensor.randomUniform(shape: parameter.shape, in: 0.05..<0.35, using: &generator)
    } else if name.hasSuffix("logMagnitude") {
      parameter = Tensor.randomUniform(shape: parameter.shape, in: -0.3..<0.3, using: &generator)
    }
  }
  return factors
}

/// W = D₁·C₁·…·D_m as a dense `[n, n]` matrix, built from the parameters
/// without the layers' code: see the dense-matrix test.
private func denseMatrix(_ factors: CirculantDiagonalFactors<Double>) -> Tensor<Double> {
  let n = factors.size
  func diagonalMatrix(_ diagonal: CirculantDiagonalFactors<Double>.Diagonal) -> Tensor<Double> {
    let entries = zip(diagonal.sign.scalars, diagonal.logMagnitude.scalars).map { $0 * Double.exp($1) }
    var scalars = [Double](repeating: 0, count: n * n)
    for i in 0..<n { scalars[i * n + i] = entries[i] }
    return Tensor(shape: [n, n], scalars: scalars)
  }
  func circulantMatrix(_ circulant: CirculantDiagonalFactors<Double>.Circulant) -> Tensor<Double> {
    let sign = circulant.sign.scalars
    let logMagnitude = circulant.logMagnitude.scalars
    let phase = circulant.phase.scalars
    // The full spectrum: stored bins 0…n/2, the others their conjugates.
    var real = [Double](repeating: 0, count: n)
    var imaginary = [Double](repeating: 0, count: n)
    for k in 0...(n / 2) {
      let angle = k == 0 || 2 * k == n ? 0 : phase[k - 1]
      let magnitude = sign[k] * Double.exp(logMagnitude[k])
      real[k] = magnitude * Double.cos(angle)
      imaginary[k] = magnitude * Double.sin(angle)
      if k != 0 && 2 * k != n {
        real[n - k] = real[k]
        imaginary[n - k] = -imaginary[k]
      }
    }
    // c[j] = (1/n)·Σₖ ĉ[k]·e^(2πi·jk/n), real by the conjugate symmetry.
    let c = (0..<n).map { j in
      (0..<n).reduce(0.0) { sum, k in
        let angle = 2 * Double.pi * Double((j * k) % n) / Double(n)
        return sum + real[k] * Double.cos(angle) - imaginary[k] * Double.sin(angle)
      } / Double(n)
    }
    var scalars = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0..<n { scalars[i * n + j] = c[((i - j) % n + n) % n] }
    }
    return Tensor(shape: [n, n], scalars: scalars)
  }
  var w = diagonalMatrix(factors.diagonals[0])
  for (circulant, diagonal) in zip(factors.circulants, factors.diagonals.dropFirst()) {
    w = matmul(matmul(w, circulantMatrix(circulant)), diagonalMatrix(diagonal))
  }
  return w
}

/// σ_max(W) = √λ_max(WᵀW) by power iteration from a random start.
private func largestSingularValue(_ w: Tensor<Double>, using generator: inout SeededGenerator) -> Double {
  let gram = matmul(w, w, transposingA: true)
  var v = Tensor<Double>.randomNormal(shape: [w.shape[0], 1], using: &generator)
  var eigenvalue = 0.0
  for _ in 0..<2000 {
    let next = matmul(gram, v)
    eigenvalue = sqrt(square(next).sum()).scalar / sqrt(square(v).sum()).scalar
    v = next / sqrt(square(next).sum())
  }
  return eigenvalue.squareRoot()
}

/// Asserts max|actual − expected| ≤ relative·max|expected|: the error
/// measure for a matrix product, whose rounding scales with the largest
/// entries rather than with each entry.
private func assertCloseToScale(
  _ actual: Tensor<Double>, _ expected: Tensor<Double>, relative: Double, _ message: String,
  file: StaticString = #filePath, line: UInt = #line
) {
  let scale = expected.scalars.map(abs).max() ?? 0
  assertClose(actual, expected, absolute: relative * scale, message, file: file, line: line)
}
