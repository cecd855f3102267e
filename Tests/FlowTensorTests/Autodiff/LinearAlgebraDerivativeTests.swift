import FlowTensor
import XCTest
import _TestSupport

final class LinearAlgebraDerivativeTests: XCTestCase {
  private func assertDerivatives(
    _ name: String, _ body: @escaping ([Tensor<Double>]) -> Tensor<Double>, at inputs: [Tensor<Double>],
    file: StaticString = #filePath, line: UInt = #line
  ) {
    let reverse = checkVJP(of: body, at: inputs)
    XCTAssertTrue(reverse.passed, "\(name): \(reverse)", file: file, line: line)
    let forward = checkJVP(of: body, at: inputs)
    XCTAssertTrue(forward.passed, "\(name): \(forward)", file: file, line: line)
  }

  /// Random matrices `[..., n, n]` plus `shift`·I: well conditioned.
  private func wellConditioned(
    _ shape: [Int], shift: Double, _ generator: inout SeededGenerator
  ) -> Tensor<Double> {
    let n = shape[shape.count - 1]
    return Tensor<Double>.randomNormal(shape: shape, using: &generator) + shift * Tensor<Double>.identity(size: n)
  }

  private func random(_ shape: [Int], _ generator: inout SeededGenerator) -> Tensor<Double> {
    Tensor.randomNormal(shape: shape, using: &generator)
  }

  func testLogAbsDeterminant() {
    var generator = SeededGenerator(seed: 31)
    let single = wellConditioned([3, 3], shift: 3, &generator)
    // The second matrix has a negative determinant: −(R + 3I) of odd order.
    let batch = Tensor(concatenating: [
      wellConditioned([1, 3, 3], shift: 3, &generator), -wellConditioned([1, 3, 3], shift: 3, &generator),
    ], alongAxis: 0)
    XCTAssertEqual(slogdet(batch).sign.scalars, [1, -1])
    assertDerivatives("single", { slogdet($0[0]).logAbsDeterminant }, at: [single])
    assertDerivatives("batch", { slogdet($0[0]).logAbsDeterminant }, at: [batch])
  }

  func testInverse() {
    var generator = SeededGenerator(seed: 32)
    assertDerivatives("single", { try! inverse($0[0]) }, at: [wellConditioned([3, 3], shift: 3, &generator)])
    assertDerivatives("batch", { try! inverse($0[0]) }, at: [wellConditioned([2, 3, 3], shift: 3, &generator)])
  }

  func testSolve() {
    var generator = SeededGenerator(seed: 33)
    let a = wellConditioned([3, 3], shift: 3, &generator)
    assertDerivatives("matrix", { try! solve($0[0], $0[1]) }, at: [a, random([3, 2], &generator)])
    assertDerivatives("vector", { try! solve($0[0], $0[1]) }, at: [a, random([3], &generator)])
    let batch = wellConditioned([2, 3, 3], shift: 3, &generator)
    assertDerivatives("batched matrix", { try! solve($0[0], $0[1]) }, at: [batch, random([2, 3, 2], &generator)])
    assertDerivatives("batched vector", { try! solve($0[0], $0[1]) }, at: [batch, random([2, 3], &generator)])
    let b = random([3, 2], &generator)
    assertDerivatives("matrix only", { try! solve($0[0], b) }, at: [a])
    assertDerivatives("right-hand side only", { try! solve(a, $0[0]) }, at: [b])
  }

  /// The function reads only A's lower triangle, so it is checked on a
  /// matrix whose upper triangle is garbage: its gradient there is zero,
  /// as central differences find.
  func testCholesky() {
    var generator = SeededGenerator(seed: 34)
    func positiveDefinite(_ batch: [Int]) -> Tensor<Double> {
      let b = random(batch + [3, 3], &generator)
      return matmul(b, b, transposingA: true) + 3 * Tensor<Double>.identity(size: 3)
    }
    let spd = positiveDefinite([])
    let upperGarbage = Tensor<Double>([[0, 5, -7], [0, 0, 9], [0, 0, 0]])
    assertDerivatives("symmetric", { try! choleskyFactorization($0[0]) }, at: [spd])
    assertDerivatives("garbage above the diagonal", { try! choleskyFactorization($0[0]) }, at: [spd + upperGarbage])
    assertDerivatives("batch", { try! choleskyFactorization($0[0]) }, at: [positiveDefinite([2])])
    // Read through a symmetrising function, as a caller with a symmetric
    // parameterisation would (the transpose as Aᵀ·I, by matmul's rules).
    let identity = Tensor<Double>.identity(size: 3)
    assertDerivatives("symmetrised", { p in
      try! choleskyFactorization((p[0] + matmul(p[0], identity, transposingA: true)) / 2)
    }, at: [spd])
  }

