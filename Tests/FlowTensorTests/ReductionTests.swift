import FlowTensor
import XCTest
import _TestSupport

/// `reduction_axes.json`, written by `make_reduction_fixtures.py`.
private struct AxesFixture: Decodable {
  struct Case: Decodable {
    let operation: String
    let axes: [Int]
    let keepingDimensions: Bool
    let correction: Int
    let expected: FixtureTensor
  }
  let input: FixtureTensor
  let cases: [Case]
}

/// `reduction_nonfinite.json`: rows of shape [8, 3] with ±∞ and NaN, reduced
/// along the last axis by numpy and scipy.
struct NonfiniteFixture: Decodable {
  let input: FixtureTensor
  let max: FixtureTensor
  let min: FixtureTensor
  let argmax: FixtureTensor
  let argmin: FixtureTensor
  let logSumExp: FixtureTensor
  let softmax: FixtureTensor
  let logSoftmax: FixtureTensor
}

/// The transpose of a rank-2 tensor, written out by hand so the tests of
/// reductions along axis 0 do not depend on another op.
func transposed<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  let (rows, columns) = (x.shape[0], x.shape[1])
  let values = x.scalars
  var result: [Scalar] = []
  for column in 0..<columns {
    for row in 0..<rows { result.append(values[row * columns + column]) }
  }
  return Tensor(shape: [columns, rows], scalars: result)
}

final class ReductionTests: XCTestCase {
  func testEveryReductionOverEveryAxisSetMatchesNumPy() throws {
    let fixture = try Fixtures.load(AxesFixture.self, named: "reduction_axes.json")
    XCTAssertEqual(fixture.cases.count, 132)
    check(fixture, Float.self, absolute: 2e-5, relative: 1e-5)
    check(fixture, Double.self, absolute: 1e-13, relative: 1e-13)
  }

  private func check<Scalar: TensorScalar>(
    _ fixture: AxesFixture, _: Scalar.Type, absolute: Scalar, relative: Scalar
  ) {
    let x: Tensor<Scalar> = fixture.input.tensor()
    for test in fixture.cases {
      let axes = test.axes
      let keep = test.keepingDimensions
      let label = "\(test.operation) over \(axes), keeping \(keep), correction \(test.correction), \(Scalar.self)"
      if test.operation == "argmax" || test.operation == "argmin" {
        let result =
          test.operation == "argmax"
          ? x.argmax(alongAxis: axes[0], keepingDimensions: keep)
          : x.argmin(alongAxis: axes[0], keepingDimensions: keep)
        XCTAssertEqual(result.shape, test.expected.shape, label)
        XCTAssertEqual(result.indices, test.expected.values.map { Int($0) }, label)
        continue
      }
      let result: Tensor<Scalar>
      let whole: Tensor<Scalar>
      switch test.operation {
      case "sum":
        result = x.sum(alongAxes: axes, keepingDimensions: keep)
        whole = x.sum()
      case "mean":
        result = x.mean(alongAxes: axes, keepingDimensions: keep)
        whole = x.mean()
      case "variance":
        result = x.variance(alongAxes: axes, keepingDimensions: keep, correction: test.correction)
        whole = x.variance(correction: test.correction)
      case "max":
        result = x.max(alongAxes: axes, keepingDimensions: keep)
        whole = x.max()
      case "min":
        result = x.min(alongAxes: axes, keepingDimensions: keep)
        whole = x.min()
      case "logSumExp":
        result = x.logSumExp(alongAxes: axes, keepingDimensions: keep)
        whole = x.logSumExp()
      default:
        XCTFail("unknown operation \(test.operation)")
        continue
      }
      let expected: Tensor<Scalar> = test.expected.tensor()
      assertClose(result, expected, absolute: absolute, relative: relative, label)
      // The whole-tensor form is the reduction over every axis.
      if axes == [0, 1, 2, 3] && !keep {
        XCTAssertEqual(whole.shape, [], label)
        assertClose(whole, expected, absolute: absolute, relative: relative, label)
      }
    }
  }

  func testNonfiniteRowsMatchNumPyAlongEitherAxis() throws {
    let fixture = try Fixtures.load(NonfiniteFixture.self, named: "reduction_nonfinite.json")
    checkNonfinite(fixture, Float.self)
    checkNonfinite(fixture, Double.self)
  }

