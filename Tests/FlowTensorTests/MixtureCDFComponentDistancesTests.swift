import FlowTensor
import XCTest
import _TestSupport

/// ‖x − μ_k‖² of points against component means.
final class MixtureCDFComponentDistancesTests: XCTestCase {
  /// Hand-computed values for points `[2, 2, 3]` against two means, one
  /// point on a mean (exactly 0); random points against the sum written out.
  func testValues() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let means = Tensor<Scalar>([[1, 2, 3], [0, -1, 0.5]])
      let x = Tensor<Scalar>(shape: [2, 2, 3], scalars: [1, 2, 3, 0, 0, 0, 2, 2, 2, -1, 0.5, 4])
      let result = squaredDistances(x, toMeans: means)
      XCTAssertEqual(result.shape, [2, 2, 2])
      assertClose(
        result, Tensor(shape: [2, 2, 2], scalars: [0, 16.25, 14, 1.25, 2, 15.25, 7.25, 15.5]),
        absolute: tolerance, relative: tolerance)
      var generator = SeededGenerator(seed: 41)
      let points = Tensor<Scalar>.randomNormal(shape: [7, 5], using: &generator)
      let centres = Tensor<Scalar>.randomNormal(shape: [4, 5], using: &generator)
      var expected: [Scalar] = []
      for p in 0..<7 {
        for k in 0..<4 {
          expected.append(Scalar((0..<5).map { j in
            let difference = Double(points[p, j]) - Double(centres[k, j])
            return difference * difference
          }.reduce(0, +)))
        }
      }
      assertClose(
        squaredDistances(points, toMeans: centres), Tensor(shape: [7, 4], scalars: expected), absolute: tolerance,
        relative: tolerance)
    }
    check(Float.self, tolerance: 1e-6)
    check(Double.self, tolerance: 1e-14)
  }

  /// A codebook's log-densities less (d/2) log 2π: the Gaussian density
  /// written out in Double, and their softmax sums to 1.
  func testCodebookLogDensitiesAreTheGaussiansLessTheirConstant() {
    var generator = SeededGenerator(seed: 43)
    let points = Tensor<Double>.randomNormal(shape: [3, 2, 4], using: &generator)
    let means = Tensor<Double>.randomNormal(shape: [5, 4], using: &generator)
    let logScales = Tensor<Double>([-1, -0.5, 0, 0.3, 1.2])
    let result = codebookLogDensities(points, means: means, logScales: logScales)
    XCTAssertEqual(result.shape, [3, 2, 5])
    for p in 0..<6 {
      for k in 0..<5 {
        let sigma = Double.exp(logScales.scalars[k])
        var logDensity = 0.0
        for j in 0..<4 {
          let z = (points.scalars[p * 4 + j] - means.scalars[k * 4 + j]) / sigma
          logDensity += -0.5 * z * z - Double.log(sigma) - 0.5 * Double.log(2 * Double.pi)
        }
        XCTAssertEqual(result.scalars[p * 5 + k], logDensity + 2 * Double.log(2 * Double.pi), accuracy: 1e-12)
      }
    }
  }

  /// Reverse and forward mode (batched tangents too) against central differences.
  func testDerivativesMatchCentralDifferences() {
    var generator = SeededGenerator(seed: 42)
    let x = Tensor<Double>.randomNormal(shape: [2, 3, 4], using: &generator)
    let means = Tensor<Double>.randomNormal(shape: [5, 4], using: &generator)
    let body: ([Tensor<Double>]) -> Tensor<Double> = { squaredDistances($0[0], toMeans: $0[1]) }
    let reverse = checkVJP(of: body, at: [x, means], absoluteTolerance: 1e-7, relativeTolerance: 1e-6)
    XCTAssertTrue(reverse.passed, "\(reverse)")
    let forward = checkJVP(of: body, at: [x, means], absoluteTolerance: 1e-7, relativeTolerance: 1e-6)
    XCTAssertTrue(forward.passed, "\(forward)")
  }

  /// No points, and no components: empty results, zero cotangents of the right shapes.
  func testEmptyOperands() {
    let means = Tensor<Float>([[0, 1], [2, 3]])
    let (value, gradients) = valueWithGradient(at: [Tensor<Float>.zeros(shape: [0, 2]), means]) { p in
      squaredDistances(p[0], toMeans: p[1]).sum()
    }
    XCTAssertEqual(value.scalar, 0)
    XCTAssertEqual(gradients.map(\.shape), [[0, 2], [2, 2]])
    XCTAssertEqual(gradients[1].scalars, [0, 0, 0, 0])
    let (_, noComponents) = valueWithGradient(at: [Tensor<Float>([[1, 2]]), Tensor.zeros(shape: [0, 2])]) { p in
      squaredDistances(p[0], toMeans: p[1]).sum()
    }
    XCTAssertEqual(noComponents.map(\.shape), [[1, 2], [0, 2]])
    XCTAssertEqual(noComponents[0].scalars, [0, 0])
  }
}