  func testTriangularSolveForEveryFlag() {
    var generator = SeededGenerator(seed: 35)
    let a = wellConditioned([3, 3], shift: 3, &generator)
    let batch = wellConditioned([2, 3, 3], shift: 3, &generator)
    for lower in [true, false] {
      for transposed in [false, true] {
        for unitDiagonal in [false, true] {
          let name = "lower \(lower), transposed \(transposed), unit diagonal \(unitDiagonal)"
          let body: ([Tensor<Double>]) -> Tensor<Double> = { p in
            try! triangularSolve(p[0], p[1], lower: lower, transposed: transposed, unitDiagonal: unitDiagonal)
          }
          assertDerivatives("\(name), matrix", body, at: [a, random([3, 2], &generator)])
          assertDerivatives("\(name), vector", body, at: [a, random([3], &generator)])
          assertDerivatives("\(name), batch", body, at: [batch, random([2, 3, 2], &generator)])
        }
      }
    }
  }

  func testQRDecomposition() {
    var generator = SeededGenerator(seed: 36)
    for shape in [[4, 3], [3, 3], [2, 4, 3], [3, 5], [2, 2, 4]] {
      let a = random(shape, &generator)
      assertDerivatives("q of \(shape)", { qrDecomposition($0[0]).q }, at: [a])
      assertDerivatives("r of \(shape)", { qrDecomposition($0[0]).r }, at: [a])
      // Q·R = A: the two pullbacks together give the identity.
      assertDerivatives("q·r of \(shape)", { p in
        let (q, r) = qrDecomposition(p[0])
        return matmul(q, r)
      }, at: [a])
    }
  }

  /// Size-0 and size-1 axes: empty batches, 0×0 and 1×1 matrices, no
  /// right-hand-side columns.
  func testEmptyAndSingleElementShapes() {
    var generator = SeededGenerator(seed: 38)
    let one = Tensor<Double>([[2.5]])
    assertDerivatives("slogdet 1×1", { slogdet($0[0]).logAbsDeterminant }, at: [one])
    assertDerivatives("inverse 1×1", { try! inverse($0[0]) }, at: [one])
    assertDerivatives("cholesky 1×1", { try! choleskyFactorization($0[0]) }, at: [one])
    assertDerivatives("qr 1×1", { qrDecomposition($0[0]).r }, at: [one])
    let empty = Tensor<Double>.zeros(shape: [0, 0])
    let (value, gradient) = valueWithGradient(at: empty) { slogdet($0).logAbsDeterminant }
    XCTAssertEqual(value.scalar, 0)
    XCTAssertEqual(gradient.shape, [0, 0])
    let emptyBatch = Tensor<Double>.zeros(shape: [0, 3, 3])
    let (_, pullback) = vjp(of: { try! inverse($0) }, at: emptyBatch)
    XCTAssertEqual(pullback(Tensor.zeros(shape: [0, 3, 3])).shape, [0, 3, 3])
    // No columns: X is [3, 0] and Ā = −B̄·Xᵀ is a zero 3×3 matrix.
    let a = wellConditioned([3, 3], shift: 3, &generator)
    let (_, gradients) = valueWithGradient(at: [a, Tensor<Double>.zeros(shape: [3, 0])]) { p in
      try! solve(p[0], p[1]).sum()
    }
    XCTAssertEqual(gradients[0], Tensor.zeros(shape: [3, 3]))
    XCTAssertEqual(gradients[1].shape, [3, 0])
  }