  private func checkNonfinite<Scalar: TensorScalar>(_ fixture: NonfiniteFixture, _: Scalar.Type) {
    let rows: Tensor<Scalar> = fixture.input.tensor()
    let columns = transposed(rows)
    let tolerance = 8 * Scalar.ulpOfOne
    // Along the last axis the slices are contiguous rows; along axis 0 of
    // the transpose they run down columns: the two kernel layouts.
    for (x, axis) in [(rows, 1), (columns, 0)] {
      let label = "axis \(axis), \(Scalar.self)"
      assertClose(x.max(alongAxes: [axis]), fixture.max.tensor(), label)
      assertClose(x.min(alongAxes: [axis]), fixture.min.tensor(), label)
      assertClose(x.logSumExp(alongAxes: [axis]), fixture.logSumExp.tensor(), relative: tolerance, label)
      XCTAssertEqual(x.argmax(alongAxis: axis).indices, fixture.argmax.values.map { Int($0) }, label)
      XCTAssertEqual(x.argmin(alongAxis: axis).indices, fixture.argmin.values.map { Int($0) }, label)
    }
  }

  func testSizeOneAxesChangeNothingButTheShape() {
    check(sizeOne: Float.self)
    check(sizeOne: Double.self)
  }

  private func check<Scalar: TensorScalar>(sizeOne _: Scalar.Type) {
    var generator = SeededGenerator(seed: 11)
    let x = Tensor<Scalar>.randomNormal(shape: [3, 1, 4], using: &generator)
    let squeezed = Tensor(shape: [3, 4], scalars: x.scalars)
    assertIdentical(x.sum(alongAxes: [1]), squeezed)
    assertIdentical(x.sum(alongAxes: [-2], keepingDimensions: true), x)
    assertIdentical(x.mean(alongAxes: [1]), squeezed)
    assertIdentical(x.max(alongAxes: [1]), squeezed)
    assertIdentical(x.min(alongAxes: [1], keepingDimensions: true), x)
    assertIdentical(x.logSumExp(alongAxes: [1]), squeezed)
    assertIdentical(x.variance(alongAxes: [1]), Tensor.zeros(shape: [3, 4]))
    XCTAssertEqual(x.argmax(alongAxis: 1), IndexTensor(shape: [3, 4], indices: Array(repeating: 0, count: 12)))

    // Axes [0, 1] of [3, 1, 4] are one block once the size-1 axis is gone.
    var columnSums = [Scalar](repeating: 0, count: 4)
    var columnMaxima = [Scalar](repeating: -.infinity, count: 4)
    for row in 0..<3 {
      for column in 0..<4 {
        columnSums[column] += x[row, 0, column]
        columnMaxima[column] = Swift.max(columnMaxima[column], x[row, 0, column])
      }
    }
    assertClose(x.sum(alongAxes: [1, 0]), Tensor(columnSums), relative: 4 * Scalar.ulpOfOne)
    assertIdentical(x.max(alongAxes: [0, 1], keepingDimensions: true), Tensor(shape: [1, 1, 4], scalars: columnMaxima))
    XCTAssertEqual(x.argmax(alongAxis: 0).shape, [1, 4])
  }

  func testSizeZeroAxes() {
    check(sizeZero: Float.self)
    check(sizeZero: Double.self)
  }

  private func check<Scalar: TensorScalar>(sizeZero _: Scalar.Type) {
    let x = Tensor<Scalar>.zeros(shape: [2, 0, 3])
    assertIdentical(x.sum(alongAxes: [1]), Tensor.zeros(shape: [2, 3]))
    assertIdentical(x.sum(alongAxes: [1], keepingDimensions: true), Tensor.zeros(shape: [2, 1, 3]))
    assertIdentical(x.sum(), Tensor(0))
    assertIdentical(x.mean(alongAxes: [0, 1]), Tensor(repeating: .nan, shape: [3]))
    assertIdentical(x.mean(), Tensor(.nan))
    assertIdentical(x.variance(alongAxes: [1]), Tensor(repeating: .nan, shape: [2, 3]))
    assertIdentical(x.logSumExp(alongAxes: [1]), Tensor(repeating: -.infinity, shape: [2, 3]))
    assertIdentical(
      x.logSumExp(alongAxes: [1, 2], keepingDimensions: true), Tensor(repeating: -.infinity, shape: [2, 1, 1]))
    // Reductions whose result is empty are fine even without an identity.
    XCTAssertEqual(x.sum(alongAxes: [0]).shape, [0, 3])
    XCTAssertEqual(x.max(alongAxes: [0]).shape, [0, 3])
    XCTAssertEqual(x.min(alongAxes: [2], keepingDimensions: true).shape, [2, 0, 1])
    XCTAssertEqual(x.argmax(alongAxis: 0), IndexTensor(shape: [0, 3], indices: []))
    XCTAssertEqual(x.argmin(alongAxis: -1, keepingDimensions: true), IndexTensor(shape: [2, 0, 1], indices: []))
  }

  func testRankZeroTensorsReduceToThemselves() {
    let x = Tensor<Double>(2.5)
    assertIdentical(x.sum(), x)
    assertIdentical(x.max(), x)
    assertIdentical(x.logSumExp(), x)
    assertIdentical(x.variance(), Tensor(0))
    assertIdentical(x.sum(alongAxes: []), x)
  }

