import FlowTensor
import XCTest
import _TestSupport

/// Several forward-mode directions through `matmul` in one pass, and the
/// reverse-mode derivatives of the resulting tangents (reverse-over-forward):
/// a dense layer's tangents `[directions, batch, in]` times its weight, the
/// product the exact rectangular-flow estimator trains through. When the
/// right operand is one matrix, the tangent rule folds every row of every
/// direction into a single `[rows, k]` operand; these tests pin the values
/// and derivatives of that path and of the unfolded ones.
final class MatrixProductTangentTests: XCTestCase {
  /// One `matmul` form, with the directions' batch shape.
  private struct ProductCase {
    var name: String
    var aShape: [Int]
    var bShape: [Int]
    var transposingA = false
    var transposingB = false
    var directions: [Int]
  }

  private static let cases: [ProductCase] = [
    ProductCase(name: "matrix × matrix", aShape: [3, 4], bShape: [4, 5], directions: [3]),
    ProductCase(name: "transposed B", aShape: [3, 4], bShape: [5, 4], transposingB: true, directions: [2]),
    ProductCase(name: "batched A", aShape: [2, 3, 4], bShape: [4, 5], directions: [2]),
    ProductCase(name: "two direction axes", aShape: [3, 4], bShape: [4, 2], directions: [2, 3]),
    ProductCase(name: "one direction", aShape: [3, 4], bShape: [4, 5], directions: [1]),
    ProductCase(name: "vector A", aShape: [4], bShape: [4, 5], directions: [3]),
    ProductCase(name: "transposed A (not folded)", aShape: [4, 3], bShape: [4, 5], transposingA: true, directions: [2]),
    ProductCase(name: "batched B (not folded)", aShape: [3, 4], bShape: [2, 4, 5], directions: [2]),
    ProductCase(name: "vector B", aShape: [2, 3, 4], bShape: [4], directions: [2]),
    // NumPy's rule: transposing a vector changes nothing, in the value and in the derivatives.
    ProductCase(name: "vector A, transposed", aShape: [4], bShape: [4, 5], transposingA: true, directions: [3]),
    ProductCase(name: "vector B, transposed", aShape: [3, 4], bShape: [4], transposingB: true, directions: [2]),
    ProductCase(name: "size-1 rows", aShape: [1, 4], bShape: [4, 1], directions: [2]),
    ProductCase(name: "no rows", aShape: [0, 4], bShape: [4, 5], directions: [2]),
    ProductCase(name: "empty inner dimension", aShape: [3, 0], bShape: [0, 5], directions: [2]),
  ]

  /// Σ w ⊙ (tangent of matmul(x ⊙ s, b) along v): its gradient with
  /// respect to s and b differentiates the tangent's rule (s gives the
  /// tangent a graph, b is the fixed matrix).
  private static func loss<Scalar: TensorScalar>(
    _ parameters: [Tensor<Scalar>], x: Tensor<Scalar>, directions v: Tensor<Scalar>, weights w: Tensor<Scalar>,
    _ form: ProductCase
  ) -> Tensor<Scalar> {
    let (_, tangent) = jvp(
      of: { matmul($0 * parameters[0], parameters[1], transposingA: form.transposingA, transposingB: form.transposingB) },
      at: x, along: v)
    return (tangent * w).sum()
  }

  /// The batched tangent equals one pass per direction, and the gradient of
  /// a function of it equals the sum of the per-direction gradients.
  func testBatchedTangentsAndTheirGradientsEqualOnePassPerDirection() {
    check(Float.self, tolerance: 2e-5)
    check(Double.self, tolerance: 1e-12)

    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 31)
      for form in Self.cases {
        let x = Tensor<Scalar>.randomNormal(shape: form.aShape, using: &generator)
        let s = Tensor<Scalar>.randomNormal(shape: form.aShape, using: &generator)
        let b = Tensor<Scalar>.randomNormal(shape: form.bShape, using: &generator)
        let outputShape = matmul(x, b, transposingA: form.transposingA, transposingB: form.transposingB).shape
        let count = form.directions.reduce(1, *)
        let v = Tensor<Scalar>.randomNormal(shape: form.directions + form.aShape, using: &generator)
        let w = Tensor<Scalar>.randomNormal(shape: form.directions + outputShape, using: &generator)

        let (_, batched) = jvp(
          of: { matmul($0 * s, b, transposingA: form.transposingA, transposingB: form.transposingB) }, at: x, along: v)
        XCTAssertEqual(batched.shape, form.directions + outputShape, form.name)
        let (_, gradients) = valueWithGradient(at: [s, b]) {
          Self.loss($0, x: x, directions: v, weights: w, form)
        }

        let flatV = v.reshaped(to: [count] + form.aShape)
        let flatW = w.reshaped(to: [count] + outputShape)
        let flatTangent = batched.reshaped(to: [count] + outputShape)
        var sums = [Tensor<Scalar>.zeros(shape: s.shape), Tensor<Scalar>.zeros(shape: b.shape)]
        for direction in 0..<count {
          let single = flatV.sliced(alongAxis: 0, from: direction, to: direction + 1).reshaped(to: form.aShape)
          let weights = flatW.sliced(alongAxis: 0, from: direction, to: direction + 1).reshaped(to: outputShape)
          let (_, tangent) = jvp(
            of: { matmul($0 * s, b, transposingA: form.transposingA, transposingB: form.transposingB) }, at: x,
            along: single)
          assertClose(
            flatTangent.sliced(alongAxis: 0, from: direction, to: direction + 1).reshaped(to: outputShape), tangent,
            absolute: tolerance, relative: tolerance, "\(form.name): tangent of direction \(direction)")
          let (_, own) = valueWithGradient(at: [s, b]) {
            Self.loss($0, x: x, directions: single, weights: weights, form)
          }
          sums = [sums[0] + own[0], sums[1] + own[1]]
        }
        assertClose(gradients[0], sums[0], absolute: tolerance, relative: tolerance, "\(form.name): gradient of s")
        assertClose(gradients[1], sums[1], absolute: tolerance, relative: tolerance, "\(form.name): gradient of b")
      }
    }
  }

  /// The same gradients against central differences (Double), and the
  /// batched tangents themselves by `checkJVP`.
  func testGradientsOfBatchedTangentsMatchCentralDifferences() {
    var generator = SeededGenerator(seed: 32)
    for form in Self.cases {
      let x = Tensor<Double>.randomNormal(shape: form.aShape, using: &generator)
      let s = Tensor<Double>.randomNormal(shape: form.aShape, using: &generator)
      let b = Tensor<Double>.randomNormal(shape: form.bShape, using: &generator)
      let outputShape = matmul(x, b, transposingA: form.transposingA, transposingB: form.transposingB).shape
      let v = Tensor<Double>.randomNormal(shape: form.directions + form.aShape, using: &generator)
      let w = Tensor<Double>.randomNormal(shape: form.directions + outputShape, using: &generator)
      let reverse = checkVJP(of: { Self.loss($0, x: x, directions: v, weights: w, form) }, at: [s, b])
      XCTAssertTrue(reverse.passed, "\(form.name): \(reverse)")
      let forward = checkJVP(
        of: { matmul($0[0], $0[1], transposingA: form.transposingA, transposingB: form.transposingB) }, at: [x, b])
      XCTAssertTrue(forward.passed, "\(form.name): \(forward)")
    }
  }
}
