import FlowTensor
import XCTest
import _TestSupport

private typealias Testing = LinearAlgebraTesting

/// `qrDecomposition` against NumPy's reduced QR (`lapack_qr.json`), and
/// against QᵀQ = I, Q·R = A and R upper triangular for tall, square, wide,
/// batched and empty inputs.
final class LinearAlgebraQRTests: XCTestCase {
  func testMatchesNumPyReducedQR() throws {
    try checkFixtures(Float.self, tolerance: 1e-5)
    try checkFixtures(Double.self, tolerance: 1e-13)
  }

  func checkFixtures<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) throws {
    let fixtures = try Testing.fixtures("lapack_qr.json")
    for name in ["tall", "square", "wide", "batch"] {
      let (q, r) = qrDecomposition(try Testing.tensor(fixtures, "\(name).a", as: Scalar.self))
      // Same signs as NumPy's, not only the same factorisation up to them.
      assertClose(q, try Testing.tensor(fixtures, "\(name).q"), absolute: tolerance, relative: tolerance, "q \(name)")
      assertClose(r, try Testing.tensor(fixtures, "\(name).r"), absolute: tolerance, relative: tolerance, "r \(name)")
    }
  }

  func testOrthonormalUpperTriangularAndReconstructing() {
    checkProperties(Float.self, tolerance: 1e-5)
    checkProperties(Double.self, tolerance: 1e-13)
  }

  func checkProperties<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
    var generator = SeededGenerator(seed: 3)
    for shape in [[7, 3], [3, 7], [5, 5], [1, 4], [4, 1], [1, 1], [2, 6, 4], [3, 2, 2, 5]] {
      let a = Tensor<Scalar>.randomNormal(shape: shape, using: &generator)
      let (q, r) = qrDecomposition(a)
      let batch = Array(shape.dropLast(2))
      let (m, n) = (shape[shape.count - 2], shape[shape.count - 1])
      let k = min(m, n)
      XCTAssertEqual(q.shape, batch + [m, k])
      XCTAssertEqual(r.shape, batch + [k, n])
      for index in 0..<Testing.batchCount(a) {
        let qMatrix = Testing.matrix(q, at: index)
        let rMatrix = Testing.matrix(r, at: index)
        let gram = Testing.product(Testing.transpose(qMatrix), qMatrix)
        assertClose(gram, .identity(size: k), absolute: tolerance, "QᵀQ \(shape) \(index)")
        assertClose(
          Testing.product(qMatrix, rMatrix), Testing.matrix(a, at: index), absolute: tolerance, relative: tolerance,
          "Q·R \(shape) \(index)")
        for row in 0..<k {
          for column in 0..<row { XCTAssertEqual(rMatrix[row, column], 0, "R below the diagonal, \(shape) \(index)") }
        }
      }
    }
  }

  func testEmptyShapes() {
    checkEmpty(Float.self)
    checkEmpty(Double.self)
  }

  func checkEmpty<Scalar: TensorScalar>(_: Scalar.Type) {
    for (shape, qShape, rShape) in [
      ([3, 0], [3, 0], [0, 0]), ([0, 4], [0, 0], [0, 4]), ([0, 0], [0, 0], [0, 0]), ([0, 3, 2], [0, 3, 2], [0, 2, 2]),
    ] {
      let (q, r) = qrDecomposition(Tensor<Scalar>.zeros(shape: shape))
      XCTAssertEqual(q.shape, qShape, "\(shape)")
      XCTAssertEqual(r.shape, rShape, "\(shape)")
    }
  }
}