  func testLogSumExpOfLargeAndInfiniteValues() {
    check(logSumExp: Float.self)
    check(logSumExp: Double.self)
  }

  private func check<Scalar: TensorScalar>(logSumExp _: Scalar.Type) {
    let log2 = Scalar(0.693_147_180_559_945_309_417_232_121_458)
    let tolerance = 2 * Scalar.ulpOfOne
    assertClose(Tensor<Scalar>([1000, 1000]).logSumExp().scalar, 1000 + log2, relative: tolerance)
    assertClose(Tensor<Scalar>([-1000, -1000]).logSumExp().scalar, -1000 + log2, relative: tolerance)
    // exp(±1000) is out of range in both precisions; the shift keeps it away.
    let x = Tensor<Scalar>([[1000, 1000, -.infinity], [-.infinity, -.infinity, -.infinity], [-1000, 0, .infinity]])
    assertClose(x.logSumExp(alongAxes: [1]), Tensor([1000 + log2, -.infinity, .infinity]), relative: tolerance)
    assertClose(
      x.logSumExp(alongAxes: [0], keepingDimensions: true), Tensor([[1000, 1000, .infinity]]), relative: tolerance)
  }

  func testArgmaxTakesTheFirstOfTiesAndOfNaNs() {
    check(argmax: Float.self)
    check(argmax: Double.self)
  }

  private func check<Scalar: TensorScalar>(argmax _: Scalar.Type) {
    let x = Tensor<Scalar>([[1, 3, 3, 0], [2, 2, 1, 1], [.nan, 5, .nan, -1], [4, 4, 4, 4]])
    XCTAssertEqual(x.argmax(alongAxis: 1), IndexTensor([1, 0, 0, 0]))
    XCTAssertEqual(x.argmin(alongAxis: -1, keepingDimensions: true), IndexTensor(shape: [4, 1], indices: [3, 2, 0, 0]))
    let columns = transposed(x)
    XCTAssertEqual(columns.argmax(alongAxis: 0), IndexTensor([1, 0, 0, 0]))
    XCTAssertEqual(
      columns.argmin(alongAxis: 0, keepingDimensions: true), IndexTensor(shape: [1, 4], indices: [3, 2, 0, 0]))
    // max and min propagate the NaN of row 2 along either axis.
    assertIdentical(x.max(alongAxes: [1]), Tensor([3, 2, .nan, 4]))
    assertIdentical(columns.min(alongAxes: [0]), Tensor([0, 1, .nan, 4]))
  }

  func testVarianceIsTwoPass() {
    // 1e8 is exact in both precisions, and so is every partial sum of up to
    // 16 copies, so the mean is exact and the variance exactly 0.
    check(constantVariance: Float.self)
    check(constantVariance: Double.self)
    // ±2⁻¹⁰ around 1e8 is exact in Double, and so is every partial sum
    // below 2³⁷, so the population variance is exactly 2⁻²⁰. The one-pass
    // E[x²] − E[x]² would cancel 1e16-sized terms and be off by about 1.
    let offsets = (0..<1000).map { Double($0 % 2 == 0 ? -1 : 1) * 0x1p-10 }
    let x = Tensor<Double>(offsets.map { 1e8 + $0 })
    assertIdentical(x.variance(), Tensor(0x1p-20))
    assertIdentical(x.variance(correction: 1), Tensor(0x1p-20 * 1000 / 999))
    let rows = Tensor<Double>(shape: [4, 250], scalars: x.scalars)
    assertIdentical(rows.variance(alongAxes: [1]), Tensor(repeating: 0x1p-20, shape: [4]))
    assertIdentical(transposed(rows).variance(alongAxes: [0]), Tensor(repeating: 0x1p-20, shape: [4]))
  }

  private func check<Scalar: TensorScalar>(constantVariance _: Scalar.Type) {
    let x = Tensor<Scalar>(repeating: 100_000_000, shape: [2, 16])
    assertIdentical(x.variance(alongAxes: [1]), Tensor.zeros(shape: [2]))
    assertIdentical(x.variance(alongAxes: [0], keepingDimensions: true), Tensor.zeros(shape: [1, 16]))
    assertIdentical(Tensor<Scalar>([1, 2, 3, 4]).variance(correction: 1), Tensor(Scalar(5) / 3))
    // n ≤ correction leaves a divisor of 0, as NumPy's ddof.
    assertIdentical(Tensor<Scalar>([5]).variance(correction: 1), Tensor(.nan))
    assertIdentical(Tensor<Scalar>([1, 2]).variance(correction: 2), Tensor(.infinity))
  }

