import FlowTensor
import XCTest
import _TestSupport

/// Ops fed tensors that came out of a transposition, slice or broadcast
/// (rows no longer in their original order in memory) agree with the same
/// op applied first and permuted after, or with an independent route.
final class PermutedInputTests: XCTestCase {
  func testElementwiseAndReductionsCommuteWithPermutation() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 21)
      let x = Tensor<Scalar>.randomNormal(shape: [3, 4, 5], using: &generator)
      let permutation = [2, 0, 1]
      let permuted = x.transposed(permutation: permutation)
      assertIdentical(exp(permuted), exp(x).transposed(permutation: permutation))
      assertIdentical(sigmoid(permuted), sigmoid(x).transposed(permutation: permutation))
      // A reduction over the permuted tensor's axis 0 is the original's axis 2.
      assertClose(permuted.sum(alongAxes: [0]), x.sum(alongAxes: [2]), relative: 8 * Scalar.ulpOfOne)
      assertClose(
        permuted.logSumExp(alongAxes: [1, 2]), x.logSumExp(alongAxes: [0, 1]), relative: 8 * Scalar.ulpOfOne)
      // Broadcasting a permuted operand against a reversed one.
      let reversed = x.reversed(alongAxes: [1])
      let y = Tensor<Scalar>.randomNormal(shape: [4, 1], using: &generator)
      assertIdentical(reversed * y, (x * y.reversed(alongAxes: [0])).reversed(alongAxes: [1]))
    }
    check(Float.self)
    check(Double.self)
  }

  func testLinearAlgebraOnTransposedAndSlicedOperands() throws {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) throws {
      var generator = SeededGenerator(seed: 22)
      let a = Tensor<Scalar>.randomNormal(shape: [6, 8], using: &generator)
      let b = Tensor<Scalar>.randomNormal(shape: [6, 5], using: &generator)
      // gemm's transpose flag against a materialised transpose.
      assertClose(matmul(a.transposed(), b), matmul(a, b, transposingA: true), relative: tolerance)
      // A square block sliced out of a wider matrix: slogdet of it and of
      // its transpose agree, and an every-other-column slice solves.
      let square = a.sliced(lowerBounds: [0, 1], upperBounds: [6, 7], strides: [1, 1])
      let (sign, logDeterminant) = slogdet(square)
      let (signT, logDeterminantT) = slogdet(square.transposed())
      XCTAssertEqual(sign.scalar, signT.scalar)
      assertClose(logDeterminantT, logDeterminant, absolute: tolerance * 10)
      let strided = a.sliced(lowerBounds: [0, 0], upperBounds: [6, 8], strides: [1, 2])
      let x = try solve(square, strided)
      assertClose(matmul(square, x), strided, absolute: tolerance * 100)
      // FFT of rows that were columns.
      let columns = rfft(a.transposed())
      let rows = rfft(Tensor<Scalar>(shape: [8, 6], scalars: a.transposed().scalars))
      assertIdentical(columns, rows)
    }
    try check(Float.self, tolerance: 1e-4)
    try check(Double.self, tolerance: 1e-12)
  }
}