  /// At an exactly singular matrix log |det A| is −∞ and its derivatives
  /// are NaN rather than a crash.
  func testSingularMatrixGivesNaNDerivatives() {
    let singular = Tensor<Double>([[1, 2], [2, 4]])
    let (value, gradient) = valueWithGradient(at: singular) { slogdet($0).logAbsDeterminant }
    XCTAssertEqual(value.scalar, -.infinity)
    XCTAssertTrue(gradient.scalars.allSatisfy(\.isNaN), "\(gradient.scalars)")
    let (_, tangent) = jvp(of: { slogdet($0).logAbsDeterminant }, at: singular, along: Tensor.ones(shape: [2, 2]))
    XCTAssertTrue(tangent.scalar.isNaN)
  }

  /// Reverse over forward: the gradient of a tangent, for ops whose tangent
  /// rules are built from differentiable ops.
  func testReverseOverForward() {
    var generator = SeededGenerator(seed: 37)
    let a = wellConditioned([3, 3], shift: 3, &generator)
    let b = random([3, 2], &generator)
    let direction = random([3, 3], &generator)
    let tangentOfInverse: ([Tensor<Double>]) -> Tensor<Double> = { p in
      jvp(of: { try! inverse($0) }, at: p[0], along: direction).tangent
    }
    let reverse = checkVJP(of: tangentOfInverse, at: [a])
    XCTAssertTrue(reverse.passed, "inverse: \(reverse)")
    let tangentOfSolve: ([Tensor<Double>]) -> Tensor<Double> = { p in
      jvp(of: { try! solve($0[0], $0[1]) }, at: p, along: [direction, b]).tangent
    }
    let solveReport = checkVJP(of: tangentOfSolve, at: [a, b])
    XCTAssertTrue(solveReport.passed, "solve: \(solveReport)")
  }

  /// Reverse over forward through tangent rules that transpose, slice and
  /// concatenate (batched tangents folded into columns): needs the shape
  /// ops' derivative rules.
  func testReverseOverForwardThroughShapeOps() {
    var generator = SeededGenerator(seed: 39)
    let b = random([3, 3], &generator)
    let spd = matmul(b, b, transposingA: true) + 3 * Tensor<Double>.identity(size: 3)
    let a = wellConditioned([3, 3], shift: 3, &generator)
    let wide = random([3, 5], &generator)
    let tall = random([4, 3], &generator)
    func tangentCheck(
      _ name: String, _ f: @escaping (Tensor<Double>) -> Tensor<Double>, at x: Tensor<Double>, batch: [Int] = [2]
    ) {
      let direction = random(batch + x.shape, &generator)
      let report = checkVJP(of: { p in jvp(of: f, at: p[0], along: direction).tangent }, at: [x])
      XCTAssertTrue(report.passed, "\(name): \(report)")
    }
    tangentCheck("cholesky", { try! choleskyFactorization($0) }, at: spd)
    tangentCheck("slogdet", { slogdet($0).logAbsDeterminant }, at: a)
    tangentCheck("triangular solve", { try! triangularSolve($0, b, lower: false, transposed: true) }, at: a)
    tangentCheck("solve", { try! solve($0, b) }, at: a)
    tangentCheck("qr q, m > n", { qrDecomposition($0).q }, at: tall)
    tangentCheck("qr r, m < n", { qrDecomposition($0).r }, at: wide)
    tangentCheck("qr q, m < n", { qrDecomposition($0).q }, at: wide, batch: [])
  }

  /// Hand-derived gradients in Float and Double: ∇ log|det A| = A⁻ᵀ and,
  /// for f(A) = Σ A⁻¹, ∇f = −A⁻ᵀ·𝟙·A⁻ᵀ.
  func testGradientsByHand() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let a = Tensor<Scalar>([[4, 1, 0], [2, 5, 1], [0, -1, 3]])
      let inverseTransposed = try! inverse(a).transposed()
      let (_, logDeterminant) = valueWithGradient(at: a) { slogdet($0).logAbsDeterminant }
      assertClose(logDeterminant, inverseTransposed, absolute: tolerance)
      let (_, sumOfInverse) = valueWithGradient(at: a) { try! inverse($0).sum() }
      let ones = Tensor<Scalar>.ones(shape: [3, 3])
      assertClose(sumOfInverse, -matmul(matmul(inverseTransposed, ones), inverseTransposed), absolute: tolerance)
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-13)
  }
}
