import FlowTensor
import XCTest
import _TestSupport

/// `causalSoftmax` against a softmax written out by hand over the visible keys.
final class AttentionTests: XCTestCase {
  /// The softmax of each row over keys j ≤ i + offset, zeros beyond, in scalar loops.
  private func reference<Scalar: TensorScalar>(_ scores: Tensor<Scalar>, offset: Int) -> Tensor<Scalar> {
    let keys = scores.shape[scores.rank - 1]
    let queries = scores.shape[scores.rank - 2]
    let values = scores.scalars.map(Double.init)
    var result = [Scalar](repeating: 0, count: values.count)
    for row in 0..<(values.count / Swift.max(keys, 1)) {
      let visible = Swift.min(keys, Swift.max(0, row % queries + offset + 1))
      guard visible > 0 else { continue }
      let slice = values[(row * keys)..<(row * keys + visible)]
      let largest = slice.max()!
      let total = slice.reduce(0) { $0 + Double.exp($1 - largest) }
      for (index, value) in slice.enumerated() { result[row * keys + index] = Scalar(Double.exp(value - largest) / total) }
    }
    return Tensor(shape: scores.shape, scalars: result)
  }

  func testMatchesTheMaskedSoftmaxForEveryOffset() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 3)
      let square = Tensor<Scalar>.randomNormal(shape: [2, 3, 5, 5], using: &generator) * 4
      assertClose(causalSoftmax(square), reference(square, offset: 0), absolute: tolerance)
      // A query block after a cache: the last query sees every key.
      let cached = Tensor<Scalar>.randomNormal(shape: [2, 3, 7], using: &generator)
      assertClose(causalSoftmax(cached), reference(cached, offset: 4), absolute: tolerance)
      // Explicit offsets, including rows that see nothing (all zeros).
      for offset in [-2, 0, 1, 9] {
        assertClose(causalSoftmax(square, keyOffset: offset), reference(square, offset: offset), absolute: tolerance)
      }
      // A single query over one key, and empty axes.
      XCTAssertEqual(causalSoftmax(Tensor<Scalar>(shape: [1, 1], scalars: [-3])).scalars, [1])
      XCTAssertEqual(causalSoftmax(Tensor<Scalar>.zeros(shape: [0, 4, 4])).shape, [0, 4, 4])
      XCTAssertEqual(causalSoftmax(Tensor<Scalar>.zeros(shape: [2, 3, 0])).shape, [2, 3, 0])
    }
    check(Float.self, tolerance: 1e-6)
    check(Double.self, tolerance: 1e-14)
  }

  /// Large scores do not overflow: each row is shifted by its visible maximum.
  func testLargeScoresStayFinite() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let scores = Tensor<Scalar>([[1000, 5000], [1000, 999]])
      let weights = causalSoftmax(scores)
      XCTAssertEqual(weights[0, 0], 1)
      XCTAssertEqual(weights[0, 1], 0)
      assertClose(weights[1, 0], Scalar(1 / (1 + Double.exp(-1))), relative: 1e-6)
    }
    check(Float.self)
    check(Double.self)
  }

  /// Keys after a query get no gradient, and the rules match central differences.
  func testDerivativesMatchCentralDifferences() {
    var generator = SeededGenerator(seed: 4)
    let scores = Tensor<Double>.randomNormal(shape: [2, 4, 6], using: &generator)
    for offset in [nil, 0, -1] as [Int?] {
      let body: ([Tensor<Double>]) -> Tensor<Double> = { causalSoftmax($0[0], keyOffset: offset) }
      let reverse = checkVJP(of: body, at: [scores])
      XCTAssertTrue(reverse.passed, "offset \(String(describing: offset)): \(reverse)")
      let forward = checkJVP(of: body, at: [scores])
      XCTAssertTrue(forward.passed, "offset \(String(describing: offset)): \(forward)")
    }
    let (_, gradient) = valueWithGradient(at: scores) { (causalSoftmax($0) * $0).sum() }
    XCTAssertEqual(gradient[0, 0, 5], 0)  // query 0 sees keys 0…2 only (offset 6 − 4 = 2)
    XCTAssertNotEqual(gradient[0, 0, 2], 0)
  }

  /// The in-place path over a buffer's prefix gives the composite's numbers;
  /// rows past `length` (here NaN) are never read.
  func testCausalAttentionOverABufferPrefixMatchesTheComposite() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 5)
      let queries = Tensor<Scalar>.randomNormal(shape: [2, 3, 2, 4], using: &generator)
      let prefixKeys = Tensor<Scalar>.randomNormal(shape: [2, 3, 5, 4], using: &generator)
      let prefixValues = Tensor<Scalar>.randomNormal(shape: [2, 3, 5, 4], using: &generator)
      let garbage = Tensor<Scalar>(repeating: .nan, shape: [2, 3, 3, 4])
      let keys = Tensor(concatenating: [prefixKeys, garbage], alongAxis: 2)
      let values = Tensor(concatenating: [prefixValues, garbage], alongAxis: 2)
      let expected = matmul(causalSoftmax(matmul(queries, prefixKeys, transposingB: true)), prefixValues)
      assertClose(
        causalAttention(queries: queries, keys: keys, values: values, length: 5), expected,
        absolute: tolerance, relative: tolerance)
      // One query (a decoding step, the `gemv` path) sees the whole prefix.
      let last = queries.sliced(alongAxis: 2, from: 1, to: 2)
      assertClose(
        causalAttention(queries: last, keys: keys, values: values, length: 5),
        matmul(causalSoftmax(matmul(last, prefixKeys, transposingB: true)), prefixValues),
        absolute: tolerance, relative: tolerance)
      // Square: the usual lower-triangular mask.
      let square = causalAttention(
        queries: prefixKeys, keys: prefixKeys, values: prefixValues, length: 5)
      let squareExpected = matmul(causalSoftmax(matmul(prefixKeys, prefixKeys, transposingB: true)), prefixValues)
      assertClose(square, squareExpected, absolute: tolerance, relative: tolerance)
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-13)
  }

  func testCausalAttentionDerivatives() {
    var generator = SeededGenerator(seed: 6)
    let inputs = [
      Tensor<Double>.randomNormal(shape: [2, 2, 4], using: &generator),
      Tensor<Double>.randomNormal(shape: [2, 5, 4], using: &generator),
      Tensor<Double>.randomNormal(shape: [2, 5, 4], using: &generator),
    ]
    let body: ([Tensor<Double>]) -> Tensor<Double> = { causalAttention(queries: $0[0], keys: $0[1], values: $0[2], length: 4) }
    let reverse = checkVJP(of: body, at: inputs)
    XCTAssertTrue(reverse.passed, "\(reverse)")
    let forward = checkJVP(of: body, at: inputs)
    XCTAssertTrue(forward.passed, "\(forward)")
    // The key and value rows past `length` get no gradient.
    let (_, gradients) = valueWithGradient(at: inputs) { body($0).sum() }
    XCTAssertEqual(gradients[1].sliced(alongAxis: 1, from: 4, to: 5), Tensor.zeros(shape: [2, 1, 4]))
    XCTAssertNotEqual(gradients[2].sliced(alongAxis: 1, from: 3, to: 4), Tensor.zeros(shape: [2, 1, 4]))
  }
}
