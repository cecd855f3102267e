import FlowTensor
import _TestSupport

// Naive references for the shape-op tests (ShapeTests, SlicingTests,
// ConcatenationTests, GatherTests): one scalar at a time through explicit
// multi-indices, sharing no code with the kernels under test.

/// The row-major offset of a multi-index.
func referenceOffset(_ index: [Int], shape: [Int]) -> Int {
  var offset = 0
  for axis in shape.indices { offset = offset * shape[axis] + index[axis] }
  return offset
}

/// A tensor of `shape` whose scalar at each multi-index is `value(index)`.
func referenceTensor<Scalar: TensorScalar>(shape: [Int], _ value: ([Int]) -> Scalar) -> Tensor<Scalar> {
  let count = shape.reduce(1, *)
  return Tensor(shape: shape, scalars: (0..<count).map { value(unravel($0, shape: shape)) })
}

/// Fixture tensors in the precision under test.
extension FixtureTensor {
  func callAsFunction<Scalar: TensorScalar>(_ type: Scalar.Type) -> Tensor<Scalar> { tensor(type) }
}
