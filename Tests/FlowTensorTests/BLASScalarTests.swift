import FlowTensor
import XCTest
import _TestSupport

/// The raw BLAS entry points on hand-derived values, including leading
/// dimensions wider than a matrix and vector strides other than 1.
final class BLASScalarTests: XCTestCase {
  /// `C ← 2·A·Bᵀ + C` on 2×2 blocks of wider row-major buffers: the
  /// third column of A's and C's storage must be neither read nor written.
  func testGemmOnSubmatricesWithLeadingDimensions() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      // A = [[1, 2], [3, 4]] in a 2×3 buffer; its third column is NaN.
      let a: [Scalar] = [1, 2, .nan, 3, 4, .nan]
      // B stored as [[5, 7], [6, 8]], read transposed as [[5, 6], [7, 8]].
      let b: [Scalar] = [5, 7, 6, 8]
      var c: [Scalar] = [1, 1, -9, 1, 1, -9]
      c.withUnsafeMutableBufferPointer { c in
        Scalar.gemm(
          .notTransposed, .transposed, m: 2, n: 2, k: 2,
          alpha: 2, a: a, leadingDimensionA: 3, b: b, leadingDimensionB: 2,
          beta: 1, c: c.baseAddress!, leadingDimensionC: 3)
      }
      // A·[[5, 6], [7, 8]] = [[19, 22], [43, 50]].
      XCTAssertEqual(c, [39, 45, -9, 87, 101, -9], "\(Scalar.self)")
    }
    check(Float.self)
    check(Double.self)
  }

  /// With β = 0 the prior contents of C, NaN included, are overwritten.
  func testGemmWithZeroBetaIgnoresPriorOutput() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let a: [Scalar] = [1, 2, 3]  // 3×1
      let b: [Scalar] = [4, 5]  // 1×2
      var c = [Scalar](repeating: .nan, count: 6)
      c.withUnsafeMutableBufferPointer { c in
        Scalar.gemm(
          .notTransposed, .notTransposed, m: 3, n: 2, k: 1,
          alpha: 1, a: a, leadingDimensionA: 1, b: b, leadingDimensionB: 2,
          beta: 0, c: c.baseAddress!, leadingDimensionC: 2)
      }
      XCTAssertEqual(c, [4, 5, 8, 10, 12, 15], "\(Scalar.self)")
    }
    check(Float.self)
    check(Double.self)
  }

  func testGemv() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let a: [Scalar] = [1, 2, 3, 4, 5, 6]  // [[1, 2, 3], [4, 5, 6]]
      // y ← 1·A·[1, 0, 2] + 10·y: [7, 16] + [10, 20].
      var y: [Scalar] = [1, 2]
      y.withUnsafeMutableBufferPointer { y in
        Scalar.gemv(
          .notTransposed, m: 2, n: 3, alpha: 1, a: a, leadingDimension: 3,
          x: [1, 0, 2], strideX: 1, beta: 10, y: y.baseAddress!, strideY: 1)
      }
      XCTAssertEqual(y, [17, 36], "\(Scalar.self)")
      // z ← 2·Aᵀ·[1, −1], written at stride 2: Aᵀ·[1, −1] = [−3, −3, −3].
      var z: [Scalar] = [0, 99, 0, 99, 0]
      z.withUnsafeMutableBufferPointer { z in
        Scalar.gemv(
          .transposed, m: 2, n: 3, alpha: 2, a: a, leadingDimension: 3,
          x: [1, -1], strideX: 1, beta: 0, y: z.baseAddress!, strideY: 2)
      }
      XCTAssertEqual(z, [-6, 99, -6, 99, -6], "\(Scalar.self)")
    }
    check(Float.self)
    check(Double.self)
  }

  func testLevelOneRoutines() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      // axpy reading every other scalar of x: y + 2·[1, 2, 3].
      var y: [Scalar] = [10, 20, 30]
      y.withUnsafeMutableBufferPointer { y in
        Scalar.axpy(count: 3, alpha: 2, x: [1, -7, 2, -7, 3], strideX: 2, y: y.baseAddress!, strideY: 1)
      }
      XCTAssertEqual(y, [12, 24, 36], "\(Scalar.self)")

      XCTAssertEqual(Scalar.dot(count: 3, x: [1, 2, 3], strideX: 1, y: [4, 5, 6], strideY: 1), 32)
      // A negative stride walks the vector backwards from its far end:
      // [3, 2, 1]·[4, 5, 6] = 28.
      XCTAssertEqual(Scalar.dot(count: 3, x: [1, 2, 3], strideX: -1, y: [4, 5, 6], strideY: 1), 28)
      XCTAssertEqual(Scalar.dot(count: 0, x: [1], strideX: 1, y: [1], strideY: 1), 0)

      var x: [Scalar] = [1, 2, 3, 4]
      x.withUnsafeMutableBufferPointer { x in
        Scalar.scal(count: 2, alpha: 3, x: x.baseAddress!, stride: 2)
      }
      XCTAssertEqual(x, [3, 2, 9, 4], "\(Scalar.self)")
    }
    check(Float.self)
    check(Double.self)
  }
}
