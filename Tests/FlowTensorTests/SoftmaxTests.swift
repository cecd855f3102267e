import FlowTensor
import XCTest
import _TestSupport

/// `reduction_softmax.json`, written by `make_reduction_fixtures.py`.
private struct SoftmaxFixture: Decodable {
  struct Case: Decodable {
    let axis: Int
    let softmax: FixtureTensor
    let logSoftmax: FixtureTensor
  }
  let input: FixtureTensor
  let cases: [Case]
}

final class SoftmaxTests: XCTestCase {
  func testSoftmaxAlongEveryAxisMatchesSciPy() throws {
    let fixture = try Fixtures.load(SoftmaxFixture.self, named: "reduction_softmax.json")
    XCTAssertEqual(fixture.cases.map(\.axis), [0, 1, 2, 3, -1])
    check(fixture, Float.self, absolute: 1e-6, relative: 1e-5)
    check(fixture, Double.self, absolute: 1e-15, relative: 1e-13)
  }

  private func check<Scalar: TensorScalar>(
    _ fixture: SoftmaxFixture, _: Scalar.Type, absolute: Scalar, relative: Scalar
  ) {
    let x: Tensor<Scalar> = fixture.input.tensor()
    for test in fixture.cases {
      let label = "axis \(test.axis), \(Scalar.self)"
      assertClose(
        softmax(x, alongAxis: test.axis), test.softmax.tensor(), absolute: absolute, relative: relative, label)
      assertClose(
        logSoftmax(x, alongAxis: test.axis), test.logSoftmax.tensor(), absolute: absolute, relative: relative, label)
    }
    assertIdentical(softmax(x), softmax(x, alongAxis: 3))
    assertIdentical(logSoftmax(x), logSoftmax(x, alongAxis: -1))
  }

  func testNonfiniteRowsAlongEitherAxis() throws {
    let fixture = try Fixtures.load(NonfiniteFixture.self, named: "reduction_nonfinite.json")
    check(nonfinite: fixture, Float.self)
    check(nonfinite: fixture, Double.self)
  }

  private func check<Scalar: TensorScalar>(nonfinite fixture: NonfiniteFixture, _: Scalar.Type) {
    let rows: Tensor<Scalar> = fixture.input.tensor()
    let tolerance = 8 * Scalar.ulpOfOne
    let label = "\(Scalar.self)"
    assertClose(softmax(rows), fixture.softmax.tensor(), relative: tolerance, label)
    assertClose(logSoftmax(rows), fixture.logSoftmax.tensor(), relative: tolerance, label)
    // The same slices running down columns.
    let columns = transposed(rows)
    assertClose(softmax(columns, alongAxis: 0), transposed(fixture.softmax.tensor()), relative: tolerance, label)
    assertClose(logSoftmax(columns, alongAxis: 0), transposed(fixture.logSoftmax.tensor()), relative: tolerance, label)
  }

  func testLargeValuesAndSizeOneAndSizeZeroAxes() {
    check(corners: Float.self)
    check(corners: Double.self)
  }

  private func check<Scalar: TensorScalar>(corners _: Scalar.Type) {
    let log2 = Scalar(0.693_147_180_559_945_309_417_232_121_458)
    // exp(1000) overflows both precisions; the shift by the maximum avoids it.
    let large = Tensor<Scalar>([[1000, 1000], [-1000, -1000]])
    assertIdentical(softmax(large), Tensor(repeating: 0.5, shape: [2, 2]))
    assertClose(logSoftmax(large), Tensor(repeating: -log2, shape: [2, 2]), relative: Scalar.ulpOfOne)
    assertIdentical(softmax(large, alongAxis: 0), Tensor([[1, 1], [0, 0]]))
    assertClose(logSoftmax(large, alongAxis: 0), Tensor([[0, 0], [-2000, -2000]]), relative: Scalar.ulpOfOne)

    var generator = SeededGenerator(seed: 5)
    let x = Tensor<Scalar>.randomNormal(shape: [3, 1, 2], using: &generator)
    assertIdentical(softmax(x, alongAxis: 1), Tensor.ones(shape: [3, 1, 2]))
    assertIdentical(logSoftmax(x, alongAxis: -2), Tensor.zeros(shape: [3, 1, 2]))

    XCTAssertEqual(softmax(Tensor<Scalar>.zeros(shape: [2, 0])).shape, [2, 0])
    XCTAssertEqual(logSoftmax(Tensor<Scalar>.zeros(shape: [0, 3]), alongAxis: 1).shape, [0, 3])
    XCTAssertEqual(softmax(Tensor<Scalar>.zeros(shape: [4, 0, 3]), alongAxis: 0).shape, [4, 0, 3])
  }

  func testLongSlicesMatchDoubleLoops() {
    check(long: Float.self, relative: 2e-5)
    check(long: Double.self, relative: 1e-12)
  }

  /// Rows long enough for the pairwise tree and several threads, along the
  /// last axis and down columns, against plain loops in Double.
  private func check<Scalar: TensorScalar>(long _: Scalar.Type, relative: Scalar) {
    var generator = SeededGenerator(seed: 77)
    let x = Tensor<Scalar>.randomNormal(shape: [6, 5000], standardDeviation: 8, using: &generator)
    let values = x.scalars.map { Double($0) }
    var expectedSoftmax: [Double] = []
    var expectedLog: [Double] = []
    for row in 0..<6 {
      let slice = values[(row * 5000)..<((row + 1) * 5000)]
      let maximum = slice.max()!
      let sum = slice.reduce(0) { $0 + Double.exp($1 - maximum) }
      expectedSoftmax += slice.map { Double.exp($0 - maximum) / sum }
      expectedLog += slice.map { $0 - maximum - Double.log(sum) }
    }
    let expected = Tensor<Scalar>(shape: [6, 5000], scalars: expectedSoftmax.map { Scalar($0) })
    let expectedLogarithms = Tensor<Scalar>(shape: [6, 5000], scalars: expectedLog.map { Scalar($0) })
    let label = "\(Scalar.self)"
    assertClose(softmax(x), expected, absolute: relative * 1e-3, relative: relative, label)
    assertClose(logSoftmax(x), expectedLogarithms, absolute: relative, relative: relative, label)
    assertClose(
      softmax(transposed(x), alongAxis: 0), transposed(expected), absolute: relative * 1e-3, relative: relative, label)
    assertClose(
      logSoftmax(transposed(x), alongAxis: 0), transposed(expectedLogarithms), absolute: relative, relative: relative,
      label)
    for row in softmax(x).sum(alongAxes: [1]).scalars { assertClose(row, 1, relative: 10 * Scalar.ulpOfOne, label) }
  }
}