  func testLongSumsArePairwise() {
    // A running Float sum of a million 0.1f gives 100958.34, 1% off; the
    // pairwise sum is within a few ulps. The row is long enough to be split
    // into parallel chunks.
    let tenth = Double(Float(0.1))
    let row = Tensor<Float>(repeating: 0.1, shape: [1_000_000])
    assertClose(Double(row.sum().scalar), tenth * 1_000_000, relative: 1e-6)
    assertClose(Double(row.mean().scalar), tenth, relative: 1e-6)
    // Down columns (a running sum would give 19959.49): blocked pairwise.
    let columns = Tensor<Float>(repeating: 0.1, shape: [200_000, 3])
    for value in columns.sum(alongAxes: [0]).scalars {
      assertClose(Double(value), tenth * 200_000, relative: 1e-6)
    }
  }

  func testParallelChunksOfOneRowGiveTheSequentialSum() {
    check(chunked: Float.self)
    check(chunked: Double.self)
  }

  /// A single long row is summed in parallel chunks; the same row repeated
  /// 16 times is summed one row per thread, each sequentially. The chunks are
  /// whole subtrees of the pairwise tree, so the two agree bit for bit (on a
  /// machine with more than 16 cores both take the chunked path).
  private func check<Scalar: TensorScalar>(chunked _: Scalar.Type) {
    var generator = SeededGenerator(seed: 99)
    let length = 3 * 32_768 + 1_234
    // Magnitudes from 1e-8 to 1e8, so that a different tree would round
    // differently.
    let row = Tensor<Scalar>.randomNormal(shape: [length], using: &generator).scalars.enumerated().map {
      $1 * Scalar.pow(10, Scalar(($0 * 7919) % 17 - 8))
    }
    let single = Tensor(row)
    let repeated = Tensor(shape: [16, length], scalars: Array([[Scalar]](repeating: row, count: 16).joined()))
    let sum = single.sum().scalar
    let mean = single.mean().scalar
    for value in repeated.sum(alongAxes: [1]).scalars { XCTAssertEqual(value, sum, "\(Scalar.self)") }
    XCTAssertEqual(repeated.mean(alongAxes: [-1]).scalars, Array(repeating: mean, count: 16), "\(Scalar.self)")
    XCTAssertEqual(repeated.max(alongAxes: [1]).scalars, Array(repeating: row.max()!, count: 16), "\(Scalar.self)")
    XCTAssertEqual(single.min().scalar, row.min()!, "\(Scalar.self)")
  }

  func testLargeReductionsMatchDoubleLoops() {
    check(large: Float.self, relative: 1e-5)
    check(large: Double.self, relative: 1e-12)
  }

  /// Every layout, large enough to run on several threads, against plain
  /// loops in Double.
  private func check<Scalar: TensorScalar>(large _: Scalar.Type, relative: Scalar) {
    var generator = SeededGenerator(seed: 2026)
    let x = Tensor<Scalar>.randomNormal(shape: [24, 30, 70], mean: 1, using: &generator)
    let values = x.scalars.map { Double($0) }
    func reference(_ axes: Set<Int>, _ combine: (Double, Double) -> Double, _ initial: Double) -> [Double] {
      var keptShape: [Int] = []
      for axis in 0..<3 where !axes.contains(axis) { keptShape.append(x.shape[axis]) }
      var result = [Double](repeating: initial, count: keptShape.reduce(1, *))
      for i in 0..<24 {
        for j in 0..<30 {
          for k in 0..<70 {
            var output = 0
            for (axis, index) in [(0, i), (1, j), (2, k)] where !axes.contains(axis) {
              output = output * x.shape[axis] + index
            }
            result[output] = combine(result[output], values[(i * 30 + j) * 70 + k])
          }
        }
      }
      return result
    }
    for axes in [[0], [1], [2], [0, 1], [1, 2], [0, 2], [0, 1, 2]] {
      let set = Set(axes)
      let count = Double(axes.reduce(1) { $0 * x.shape[$1] })
      let sums = reference(set, +, 0)
      let means = sums.map { $0 / count }
      let maxima = reference(set, { Swift.max($0, $1) }, -.infinity)
      assertClose(x.sum(alongAxes: axes).scalars.map { Double($0) }, sums, relative: Double(relative), "sum \(axes)")
      assertClose(x.mean(alongAxes: axes).scalars.map { Double($0) }, means, relative: Double(relative), "mean \(axes)")
      XCTAssertEqual(x.max(alongAxes: axes).scalars.map { Double($0) }, maxima, "max \(axes)")
    }
  }
}

/// Elementwise closeness of two arrays, for references computed in Double.
private func assertClose(
  _ actual: [Double], _ expected: [Double], relative: Double, _ message: String,
  file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertEqual(actual.count, expected.count, message, file: file, line: line)
  assertClose(Tensor(actual), Tensor(expected), relative: relative, message, file: file, line: line)
}
