import FlowTensor
import XCTest
import _TestSupport

private typealias Testing = LinearAlgebraTesting

/// `slogdet` against NumPy fixtures (`lapack_slogdet.json`), against the
/// diagonal of an LU factorisation reconstructed as P·L·U = A, and on
/// hand-built singular, negative, tiny, empty and batched cases.
final class LinearAlgebraDeterminantTests: XCTestCase {
  func testMatchesNumPySingleOneByOneAndBatched() throws {
    try checkFixtures(Float.self, tolerance: 1e-5)
    try checkFixtures(Double.self, tolerance: 1e-13)
  }

  func checkFixtures<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) throws {
    let fixtures = try Testing.fixtures("lapack_slogdet.json")
    for name in ["single", "one", "batch"] {
      let a: Tensor<Scalar> = try Testing.tensor(fixtures, "\(name).a")
      let (sign, logAbsDeterminant) = slogdet(a)
      let expectedSign: Tensor<Scalar> = try Testing.tensor(fixtures, "\(name).sign")
      XCTAssertEqual(sign, expectedSign, name)
      let expectedLogarithm: Tensor<Scalar> = try Testing.tensor(fixtures, "\(name).logdet")
      assertClose(logAbsDeterminant, expectedLogarithm, absolute: tolerance, relative: tolerance, name)
    }
    // Both signs occur in the batch, so a dropped interchange would show.
    let batchSigns = try Testing.tensor(fixtures, "batch.sign", as: Scalar.self).scalars
    XCTAssertTrue(batchSigns.contains(1) && batchSigns.contains(-1), "\(batchSigns)")
  }

  func testBatchedEqualsPerMatrix() throws {
    try checkBatch(Float.self)
    try checkBatch(Double.self)
  }

  func checkBatch<Scalar: TensorScalar>(_: Scalar.Type) throws {
    var generator = SeededGenerator(seed: 7)
    let batch = Tensor<Scalar>.randomNormal(shape: [3, 2, 5, 5], using: &generator)
    let (signs, logarithms) = slogdet(batch)
    XCTAssertEqual(signs.shape, [3, 2])
    XCTAssertEqual(logarithms.shape, [3, 2])
    for index in 0..<6 {
      let (sign, logarithm) = slogdet(Testing.matrix(batch, at: index))
      XCTAssertEqual(sign.shape, [])
      XCTAssertEqual(sign.scalar, signs.scalars[index], "matrix \(index)")
      XCTAssertEqual(logarithm.scalar, logarithms.scalars[index], "matrix \(index)")
    }
  }

  func testAgreesWithTheReconstructedLUDiagonal() throws {
    try checkAgainstLU(Float.self, tolerance: 1e-4)
    try checkAgainstLU(Double.self, tolerance: 1e-12)
  }

  func checkAgainstLU<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) throws {
    var generator = SeededGenerator(seed: 11)
    for n in [1, 2, 6, 9] {
      let a = Tensor<Scalar>.randomNormal(shape: [n, n], using: &generator)
      let factors = try luFactorization(a)
      let reconstructed = Testing.product(factors.permutation, Testing.product(factors.lower, factors.upper))
      assertClose(reconstructed, a, absolute: tolerance, relative: tolerance, "P·L·U, n = \(n)")
      // det A = det P · ∏ Uᵢᵢ, with det P the parity of the permutation's cycles.
      var sign: Scalar = permutationParity(factors.permutation)
      var logarithm: Scalar = 0
      for index in 0..<n {
        let diagonal = factors.upper[index, index]
        sign *= diagonal < 0 ? -1 : 1
        logarithm += Scalar.log(abs(diagonal))
      }
      let result = slogdet(a)
      XCTAssertEqual(result.sign.scalar, sign, "n = \(n)")
      assertClose(result.logAbsDeterminant.scalar, logarithm, absolute: tolerance, relative: tolerance, "n = \(n)")
    }
  }

  /// +1 or −1: (−1)^(n − number of cycles) of the permutation matrix `p`.
  private func permutationParity<Scalar: TensorScalar>(_ p: Tensor<Scalar>) -> Scalar {
    let n = p.shape[0]
    let image = (0..<n).map { column in (0..<n).first { p[$0, column] == 1 }! }
    var visited = [Bool](repeating: false, count: n)
    var cycles = 0
    for start in 0..<n where !visited[start] {
      cycles += 1
      var index = start
      while !visited[index] {
        visited[index] = true
        index = image[index]
      }
    }
    return (n - cycles) % 2 == 0 ? 1 : -1
  }

  func testSingularMatricesGiveSignZeroAndMinusInfinity() {
    checkSingular(Float.self)
    checkSingular(Double.self)
  }

  func checkSingular<Scalar: TensorScalar>(_: Scalar.Type) {
    let singular: [Tensor<Scalar>] = [
      Tensor([[1, 2], [2, 4]]),
      Tensor([[1, 2, 3], [0, 0, 0], [4, 5, 6]]),
      Tensor([[0]]),
    ]
    for matrix in singular {
      let (sign, logarithm) = slogdet(matrix)
      XCTAssertEqual(sign.scalar, 0, "\(matrix)")
      XCTAssertEqual(logarithm.scalar, -.infinity, "\(matrix)")
    }
    // A singular matrix in a batch leaves its neighbours alone.
    let batch = Tensor<Scalar>(shape: [2, 2, 2], scalars: [1, 2, 2, 4, 3, 0, 0, 2])
    let (signs, logarithms) = slogdet(batch)
    XCTAssertEqual(signs, Tensor([0, 1]))
    XCTAssertEqual(logarithms.scalars[0], -.infinity)
    assertClose(logarithms.scalars[1], Scalar.log(6), relative: 4 * Scalar.ulpOfOne)
  }

  func testNegativeDeterminants() {
    checkNegative(Float.self)
    checkNegative(Double.self)
  }

  func checkNegative<Scalar: TensorScalar>(_: Scalar.Type) {
    // One interchange, no negative pivot.
    let swap = slogdet(Tensor<Scalar>([[0, 1], [1, 0]]))
    XCTAssertEqual(swap.sign.scalar, -1)
    XCTAssertEqual(swap.logAbsDeterminant.scalar, 0)
    // A negative pivot, no interchange.
    let diagonal = slogdet(Tensor<Scalar>([[2, 0], [0, -3]]))
    XCTAssertEqual(diagonal.sign.scalar, -1)
    assertClose(diagonal.logAbsDeterminant.scalar, Scalar.log(6), relative: 4 * Scalar.ulpOfOne)
    // det [[1, 2], [3, 4]] = −2 (with an interchange and a negative pivot).
    let general = slogdet(Tensor<Scalar>([[1, 2], [3, 4]]))
    XCTAssertEqual(general.sign.scalar, -1)
    assertClose(general.logAbsDeterminant.scalar, Scalar.log(2), relative: 8 * Scalar.ulpOfOne)
    // A 3-cycle is an even permutation: det +1.
    let cycle = slogdet(Tensor<Scalar>([[0, 1, 0], [0, 0, 1], [1, 0, 0]]))
    XCTAssertEqual(cycle.sign.scalar, 1)
    XCTAssertEqual(cycle.logAbsDeterminant.scalar, 0)
  }

  func testTinyDeterminantsHaveAFiniteLogarithm() {
    // 1e-200 underflows Float but not Double; 1e-400 underflows both.
    checkTiny(Float.self, decades: 200, tolerance: 1e-5)
    checkTiny(Double.self, decades: 200, tolerance: 1e-13)
    checkTiny(Double.self, decades: 400, tolerance: 1e-13)
  }

  /// A 20×20 matrix with det ±10^−decades: lower triangular with diagonal
  /// 10^(−decades/20) and halves of it below, its rows then permuted by one
  /// interchange (det negated) so that the pivots are not on the diagonal.
  func checkTiny<Scalar: TensorScalar>(_: Scalar.Type, decades: Int, tolerance: Scalar) {
    let n = 20
    let scale = Scalar.pow(10, -Scalar(decades) / Scalar(n))
    var a = Tensor<Scalar>.zeros(shape: [n, n])
    for row in 0..<n {
      for column in 0...row { a[row, column] = row == column ? scale : scale / 2 }
    }
    var permuted = a
    for column in 0..<n {
      permuted[0, column] = a[n - 1, column]
      permuted[n - 1, column] = a[0, column]
    }
    let (sign, logarithm) = slogdet(permuted)
    XCTAssertEqual(sign.scalar, -1, "\(Scalar.self), 1e-\(decades)")
    XCTAssertTrue(logarithm.scalar.isFinite, "\(Scalar.self), 1e-\(decades)")
    let expected = -Scalar(decades) * Scalar.log(10)
    assertClose(logarithm.scalar, expected, relative: tolerance, "\(Scalar.self), 1e-\(decades)")
  }

  func testEmptyMatricesAndBatches() {
    checkEmpty(Float.self)
    checkEmpty(Double.self)
  }

  func checkEmpty<Scalar: TensorScalar>(_: Scalar.Type) {
    // det of the 0×0 matrix is the empty product, 1.
    let empty = slogdet(Tensor<Scalar>.zeros(shape: [0, 0]))
    XCTAssertEqual(empty.sign, Tensor(1))
    XCTAssertEqual(empty.logAbsDeterminant, Tensor(0))
    let batchOfEmpty = slogdet(Tensor<Scalar>.zeros(shape: [3, 0, 0]))
    XCTAssertEqual(batchOfEmpty.sign, Tensor([1, 1, 1]))
    XCTAssertEqual(batchOfEmpty.logAbsDeterminant, Tensor([0, 0, 0]))
    let emptyBatch = slogdet(Tensor<Scalar>.zeros(shape: [0, 4, 4]))
    XCTAssertEqual(emptyBatch.sign.shape, [0])
    XCTAssertEqual(emptyBatch.logAbsDeterminant.shape, [0])
    let one = slogdet(Tensor<Scalar>([[-0.5]]))
    XCTAssertEqual(one.sign.scalar, -1)
    XCTAssertEqual(one.logAbsDeterminant.scalar, Scalar.log(0.5))
  }

  func testNaNPropagates() {
    checkNaN(Float.self)
    checkNaN(Double.self)
  }

  func checkNaN<Scalar: TensorScalar>(_: Scalar.Type) {
    let batch = Tensor<Scalar>(shape: [2, 2, 2], scalars: [1, 0, 0, 1, .nan, 1, 1, 1])
    let (signs, logarithms) = slogdet(batch)
    XCTAssertEqual(signs.scalars[0], 1)
    XCTAssertEqual(logarithms.scalars[0], 0)
    XCTAssertTrue(signs.scalars[1].isNaN)
    XCTAssertTrue(logarithms.scalars[1].isNaN)
  }
}
