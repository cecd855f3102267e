import FlowTensor
import XCTest
import _TestSupport

/// The NumPy broadcast of `operands` to `shape`, evaluated one output index
/// at a time through plain index arithmetic: the reference for the
/// strided kernels.
private func broadcastReference<Scalar: TensorScalar>(
  _ operands: [Tensor<Scalar>], shape: [Int], _ combine: ([Scalar]) -> Scalar
) -> Tensor<Scalar> {
  let scalars = operands.map(\.scalars)
  var values: [Scalar] = []
  for offset in 0..<shape.reduce(1, *) {
    let index = unravel(offset, shape: shape)
    let arguments = operands.indices.map { operand -> Scalar in
      let operandShape = operands[operand].shape
      let lead = shape.count - operandShape.count
      var flat = 0
      for axis in operandShape.indices {
        flat = flat * operandShape[axis] + (operandShape[axis] == 1 ? 0 : index[lead + axis])
      }
      return scalars[operand][flat]
    }
    values.append(combine(arguments))
  }
  return Tensor(shape: shape, scalars: values)
}

final class ComparisonTests: XCTestCase {
  private func checkPower<Scalar: TensorScalar>(_: Scalar.Type) {
    let base = Tensor<Scalar>(shape: [3, 1], scalars: [-2, 0.5, 4])
    let exponent = Tensor<Scalar>(shape: [1, 4], scalars: [2, 3, 0.5, -1])
    let half = Scalar.sqrt(0.5)
    assertClose(
      pow(base, exponent),
      Tensor(shape: [3, 4], scalars: [4, -8, .nan, -0.5, 0.25, 0.125, half, 2, 16, 64, 2, 0.25]),
      relative: 2 * Scalar.ulpOfOne)
    assertClose(pow(base, 3), Tensor(shape: [3, 1], scalars: [-8, 0.125, 64]), relative: 2 * Scalar.ulpOfOne)
    assertClose(pow(2, exponent), Tensor(shape: [1, 4], scalars: [4, 8, Scalar.sqrt(2), 0.5]), relative: 2 * Scalar.ulpOfOne)

    // C99 Annex F.9.4.4 special cases, as NumPy's `power` returns them.
    let inf = Scalar.infinity
    let nan = Scalar.nan
    let bases: [Scalar] = [nan, 1, 0, -0.0, -0.0, -inf, -inf, -inf, -inf, -0.5, -2, -1, -8, 2]
    let exponents: [Scalar] = [0, nan, -1, -1, 3, 3, 0.5, -0.5, 2, inf, inf, -inf, 1.0 / 3, -inf]
    let special = pow(Tensor(bases), Tensor(exponents))
    assertIdentical(special, Tensor([1, 1, inf, -inf, 0, -inf, inf, 0, inf, 0, inf, 1, nan, 0]))
    XCTAssertEqual(special.scalars[4].sign, .minus, "(−0)³ is −0")

    // Empty axes broadcast to empty results.
    XCTAssertEqual(pow(Tensor<Scalar>.zeros(shape: [0, 3]), Tensor<Scalar>.ones(shape: [1, 3])).shape, [0, 3])
    XCTAssertEqual(pow(base, Tensor<Scalar>.ones(shape: [1, 0])).shape, [3, 0])
  }

  func testPowerBroadcastsAndFollowsCSpecialCases() {
    checkPower(Float.self)
    checkPower(Double.self)
  }

  private func checkMinimumAndMaximum<Scalar: TensorScalar>(_: Scalar.Type) {
    let nan = Scalar.nan
    let column = Tensor<Scalar>(shape: [3, 1], scalars: [1, nan, -2])
    let row = Tensor<Scalar>(shape: [1, 4], scalars: [0, 1, nan, -3])
    assertIdentical(
      min(column, row),
      Tensor(shape: [3, 4], scalars: [0, 1, nan, -3, nan, nan, nan, nan, -2, -2, nan, -3]))
    assertIdentical(
      max(column, row),
      Tensor(shape: [3, 4], scalars: [1, 1, nan, 1, nan, nan, nan, nan, 0, 1, nan, -2]))
    // NaN wins from either side, unlike Swift.min and Swift.max.
    assertIdentical(min(row, column), min(column, row))
    assertIdentical(max(row, column), max(column, row))
    // Scalar operands, on either side.
    assertIdentical(max(row, 0), Tensor(shape: [1, 4], scalars: [0, 1, nan, 0]))
    assertIdentical(max(0, row), Tensor(shape: [1, 4], scalars: [0, 1, nan, 0]))
    assertIdentical(min(row, 0), Tensor(shape: [1, 4], scalars: [0, 0, nan, -3]))
    assertIdentical(min(0, row), Tensor(shape: [1, 4], scalars: [0, 0, nan, -3]))
    XCTAssertEqual(min(column, Tensor<Scalar>.zeros(shape: [2, 1, 0])).shape, [2, 3, 0])
    XCTAssertEqual(max(Tensor<Scalar>.zeros(shape: [0, 4]), row).shape, [0, 4])
  }

  func testMinimumAndMaximumBroadcastAndPropagateNaN() {
    checkMinimumAndMaximum(Float.self)
    checkMinimumAndMaximum(Double.self)
  }

