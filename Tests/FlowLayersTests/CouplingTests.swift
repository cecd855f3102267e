import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

/// Affine and additive couplings against their formulas evaluated scalar by
/// scalar, in Float and Double; the masks' bookkeeping; extreme raw scales.
final class CouplingTests: XCTestCase {
  /// An odd feature count (5): the first 2 condition the last 3, or swapped
  /// the last 3 condition the first 2; both scale choices.
  func testAffineCouplingOnHalvesMatchesItsFormula() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Double) {
      for mask in [CouplingMask.channelHalf, CouplingMask.channelHalf.swapped] {
        for scale in [CouplingScale.sigmoid, .softClamp(bound: 1.5)] {
          var generator = SeededGenerator(seed: 21)
          let identity = mask.isSwapped ? [2, 3, 4] : [0, 1]
          let transformed = mask.isSwapped ? [0, 1] : [2, 3, 4]
          let weight = Tensor<Scalar>.randomNormal(shape: [identity.count, 2 * transformed.count], using: &generator)
          let bias = Tensor<Scalar>.randomNormal(shape: [2 * transformed.count], using: &generator)
          let coupling = AffineCoupling(mask: mask, scale: scale, conditioner: Dense(weight: weight, bias: bias))
          let x = Tensor<Scalar>.randomNormal(shape: [3, 5], using: &generator)
          let (y, logDeterminant) = coupling.forward(x)

          let w = weight.scalars.map(Double.init)
          var expected = x.scalars.map(Double.init)
          var expectedLogDeterminant = [Double](repeating: 0, count: 3)
          for row in 0..<3 {
            let input = (0..<5).map { Double(x[row, $0]) }
            for (k, feature) in transformed.enumerated() {
              func output(_ j: Int) -> Double {
                Double(bias[j]) + identity.enumerated().reduce(0) { $0 + input[$1.1] * w[$1.0 * 2 * transformed.count + j] }
              }
              let shift = output(k)
              let raw = output(transformed.count + k)
              let logScale: Double
              switch scale {
              case .sigmoid: logScale = -Double.log(onePlus: Double.exp(-(raw + 2)))
              case .softClamp(let c): logScale = c * Double.tanh(raw / c)
              }
              expected[row * 5 + feature] = input[feature] * Double.exp(logScale) + shift
              expectedLogDeterminant[row] += logScale
            }
          }
          let label = "\(mask) \(scale) \(Scalar.self)"
          assertClose(y.scalars.map(Double.init), expected, tolerance: tolerance, label)
          assertClose(logDeterminant.scalars.map(Double.init), expectedLogDeterminant, tolerance: tolerance, label)
          for feature in identity {
            XCTAssertEqual(y.sliced(alongAxis: 1, from: feature, to: feature + 1).scalars,
                           x.sliced(alongAxis: 1, from: feature, to: feature + 1).scalars, label)
          }
          let (back, inverseLogDeterminant) = coupling.inverse(y)
          assertClose(back, x, absolute: Scalar(tolerance) * 10, label)
          assertClose(inverseLogDeterminant, -logDeterminant, absolute: Scalar(tolerance), label)
        }
      }
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-13)
  }

  /// A checkerboard on `[2, 2, 3, 3]` images with a 3×3 convolution as the
  /// conditioner: it sees the input with the odd positions zeroed, and only
  /// the odd positions change.
  func testAffineCouplingOnACheckerboardMatchesItsFormula() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Double) {
      var generator = SeededGenerator(seed: 22)
      let conditioner = Conv2D<Scalar>(
        inputChannels: 2, outputChannels: 4, kernelSize: (3, 3), padding: (1, 1), using: &generator)
      let coupling = AffineCoupling(mask: .checkerboard, scale: .softClamp(bound: 2), conditioner: conditioner)
      let x = Tensor<Scalar>.randomNormal(shape: [2, 2, 3, 3], using: &generator)
      let (y, logDeterminant) = coupling.forward(x)

      func masked(_ b: Int, _ c: Int, _ row: Int, _ column: Int) -> Double {
        guard (0..<3).contains(row) && (0..<3).contains(column) && (row + column) % 2 == 0 else { return 0 }
        return Double(x[b, c, row, column])
      }
      func conditionerOutput(_ b: Int, _ o: Int, _ row: Int, _ column: Int) -> Double {
        var total = Double(conditioner.bias![o])
        for c in 0..<2 {
          for i in 0..<3 {
            for j in 0..<3 { total += Double(conditioner.filter[o, c, i, j]) * masked(b, c, row + i - 1, column + j - 1) }
          }
        }
        return total
      }
      var expectedLogDeterminant = [0.0, 0.0]
      for b in 0..<2 {
        for c in 0..<2 {
          for row in 0..<3 {
            for column in 0..<3 {
              let value = Double(x[b, c, row, column])
              let result = Double(y[b, c, row, column])
              if (row + column) % 2 == 0 {
                XCTAssertEqual(result, value, "identity position \([b, c, row, column])")
                continue
              }
              let logScale = 2 * Double.tanh(conditionerOutput(b, 2 + c, row, column) / 2)
              assertClose(result, value * Double.exp(logScale) + conditionerOutput(b, c, row, column), absolute: tolerance)
              expectedLogDeterminant[b] += logScale
            }
          }
        }
      }
      assertClose(logDeterminant.scalars.map(Double.init), expectedLogDeterminant, tolerance: tolerance, "\(Scalar.self)")
      assertClose(coupling.inverse(y).output, x, absolute: Scalar(tolerance) * 10)
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-13)
  }

  /// With the conditioner's last layer at zero, a soft-clamped coupling is
  /// the identity and a sigmoid one scales the transformed half by σ(2).
  func testZeroInitialisedCouplings() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 23)
      let x = Tensor<Scalar>.randomNormal(shape: [3, 4], using: &generator)
      let clamped = AffineCoupling<MLP<Scalar>>(
        features: 4, hiddenSizes: [6], scale: .softClamp(bound: 3), using: &generator)
      let (y, logDeterminant) = clamped.forward(x)
      assertIdentical(y, x)
      assertIdentical(logDeterminant, Tensor.zeros(shape: [3]))

      let glow = AffineCoupling<MLP<Scalar>>(features: 4, hiddenSizes: [6], scale: .sigmoid, using: &generator)
      let (scaled, scaledLogDeterminant) = glow.forward(x)
      let sigmoidOfTwo = Scalar(1 / (1 + Double.exp(-2)))
      let halves = x.split(count: 2, alongAxis: 1)
      assertClose(scaled, Tensor(concatenating: [halves[0], halves[1] * sigmoidOfTwo], alongAxis: 1), absolute: tolerance)
      assertClose(scaledLogDeterminant, Tensor.full(Scalar(2 * Double.log(1 / (1 + Double.exp(-2)))), shape: [3]), absolute: tolerance)

      // An empty batch passes through both ways.
      for mask in [CouplingMask.channelHalf, .checkerboard] {
        let coupling = AffineCoupling<MLP<Scalar>>(features: 4, hiddenSizes: [6], mask: mask, using: &generator)
        let (empty, emptyLogDeterminant) = coupling.forward(Tensor.zeros(shape: [0, 4]))
        XCTAssertEqual(empty.shape, [0, 4])
        XCTAssertEqual(emptyLogDeterminant.shape, [0])
        XCTAssertEqual(coupling.inverse(empty).output.shape, [0, 4])
      }
    }
    check(Float.self, tolerance: 1e-6)
    check(Double.self, tolerance: 1e-15)
  }

  /// Raw scales of ±1000: the soft clamp holds each log-scale within ±c, and
  /// the sigmoid's log-scale is log σ(s + 2) computed without log(0).
  func testExtremeRawScalesStayFinite() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let x = Tensor<Scalar>([[0.5, -1, 2, 0.25]])
      for raw in [Scalar(1000), -1000] {
        let conditioner = Dense<Scalar>(weight: Tensor.zeros(shape: [2, 4]), bias: Tensor([0.5, -0.5, raw, raw]))
        let clamped = AffineCoupling(mask: .channelHalf, scale: .softClamp(bound: 2), conditioner: conditioner)
        let (y, logDeterminant) = clamped.forward(x)
        assertClose(logDeterminant, Tensor([raw > 0 ? 4 : -4]), absolute: tolerance)
        XCTAssertTrue(y.scalars.allSatisfy(\.isFinite))
        assertClose(clamped.inverse(y).output, x, absolute: tolerance * 10)

        let glow = AffineCoupling(mask: .channelHalf, scale: .sigmoid, conditioner: conditioner)
        let (z, glowLogDeterminant) = glow.forward(x)
        // log σ(1002) = −log1p(e^−1002) ≈ 0; log σ(−998) = −998 − log1p(e^−998).
        assertClose(glowLogDeterminant, Tensor([raw > 0 ? 0 : -1996]), absolute: tolerance, relative: tolerance)
        XCTAssertTrue(z.scalars.allSatisfy(\.isFinite))
      }
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-12)
  }

  func testAdditiveCouplingAddsAShiftWithZeroLogDeterminant() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let conditioner = Dense<Scalar>(weight: Tensor([[1, 0], [2, -1]]), bias: Tensor([0.5, 1]))
      let x = Tensor<Scalar>([[1, 2, 3, 4], [-1, 0, 0.5, 2]])
      for mask in [CouplingMask.channelHalf, CouplingMask.channelHalf.swapped] {
        let coupling = AdditiveCoupling(mask: mask, conditioner: conditioner)
        let (y, logDeterminant) = coupling.forward(x)
        // Shift of (a, b) = (a + 2b + 0.5, −b + 1).
        let expected: Tensor<Scalar> =
          mask.isSwapped
          ? Tensor([[1 + 3 + 8 + 0.5, 2 - 4 + 1, 3, 4], [-1 + 0.5 + 4 + 0.5, 0 - 2 + 1, 0.5, 2]])
          : Tensor([[1, 2, 3 + 1 + 4 + 0.5, 4 - 2 + 1], [-1, 0, 0.5 - 1 + 0.5, 2 + 1]])
        assertClose(y, expected, absolute: tolerance, "\(mask)")
        assertIdentical(logDeterminant, Tensor.zeros(shape: [2]))
        let (back, inverseLogDeterminant) = coupling.inverse(y)
        assertClose(back, x, absolute: tolerance)
        assertIdentical(inverseLogDeterminant, Tensor.zeros(shape: [2]))
      }
    }
    check(Float.self, tolerance: 1e-6)
    check(Double.self, tolerance: 1e-15)
  }

  func testMaskBookkeeping() {
    XCTAssertTrue(CouplingMask.channelHalf.conditionerChannels(forChannels: 5) == (2, 3))
    XCTAssertTrue(CouplingMask.channelHalf.swapped.conditionerChannels(forChannels: 5) == (3, 2))
    XCTAssertTrue(CouplingMask.checkerboard.conditionerChannels(forChannels: 5) == (5, 5))
    XCTAssertEqual(CouplingMask.channelHalf.swapped.swapped, .channelHalf)

    XCTAssertEqual(CouplingMask.channelHalf.identityFirstOrder(eventShape: [6]), [0, 1, 2, 3, 4, 5])
    XCTAssertEqual(CouplingMask.channelHalf.swapped.identityFirstOrder(eventShape: [6]), [3, 4, 5, 0, 1, 2])
    XCTAssertEqual(CouplingMask.channelHalf.identityFirstOrder(eventShape: [2, 1, 2]), [0, 1, 2, 3])
    XCTAssertEqual(CouplingMask.checkerboard.identityFirstOrder(eventShape: [5]), [0, 2, 4, 1, 3])
    XCTAssertEqual(CouplingMask.checkerboard.swapped.identityFirstOrder(eventShape: [5]), [1, 3, 0, 2, 4])
    // [channels 2, height 2, width 2]: (h + w) even in every channel.
    XCTAssertEqual(CouplingMask.checkerboard.identityFirstOrder(eventShape: [2, 2, 2]), [0, 3, 4, 7, 1, 2, 5, 6])
  }

  /// The triangular-order check of the suite is not vacuous: a coupling's
  /// Jacobian is triangular with its identity coordinates first, not with
  /// its transformed coordinates first.
  func testJacobianIsTriangularOnlyWithTheIdentityCoordinatesFirst() {
    var generator = SeededGenerator(seed: 24)
    let coupling = AffineCoupling<MLP<Double>>(
      features: 4, hiddenSizes: [8], mask: .checkerboard, scale: .softClamp(bound: 2), using: &generator)
    let input = Tensor<Double>.randomNormal(shape: [2, 4], using: &generator)
    var options = BijectorConformanceOptions()
    options.triangularOrder = [0, 2, 1, 3]
    XCTAssertTrue(checkBijector(coupling, input: input, options: options).passed)
    options.triangularOrder = [1, 3, 0, 2]
    let report = checkBijector(coupling, input: input, options: options)
    XCTAssertTrue(report.failures.contains { $0.contains("not lower triangular") }, "\(report)")
  }
}

private func assertClose(
  _ actual: [Double], _ expected: [Double], tolerance: Double, _ label: String, file: StaticString = #filePath,
  line: UInt = #line
) {
  XCTAssertEqual(actual.count, expected.count, label, file: file, line: line)
  for (index, pair) in zip(actual, expected).enumerated() {
    assertClose(pair.0, pair.1, absolute: tolerance, relative: tolerance, "\(label) at \(index)", file: file, line: line)
  }
}
