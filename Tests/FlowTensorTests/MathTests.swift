import FlowTensor
import XCTest
import _TestSupport

/// `Fixtures/math_unary.json`: float32-representable inputs and every
/// unary op's value there, from mpmath at 50 digits (make_math_fixtures.py).
private struct UnaryFixture: Decodable {
  let x: FixtureTensor
  let expected: [String: FixtureTensor]
}

/// A unary op under test, its fixture name and its tolerance in ulps of
/// the scalar type (relative).
private struct UnaryCase<Scalar: TensorScalar> {
  let name: String
  let ulps: Scalar
  let apply: (Tensor<Scalar>) -> Tensor<Scalar>
}

private func unaryCases<Scalar: TensorScalar>(_: Scalar.Type) -> [UnaryCase<Scalar>] {
  [
    UnaryCase(name: "abs", ulps: 0) { abs($0) },
    UnaryCase(name: "exp", ulps: 2) { exp($0) },
    UnaryCase(name: "log", ulps: 2) { log($0) },
    UnaryCase(name: "log1p", ulps: 2) { log1p($0) },
    UnaryCase(name: "expm1", ulps: 2) { expm1($0) },
    UnaryCase(name: "sqrt", ulps: 1) { sqrt($0) },
    UnaryCase(name: "rsqrt", ulps: 2) { rsqrt($0) },
    UnaryCase(name: "square", ulps: 1) { square($0) },
    UnaryCase(name: "tanh", ulps: 2) { tanh($0) },
    UnaryCase(name: "sigmoid", ulps: 4) { sigmoid($0) },
    UnaryCase(name: "softplus", ulps: 4) { softplus($0) },
    UnaryCase(name: "logSigmoid", ulps: 4) { logSigmoid($0) },
    UnaryCase(name: "relu", ulps: 0) { relu($0) },
    UnaryCase(name: "gelu", ulps: 4) { gelu($0) },
    // The tanh form's argument u ≈ −1.6·(x + 0.045x³) carries a few ulps of
    // rounding that σ(2u) ≈ e^(2u) multiplies by |2u| (≈ 90 at x = −10; 180 ulps measured in Double):
    // the conditioning of the formula, not of the implementation.
    UnaryCase(name: "geluApproximate", ulps: 512) { gelu($0, approximate: true) },
    UnaryCase(name: "erf", ulps: 2) { erf($0) },
    UnaryCase(name: "erfc", ulps: 4) { erfc($0) },
    UnaryCase(name: "sin", ulps: 2) { sin($0) },
    UnaryCase(name: "cos", ulps: 2) { cos($0) },
    UnaryCase(name: "normalCDF", ulps: 4) { normalCDF($0) },
    UnaryCase(name: "logNormalCDF", ulps: 4) { logNormalCDF($0) },
  ]
}

final class MathTests: XCTestCase {
  private func checkUnaryOpsAgainstFixture<Scalar: TensorScalar>(_: Scalar.Type) throws {
    let fixture = try Fixtures.load(UnaryFixture.self, named: "math_unary.json")
    let x: Tensor<Scalar> = fixture.x.tensor()
    XCTAssertEqual(Set(fixture.expected.keys), Set(unaryCases(Scalar.self).map(\.name)))
    for op in unaryCases(Scalar.self) {
      guard let expected = fixture.expected[op.name] else { continue }
      // Below the normal range only an absolute bound makes sense.
      assertClose(
        op.apply(x), expected.tensor(), absolute: Scalar.leastNormalMagnitude,
        relative: op.ulps * Scalar.ulpOfOne, "\(op.name) in \(Scalar.self)")
    }
  }

  func testUnaryOpsMatchMpmath() throws {
    try checkUnaryOpsAgainstFixture(Float.self)
    try checkUnaryOpsAgainstFixture(Double.self)
  }

  /// Shapes pass through unchanged, empty and rank-0 tensors included.
  private func checkShapes<Scalar: TensorScalar>(_: Scalar.Type) {
    let matrix = Tensor<Scalar>(shape: [2, 3], scalars: [-2, -1, 0, 1, 2, 3])
    for op in unaryCases(Scalar.self) {
      let result = op.apply(matrix)
      XCTAssertEqual(result.shape, [2, 3], op.name)
      // Row-major order is kept: the op agrees with itself applied to each scalar alone.
      for (index, value) in matrix.scalars.enumerated() {
        assertClose(result.scalars[index], op.apply(Tensor(value)).scalar, "\(op.name) at \(index)")
      }
      XCTAssertEqual(op.apply(Tensor<Scalar>.zeros(shape: [3, 0, 2])).shape, [3, 0, 2], op.name)
      XCTAssertEqual(op.apply(Tensor<Scalar>(1)).shape, [], op.name)
    }
  }

  func testShapesArePreserved() {
    checkShapes(Float.self)
    checkShapes(Double.self)
  }

  /// Values at ±∞ and NaN and at magnitudes where a naive formula
  /// overflows, derived by hand from the limits of each function.
  private func checkSpecialValues<Scalar: TensorScalar>(_: Scalar.Type) {
    let inf = Scalar.infinity
    let x = Tensor<Scalar>([-inf, -1000, 1000, inf, .nan])
    let nan = Scalar.nan
    assertIdentical(exp(x), Tensor([0, 0, inf, inf, nan]))
    assertIdentical(sigmoid(x), Tensor([0, 0, 1, 1, nan]))
    assertIdentical(softplus(x), Tensor([0, 0, 1000, inf, nan]))
    assertIdentical(logSigmoid(x), Tensor([-inf, -1000, 0, 0, nan]))
    assertIdentical(relu(x), Tensor([0, 0, 1000, inf, nan]))
    assertIdentical(tanh(x), Tensor([-1, -1, 1, 1, nan]))
    assertIdentical(erf(x), Tensor([-1, -1, 1, 1, nan]))
    assertIdentical(erfc(x), Tensor([2, 2, 0, 0, nan]))
    assertIdentical(abs(x), Tensor([inf, 1000, 1000, inf, nan]))
    assertIdentical(square(x), Tensor([inf, 1_000_000, 1_000_000, inf, nan]))
    assertIdentical(normalCDF(x), Tensor([0, 0, 1, 1, nan]))
    // gelu(−∞) = −∞·0 is NaN, as in the formula; the finite ends are exact.
    let large = Tensor<Scalar>([-1000, 1000, inf])
    assertIdentical(gelu(large), Tensor([0, 1000, inf]))
    assertIdentical(gelu(large, approximate: true), Tensor([0, 1000, inf]))
    // Domain edges.
    let edges = Tensor<Scalar>([-1, 0, -0.0])
    assertIdentical(log(edges), Tensor([nan, -inf, -inf]))
    assertIdentical(sqrt(edges), Tensor([nan, 0, -0.0]))
    assertIdentical(rsqrt(edges), Tensor([nan, inf, -inf]))
    assertIdentical(log1p(edges), Tensor([-inf, 0, -0.0]))
    assertIdentical(expm1(Tensor<Scalar>([-inf, 0])), Tensor([-1, 0]))
  }

  func testSpecialValues() {
    checkSpecialValues(Float.self)
    checkSpecialValues(Double.self)
  }
}
