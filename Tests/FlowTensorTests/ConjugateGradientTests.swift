import FlowTensor
import XCTest
import _TestSupport

final class ConjugateGradientTests: XCTestCase {
  /// Random SPD systems A_i = M_i M_iᵀ + 0.1·I, one per row: every row
  /// reaches the tolerance, the true residual ‖b − A u‖/‖b‖ (recomputed
  /// here) is within it, and u matches LAPACK's solve.
  func testReachesItsToleranceOnRandomSPDSystems() throws {
    try check(Double.self, tolerance: 1e-10, solveTolerance: 1e-8)
    try check(Float.self, tolerance: 1e-4, solveTolerance: 2e-2)

    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Double, solveTolerance: Double) throws {
      for (rows, n) in [(5, 6), (1, 1), (3, 12)] {
        var generator = SeededGenerator(seed: UInt64(rows * 100 + n))
        let m = Tensor<Scalar>.randomNormal(shape: [rows, n, n], using: &generator)
        let a = matmul(m, m, transposingB: true) + Tensor<Scalar>.identity(size: n) * Scalar(0.1)
        let b = Tensor<Scalar>.randomNormal(shape: [rows, n], using: &generator)
        let apply = { (v: Tensor<Scalar>) in matmul(a, v.expandingShape(at: 2)).squeezingShape(at: 2) }
        let result = conjugateGradientSolve(b, tolerance: tolerance, maximumIterations: 10 * n, applying: apply)
        XCTAssertTrue(result.allConverged, "\(rows)×\(n): \(result.relativeResiduals)")
        XCTAssertEqual(result.iterations.count, rows)
        XCTAssertTrue(result.iterations.allSatisfy { $0 >= 1 && $0 <= 10 * n }, "\(result.iterations)")
        XCTAssertEqual(result.iterationCount, result.iterations.max())
        let residual = b - apply(result.solution)
        let trueRelative = zip(
          (residual * residual).sum(alongAxes: [1]).scalars, (b * b).sum(alongAxes: [1]).scalars
        ).map { Double($0.0).squareRoot() / Double($0.1).squareRoot() }
        for (row, value) in trueRelative.enumerated() {
          XCTAssertLessThanOrEqual(value, 10 * tolerance, "row \(row) of \(rows)×\(n)")
          XCTAssertLessThanOrEqual(Double(result.relativeResiduals[row]), tolerance)
        }
        let direct = try solve(a, b.expandingShape(at: 2)).squeezingShape(at: 2)
        assertClose(result.solution, direct, absolute: Scalar(solveTolerance), relative: Scalar(solveTolerance))
      }
    }
  }

  /// In exact arithmetic CG ends within n steps; with a cap of 2 on a
  /// 6×6 system with spread eigenvalues it stops unconverged after 2, and the
  /// iterate is the one a hand-written two-step CG gives.
  func testIterationCapStopsEarlyAtTheSecondIterate() {
    let diagonal: [Double] = [1, 2, 4, 8, 16, 32]
    let b = Tensor<Double>([[1, 1, 1, 1, 1, 1]])
    let apply = { (v: Tensor<Double>) in v * Tensor(diagonal) }
    let result = conjugateGradientSolve(b, tolerance: 1e-12, maximumIterations: 2, applying: apply)
    XCTAssertEqual(result.iterations, [2])
    XCTAssertEqual(result.converged, [false])
    // Two CG steps written out on plain arrays.
    var x = [Double](repeating: 0, count: 6)
    var r = [Double](repeating: 1, count: 6)
    var p = r
    for _ in 0..<2 {
      let ap = zip(diagonal, p).map { $0 * $1 }
      let rr = r.reduce(0) { $0 + $1 * $1 }
      let alpha = rr / zip(p, ap).reduce(0) { $0 + $1.0 * $1.1 }
      x = zip(x, p).map { $0 + alpha * $1 }
      r = zip(r, ap).map { $0 - alpha * $1 }
      let beta = r.reduce(0) { $0 + $1 * $1 } / rr
      p = zip(r, p).map { $0 + beta * $1 }
    }
    assertClose(result.solution, Tensor([x]), absolute: 1e-14)
    let expectedResidual = r.reduce(0) { $0 + $1 * $1 }.squareRoot() / 6.0.squareRoot()
    XCTAssertEqual(Double(result.relativeResiduals[0]), expectedResidual, accuracy: 1e-14)
  }

  /// A zero right-hand side is solved by 0 in no iterations; a row whose
  /// operator is zero (curvature 0) or overflows in Float stops without
  /// turning into NaN, while the other rows still converge.
  func testZeroAndNonFiniteRowsStopInsteadOfDividingByZero() {
    check(Float.self, huge: 1e30)
    check(Double.self, huge: 1e300)

    func check<Scalar: TensorScalar>(_: Scalar.Type, huge: Scalar) {
      let b = Tensor<Scalar>([[1, 2], [0, 0], [3, -1], [1, 1]])
      // Row 0: 2·I. Row 1: anything. Row 2: the zero operator. Row 3: a
      // scale that overflows to infinity, so pᵀAp = inf.
      let scales = Tensor<Scalar>(shape: [4, 1], scalars: [2, 5, 0, huge * huge])
      let result = conjugateGradientSolve(b, tolerance: 1e-6, maximumIterations: 5) { $0 * scales }
      XCTAssertEqual(result.converged, [true, true, false, false])
      XCTAssertEqual(result.iterations[0], 1)
      XCTAssertEqual(result.iterations[1], 0)
      XCTAssertEqual(result.relativeResiduals[1], 0)
      XCTAssertTrue(result.solution.scalars.allSatisfy(\.isFinite), "\(result.solution.scalars)")
      assertClose(
        result.solution.sliced(alongAxis: 0, from: 0, to: 2), Tensor([[0.5, 1], [0, 0]]), absolute: Scalar(1e-6))
      assertIdentical(result.solution.sliced(alongAxis: 0, from: 2, to: 4), Tensor.zeros(shape: [2, 2]))
    }
  }

  /// The solve records nothing: its result carries no gradient even when
  /// the right-hand side and the operator's matrix do.
  func testResultCarriesNoGraph() {
    let a = Tensor<Double>([[2, 3]]).requiringGradient()
    let b = Tensor<Double>([[1, 1]]).requiringGradient()
    let result = conjugateGradientSolve(b, tolerance: 1e-12, maximumIterations: 4) { $0 * a }
    XCTAssertFalse(result.solution.requiresGradient)
    assertClose(result.solution, Tensor([[0.5, 1.0 / 3]]), absolute: 1e-14)
  }
}