  private func checkMasks<Scalar: TensorScalar>(_: Scalar.Type) {
    let nan = Scalar.nan
    let column = Tensor<Scalar>(shape: [3, 1], scalars: [1, 2, nan])
    let row = Tensor<Scalar>([2, 2, 1])
    // Rows: 1, 2, NaN against [2, 2, 1]; every relation with NaN is false.
    assertIdentical(column.elementsEqual(row), Tensor(shape: [3, 3], scalars: [0, 0, 1, 1, 1, 0, 0, 0, 0]))
    assertIdentical(column.elementsLess(than: row), Tensor(shape: [3, 3], scalars: [1, 1, 0, 0, 0, 0, 0, 0, 0]))
    assertIdentical(column.elementsLessOrEqual(to: row), Tensor(shape: [3, 3], scalars: [1, 1, 1, 1, 1, 0, 0, 0, 0]))
    assertIdentical(column.elementsGreater(than: row), Tensor(shape: [3, 3], scalars: [0, 0, 0, 0, 0, 1, 0, 0, 0]))
    assertIdentical(column.elementsGreaterOrEqual(to: row), Tensor(shape: [3, 3], scalars: [0, 0, 1, 1, 1, 1, 0, 0, 0]))
    // Scalar right-hand sides keep the left shape.
    assertIdentical(column.elementsEqual(2), Tensor(shape: [3, 1], scalars: [0, 1, 0]))
    assertIdentical(column.elementsLess(than: 2), Tensor(shape: [3, 1], scalars: [1, 0, 0]))
    assertIdentical(column.elementsLessOrEqual(to: 2), Tensor(shape: [3, 1], scalars: [1, 1, 0]))
    assertIdentical(column.elementsGreater(than: 1), Tensor(shape: [3, 1], scalars: [0, 1, 0]))
    assertIdentical(column.elementsGreaterOrEqual(to: 1), Tensor(shape: [3, 1], scalars: [1, 1, 0]))
    XCTAssertEqual(column.elementsLess(than: Tensor<Scalar>.zeros(shape: [0])).shape, [3, 0])
  }

  func testComparisonMasks() {
    checkMasks(Float.self)
    checkMasks(Double.self)
  }

  private func checkSelect<Scalar: TensorScalar>(_: Scalar.Type) {
    // Condition [3, 1], values [1, 4] and rank 0; NaN is nonzero, −0 is zero.
    let condition = Tensor<Scalar>(shape: [3, 1], scalars: [1, 0, .nan])
    let a = Tensor<Scalar>(shape: [1, 4], scalars: [10, 20, 30, 40])
    let b = Tensor<Scalar>(-1)
    assertIdentical(
      select(where: condition, a, else: b),
      Tensor(shape: [3, 4], scalars: [10, 20, 30, 40, -1, -1, -1, -1, 10, 20, 30, 40]))
    assertIdentical(select(where: Tensor<Scalar>(-0.0), a, else: b), Tensor(shape: [1, 4], scalars: [-1, -1, -1, -1]))

    // Every operand broadcast along a different axis, against the index-by-index reference.
    var generator = SeededGenerator(seed: 7)
    let mask = Tensor<Scalar>.randomRademacher(shape: [2, 1, 40], using: &generator).elementsGreater(than: 0)
    let left = Tensor<Scalar>.randomNormal(shape: [1, 30, 1], using: &generator)
    let right = Tensor<Scalar>.randomNormal(shape: [30, 40], using: &generator)
    assertIdentical(
      select(where: mask, left, else: right),
      broadcastReference([mask, left, right], shape: [2, 30, 40]) { $0[0] != 0 ? $0[1] : $0[2] })
    // A condition larger than both values, so only the condition is read contiguously.
    let wide = Tensor<Scalar>.randomRademacher(shape: [4, 5], using: &generator)
    assertIdentical(
      select(where: wide.elementsLess(than: 0), Tensor<Scalar>(shape: [5], scalars: [1, 2, 3, 4, 5]), else: Tensor(0)),
      broadcastReference([wide, Tensor<Scalar>([1, 2, 3, 4, 5])], shape: [4, 5]) { $0[0] < 0 ? $0[1] : 0 })

    // Size-0 axes.
    XCTAssertEqual(select(where: Tensor<Scalar>.zeros(shape: [0, 1]), a, else: b).shape, [0, 4])
    XCTAssertEqual(select(where: condition, a, else: Tensor<Scalar>.zeros(shape: [0, 1, 1])).shape, [0, 3, 4])
  }

  func testSelectBroadcastsThreeWays() {
    checkSelect(Float.self)
    checkSelect(Double.self)
  }

  /// Results large enough to be split across cores agree with the
  /// index-by-index reference.
  private func checkLargeBroadcasts<Scalar: TensorScalar>(_: Scalar.Type) {
    var generator = SeededGenerator(seed: 11)
    let column = Tensor<Scalar>.randomNormal(shape: [300, 1], using: &generator)
    let row = Tensor<Scalar>.randomNormal(shape: [1, 256], using: &generator)
    let shape = [300, 256]
    assertIdentical(min(column, row), broadcastReference([column, row], shape: shape) { Swift.min($0[0], $0[1]) })
    assertIdentical(max(column, row), broadcastReference([column, row], shape: shape) { Swift.max($0[0], $0[1]) })
    assertIdentical(
      column.elementsLess(than: row), broadcastReference([column, row], shape: shape) { $0[0] < $0[1] ? 1 : 0 })
    assertClose(
      pow(abs(column), row), broadcastReference([column, row], shape: shape) { Scalar.pow(abs($0[0]), $0[1]) },
      relative: 2 * Scalar.ulpOfOne)
    let mask = column.elementsGreater(than: 0)
    assertIdentical(
      select(where: mask, row, else: column),
      broadcastReference([mask, row, column], shape: shape) { $0[0] != 0 ? $0[1] : $0[2] })
  }

  func testLargeBroadcastsSplitAcrossCores() {
    checkLargeBroadcasts(Float.self)
    checkLargeBroadcasts(Double.self)
  }
}
