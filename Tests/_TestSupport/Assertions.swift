import FlowTensor
import RealModule
import XCTest

/// Asserts that two scalars agree within `absolute + relative·|expected|`.
/// NaN equals NaN and infinities must match exactly.
public func assertClose<Scalar: BinaryFloatingPoint>(
  _ actual: Scalar, _ expected: Scalar, absolute: Scalar = 0, relative: Scalar = 0,
  _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
  if let failure = closenessFailure(actual, expected, absolute: absolute, relative: relative) {
    XCTFail("\(failure) \(message())", file: file, line: line)
  }
}

/// Asserts equal shapes and elementwise closeness; on failure names the
/// worst element's index and both values.
public func assertClose<Scalar: TensorScalar>(
  _ actual: Tensor<Scalar>, _ expected: Tensor<Scalar>, absolute: Scalar = 0, relative: Scalar = 0,
  _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
  guard actual.shape == expected.shape else {
    XCTFail("shapes differ: \(actual.shape) vs expected \(expected.shape) \(message())", file: file, line: line)
    return
  }
  let a = actual.scalars
  let e = expected.scalars
  var worst: (index: Int, excess: Double)? = nil
  for index in a.indices {
    if closenessFailure(a[index], e[index], absolute: absolute, relative: relative) != nil {
      let excess = Double(abs(a[index] - e[index]))
      if worst == nil || !(excess <= worst!.excess) { worst = (index, excess.isNaN ? .infinity : excess) }
    }
  }
  if let worst {
    let multiIndex = unravel(worst.index, shape: actual.shape)
    XCTFail(
      "element \(multiIndex) of shape \(actual.shape): \(a[worst.index]) vs expected \(e[worst.index]) "
        + "(tolerance \(absolute) + \(relative)·|expected|) \(message())",
      file: file, line: line)
  }
}

/// Asserts that two tensors are identical: same shape, same scalars bit for bit (NaN matching NaN).
public func assertIdentical<Scalar: TensorScalar>(
  _ actual: Tensor<Scalar>, _ expected: Tensor<Scalar>,
  _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
  assertClose(actual, expected, absolute: 0, relative: 0, message(), file: file, line: line)
}

func closenessFailure<Scalar: BinaryFloatingPoint>(
  _ actual: Scalar, _ expected: Scalar, absolute: Scalar, relative: Scalar
) -> String? {
  if actual.isNaN && expected.isNaN { return nil }
  if actual.isInfinite || expected.isInfinite {
    return actual == expected ? nil : "\(actual) vs expected \(expected)"
  }
  let tolerance = absolute + relative * abs(expected)
  return abs(actual - expected) <= tolerance ? nil : "\(actual) vs expected \(expected) (tolerance \(tolerance))"
}

/// The multi-index of a flat row-major offset.
public func unravel(_ offset: Int, shape: [Int]) -> [Int] {
  var remainder = offset
  var indices = [Int](repeating: 0, count: shape.count)
  for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
    indices[axis] = remainder % shape[axis]
    remainder /= shape[axis]
  }
  return indices
}

/// `Σ aᵢ·bᵢ` accumulated in `Double`, over tensors of equal shape: the inner
/// product of adjoint identities (⟨A x, y⟩ = ⟨x, Aᵀ y⟩).
public func innerProduct<Scalar: TensorScalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Double {
  precondition(a.shape == b.shape, "innerProduct: shapes \(a.shape) and \(b.shape) differ")
  return zip(a.scalars, b.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
}
