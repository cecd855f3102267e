import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

final class InvertibleLinearTests: XCTestCase {
  /// W = [[2, 1], [0, 3]]: W·(1, 1) = (3, 3), W·(1, 0) = (2, 0), det W = 6.
  func testDenseMapOnHandCheckedCase() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let layer = InvertibleLinear<Scalar>(weight: Tensor([[2, 1], [0, 3]]))
      let x = Tensor<Scalar>([[1, 1], [1, 0]])
      let (y, logDeterminant) = layer.forward(x)
      assertClose(y, Tensor([[3, 3], [2, 0]]), absolute: tolerance)
      assertClose(logDeterminant, Tensor([Scalar.log(6), Scalar.log(6)]), absolute: tolerance)
      let (back, inverseLogDeterminant) = layer.inverse(y)
      assertClose(back, x, absolute: tolerance)
      assertClose(inverseLogDeterminant, Tensor([-Scalar.log(6), -Scalar.log(6)]), absolute: tolerance)
      XCTAssertEqual(layer.parameters.map(\.name), ["weight"])
    }
    check(Double.self, tolerance: 1e-14)
    check(Float.self, tolerance: 1e-6)
  }

  /// The random initialisation is orthogonal (WᵀW = I, log|det W| = 0), the
  /// same for a seed in both precisions, and different for another seed.
  func testOrthogonalInitialization() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) -> Tensor<Scalar> {
      var generator = SeededGenerator(seed: 21)
      let layer = InvertibleLinear<Scalar>(size: 6, using: &generator)
      let w = layer.weight
      assertClose(matmul(w, w, transposingA: true), Tensor.identity(size: 6), absolute: tolerance)
      assertClose(layer.forward(Tensor.zeros(shape: [2, 6])).logDeterminant, Tensor.zeros(shape: [2]), absolute: tolerance)
      var other = SeededGenerator(seed: 22)
      XCTAssertNotEqual(InvertibleLinear<Scalar>(size: 6, using: &other).weight, w)
      return w
    }
    let double = check(Double.self, tolerance: 1e-14)
    let float = check(Float.self, tolerance: 1e-6)
    assertClose(float, Tensor(shape: double.shape, scalars: double.scalars.map(Float.init)), absolute: 1e-5)
  }

  /// The LU factors of a hand-factored W = [[1, 2], [−4, 3]]: partial
  /// pivoting takes row 1 first (|−4| > 1), so P swaps the rows,
  /// L = [[1, 0], [−¼, 1]] and U = [[−4, 3], [0, 2 + ¾]]; the sign of U's
  /// diagonal is (−1, +1) and its log-magnitudes (log 4, log 2.75).
  func testLUFactorsOnHandCheckedCase() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let w = Tensor<Scalar>([[1, 2], [-4, 3]])
      let layer = try! LUInvertibleLinear(weight: w)
      assertIdentical(layer.permutation, Tensor([[0, 1], [1, 0]]))
      assertIdentical(layer.sign, Tensor([-1, 1]))
      assertClose(layer.lower, Tensor([[0, 0], [-0.25, 0]]), absolute: tolerance)
      assertClose(layer.upper, Tensor([[0, 3], [0, 0]]), absolute: tolerance)
      assertClose(layer.logScale, Tensor([Scalar.log(4), Scalar.log(2.75)]), absolute: tolerance)
      assertClose(layer.weight, w, absolute: tolerance)
      // det W = 3 + 8 = 11 = 4·2.75.
      assertClose(layer.forward(Tensor([[1, 1]])).logDeterminant, Tensor([Scalar.log(11)]), absolute: tolerance)
      XCTAssertEqual(layer.parameters.map(\.name), ["lower", "upper", "logScale"])
    }
    check(Double.self, tolerance: 1e-15)
    check(Float.self, tolerance: 1e-6)
  }

  /// W = P·L·(U + diag(sign·exp(logScale))) rebuilds the dense matrix the
  /// parametrisation came from, and Σ logScale is its log|det|.
  func testLUReconstructionEqualsTheDenseWeight() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 4)
      for size in [1, 3, 7] {
        let w = Tensor<Scalar>.randomNormal(shape: [size, size], using: &generator)
        let layer = try! LUInvertibleLinear(weight: w)
        assertClose(layer.weight, w, absolute: tolerance, "size \(size)")
        assertClose(layer.logScale.sum(), slogdet(w).logAbsDeterminant, absolute: tolerance, "size \(size)")
        // P is a permutation matrix, the signs are ±1.
        XCTAssertEqual(layer.permutation.sum(alongAxes: [0]), Tensor.ones(shape: [size]))
        XCTAssertEqual(layer.permutation.sum(alongAxes: [1]), Tensor.ones(shape: [size]))
        XCTAssertTrue(layer.sign.scalars.allSatisfy { $0 == 1 || $0 == -1 })
      }
      // A random orthogonal initialisation starts at log|det W| = 0.
      let orthogonal = LUInvertibleLinear<Scalar>(size: 5, using: &generator)
      assertClose(orthogonal.logScale.sum(), Tensor(0), absolute: tolerance)
      assertClose(matmul(orthogonal.weight, orthogonal.weight, transposingA: true), Tensor.identity(size: 5), absolute: tolerance)
    }
    check(Double.self, tolerance: 1e-13)
    check(Float.self, tolerance: 1e-5)
  }

  /// A singular matrix has no LU parametrisation: the initialiser throws.
  func testSingularWeightThrows() {
    XCTAssertThrowsError(try LUInvertibleLinear<Double>(weight: Tensor([[1, 2], [2, 4]]))) { error in
      XCTAssertEqual(error as? LinearAlgebraError, .singular(pivot: 1))
    }
  }

  /// After arbitrary parameter changes (including the masked entries, which
  /// must have no effect), the LU layer is the dense layer of its own W:
  /// same outputs, log-determinants and inverses.
  func testLUFormEqualsDenseFormOfItsWeight() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 8)
      var layer = LUInvertibleLinear<Scalar>(size: 5, using: &generator)
      let before = layer.weight
      // Entries on and above the diagonal of `lower`, on and below that of `upper`, are masked.
      let lowerMaskedOut = Tensor<Scalar>(shape: [5, 5], scalars: (0..<25).map { $0 / 5 <= $0 % 5 ? 1 : 0 })
      let upperMaskedOut = Tensor<Scalar>(shape: [5, 5], scalars: (0..<25).map { $0 / 5 >= $0 % 5 ? 1 : 0 })
      layer.lower = layer.lower + Tensor.randomNormal(shape: [5, 5], using: &generator) * lowerMaskedOut
      layer.upper = layer.upper + Tensor.randomNormal(shape: [5, 5], using: &generator) * upperMaskedOut
      assertIdentical(layer.weight, before)

      layer.updateParameters { _, parameter in
        parameter = parameter + Tensor.randomNormal(shape: parameter.shape, standardDeviation: 0.3, using: &generator)
      }
      let dense = InvertibleLinear(weight: layer.weight)
      let x = Tensor<Scalar>.randomNormal(shape: [4, 5], using: &generator)
      let (y, logDeterminant) = layer.forward(x)
      assertClose(y, dense.forward(x).output, absolute: tolerance)
      assertClose(logDeterminant, dense.forward(x).logDeterminant, absolute: tolerance)
      let (back, inverseLogDeterminant) = layer.inverse(y)
      assertClose(back, dense.inverse(y).output, absolute: tolerance)
      assertClose(back, x, absolute: tolerance)
      assertClose(inverseLogDeterminant, -logDeterminant, absolute: tolerance)
    }
    check(Double.self, tolerance: 1e-12)
    check(Float.self, tolerance: 1e-4)
  }

  /// Empty batches and a single feature.
  func testEmptyBatchAndSingleFeature() {
    var generator = SeededGenerator(seed: 2)
    let dense = InvertibleLinear<Double>(size: 3, using: &generator)
    let lu = LUInvertibleLinear<Double>(size: 3, using: &generator)
    let empty = Tensor<Double>.zeros(shape: [0, 3])
    for (y, logDeterminant) in [dense.forward(empty), dense.inverse(empty), lu.forward(empty), lu.inverse(empty)] {
      XCTAssertEqual(y.shape, [0, 3])
      XCTAssertEqual(logDeterminant.shape, [0])
    }
    let scalar = InvertibleLinear<Double>(weight: Tensor([[-2]]))
    let x = Tensor<Double>([[1], [3]])
    assertClose(scalar.forward(x).output, Tensor([[-2], [-6]]), absolute: 1e-15)
    assertClose(scalar.forward(x).logDeterminant, Tensor([Double.log(2), Double.log(2)]), absolute: 1e-15)
    let scalarLU = try! LUInvertibleLinear<Double>(weight: Tensor([[-2]]))
    assertClose(scalarLU.inverse(Tensor([[-2], [-6]])).output, x, absolute: 1e-15)
  }

  /// Both directions of both forms are differentiable in the input and the
  /// parameters (slogdet, solve, triangular solves and the masks).
  func testDerivativesOfBothDirections() {
    var generator = SeededGenerator(seed: 13)
    let x = Tensor<Double>.randomNormal(shape: [3, 4], using: &generator)
    let dense = InvertibleLinear<Double>(size: 4, using: &generator)
    let lu = LUInvertibleLinear<Double>(size: 4, using: &generator)
    func summary(_ pass: (output: Tensor<Double>, logDeterminant: Tensor<Double>)) -> Tensor<Double> {
      pass.output + pass.logDeterminant.expandingShape(at: 1)
    }
    func withLU(_ inputs: [Tensor<Double>]) -> LUInvertibleLinear<Double> {
      var copy = lu
      (copy.lower, copy.upper, copy.logScale) = (inputs[1], inputs[2], inputs[3])
      return copy
    }
    let bodies: [(String, ([Tensor<Double>]) -> Tensor<Double>, [Tensor<Double>])] = [
      ("InvertibleLinear.forward", { summary(InvertibleLinear(weight: $0[1]).forward($0[0])) }, [x, dense.weight]),
      ("InvertibleLinear.inverse", { summary(InvertibleLinear(weight: $0[1]).inverse($0[0])) }, [x, dense.weight]),
      ("LUInvertibleLinear.forward", { summary(withLU($0).forward($0[0])) }, [x, lu.lower, lu.upper, lu.logScale]),
      ("LUInvertibleLinear.inverse", { summary(withLU($0).inverse($0[0])) }, [x, lu.lower, lu.upper, lu.logScale]),
    ]
    for (name, body, inputs) in bodies {
      let reverse = checkVJP(of: body, at: inputs)
      XCTAssertTrue(reverse.passed, "\(name): \(reverse)")
      let forward = checkJVP(of: body, at: inputs)
      XCTAssertTrue(forward.passed, "\(name): \(forward)")
    }
  }

  /// A layer rebuilt from its parts (as after loading a checkpoint into a
  /// layer with the same fixed permutation and signs) is the same map.
  func testLURebuiltFromItsParts() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 12)
      let layer = LUInvertibleLinear<Scalar>(size: 4, using: &generator)
      let rebuilt = LUInvertibleLinear(
        permutation: layer.permutation, sign: layer.sign, lower: layer.lower, upper: layer.upper,
        logScale: layer.logScale)
      assertIdentical(rebuilt.weight, layer.weight)
      let x = Tensor<Scalar>.randomNormal(shape: [2, 4], using: &generator)
      assertIdentical(rebuilt.forward(x).output, layer.forward(x).output)
      assertIdentical(rebuilt.inverse(x).output, layer.inverse(x).output)
      let image = LUInvertibleConvolution1x1<Scalar>(channels: 3, using: &generator)
      let rebuiltImage = LUInvertibleConvolution1x1(
        permutation: image.permutation, sign: image.sign, lower: image.lower, upper: image.upper,
        logScale: image.logScale)
      assertIdentical(rebuiltImage.weight, image.weight)
    }
    check(Double.self)
    check(Float.self)
  }
}
