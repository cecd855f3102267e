import FlowTensor

/// A random orthogonal `[size, size]` matrix, uniformly distributed (Haar):
/// Q of the QR decomposition of a standard Gaussian matrix, its columns
/// multiplied by the signs of R's diagonal so that the distribution does
/// not depend on the sign convention of the QR routine (Mezzadri, "How to
/// generate random matrices from the classical compact groups", Notices of
/// the AMS, 2007).
///
/// Householder QR gives an orthogonal Q for any input, so the result is
/// orthogonal (|det| = 1, log|det| = 0) even in the probability-zero event
/// of a singular Gaussian draw.
/// - Complexity: O(size³).
func randomOrthogonalMatrix<Scalar: TensorScalar>(size: Int, using generator: inout SeededGenerator) -> Tensor<Scalar> {
  precondition(size >= 0, "random orthogonal matrix: the size \(size) is negative")
  let gaussian = Tensor<Scalar>.randomNormal(shape: [size, size], using: &generator)
  let (q, r) = qrDecomposition(gaussian)
  let signs = (0..<size).map { r[$0, $0] < 0 ? Scalar(-1) : Scalar(1) }
  return q * Tensor(shape: [size], scalars: signs)
}

/// Checks that `weight` is a square matrix `[n, n]`.
func checkSquareWeight<Scalar: TensorScalar>(_ weight: Tensor<Scalar>, operation: String) {
  precondition(
    weight.rank == 2 && weight.shape[0] == weight.shape[1],
    "\(operation): weight \(weight.shape) is not a square matrix [n, n]")
}

/// Checks that `x` is a batch of images `[batch, channels, height, width]`
/// and returns the number of pixels per image, height·width.
func imagePixelCount<Scalar: TensorScalar>(_ x: Tensor<Scalar>, channels: Int, operation: String) -> Int {
  precondition(
    x.rank == 4 && x.shape[1] == channels,
    "\(operation): input \(x.shape) is not [batch, \(channels), height, width]")
  return x.shape[2] * x.shape[3]
}

/// The columns of all pixels of `x` (`[batch, channels, height, width]`)
/// side by side: `[channels, batch·height·width]`, the right-hand sides
/// for a solve that acts on the channels of every pixel.
func pixelColumns<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.transposed(permutation: [1, 0, 2, 3]).reshaped(to: [x.shape[1], x.shape[0] * x.shape[2] * x.shape[3]])
}

/// The inverse of ``pixelColumns(_:)``: `[channels, batch·height·width]`
/// back to images of `shape`.
func images<Scalar: TensorScalar>(fromPixelColumns columns: Tensor<Scalar>, shape: [Int]) -> Tensor<Scalar> {
  columns.reshaped(to: [shape[1], shape[0], shape[2], shape[3]]).transposed(permutation: [1, 0, 2, 3])
}
