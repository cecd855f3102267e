import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

final class SqueezeTests: XCTestCase {
  /// x[0, 0, y, x] = 4y + x squeezes to output[0, 2dy + dx, i, j] = x[2i + dy, 2j + dx]:
  /// channel 0 holds the top-left corners of the 2×2 blocks, 1 the
  /// top-right, 2 the bottom-left, 3 the bottom-right.
  func testHandBuiltExample() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let x = Tensor<Scalar>(shape: [1, 1, 4, 4], scalars: (0..<16).map { Scalar($0) })
      let expected = Tensor<Scalar>(
        shape: [1, 4, 2, 2],
        scalars: [
          0, 2, 8, 10,
          1, 3, 9, 11,
          4, 6, 12, 14,
          5, 7, 13, 15,
        ])
      let (y, logDeterminant) = Squeeze<Scalar>().forward(x)
      assertClose(y, expected)
      assertClose(logDeterminant, Tensor<Scalar>.zeros(shape: [1]))
      let (back, inverseLogDeterminant) = Squeeze<Scalar>().inverse(y)
      assertClose(back, x)
      assertClose(inverseLogDeterminant, Tensor<Scalar>.zeros(shape: [1]))
    }
    check(Float.self)
    check(Double.self)
  }

  /// Several samples and channels, a non-square image: every element lands
  /// at `[b, 4c + 2dy + dx, i, j]`, checked by an index loop.
  func testChannelOrderingAgainstAnIndexLoop() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 7)
      let (batch, channels, height, width) = (3, 2, 4, 6)
      let x = Tensor<Scalar>.randomNormal(shape: [batch, channels, height, width], using: &generator)
      var expected = [Scalar]()
      for b in 0..<batch {
        for c in 0..<channels {
          for dy in 0..<2 {
            for dx in 0..<2 {
              for i in 0..<(height / 2) {
                for j in 0..<(width / 2) { expected.append(x[b, c, 2 * i + dy, 2 * j + dx]) }
              }
            }
          }
        }
      }
      let y = Squeeze<Scalar>().forward(x).output
      assertClose(y, Tensor(shape: [batch, 4 * channels, height / 2, width / 2], scalars: expected))
      XCTAssertEqual(Squeeze<Scalar>().inverse(y).output.scalars, x.scalars)
    }
    check(Float.self)
    check(Double.self)
  }

  /// Unsqueeze is Squeeze run backwards, and Inverse(Squeeze) is Unsqueeze.
  func testUnsqueezeIsTheInverseOfSqueeze() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 8)
      let y = Tensor<Scalar>.randomNormal(shape: [2, 8, 3, 1], using: &generator)
      let (x, logDeterminant) = Unsqueeze<Scalar>().forward(y)
      XCTAssertEqual(x.shape, [2, 2, 6, 2])
      XCTAssertEqual(x.scalars, Squeeze<Scalar>().inverse(y).output.scalars)
      XCTAssertEqual(x.scalars, Inverse(Squeeze<Scalar>()).forward(y).output.scalars)
      assertClose(logDeterminant, Tensor<Scalar>.zeros(shape: [2]))
      XCTAssertEqual(Unsqueeze<Scalar>().inverse(x).output.scalars, y.scalars)
      XCTAssertEqual(Squeeze<Scalar>().forward(x).output.scalars, y.scalars)
    }
    check(Float.self)
    check(Double.self)
  }

  /// An empty batch and 2×2 images (squeezed to single pixels).
  func testEdgeShapes() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let (empty, emptyLogDeterminant) = Squeeze<Scalar>().forward(Tensor<Scalar>.zeros(shape: [0, 3, 2, 2]))
      XCTAssertEqual(empty.shape, [0, 12, 1, 1])
      XCTAssertEqual(emptyLogDeterminant.shape, [0])
      XCTAssertEqual(Unsqueeze<Scalar>().forward(empty).output.shape, [0, 3, 2, 2])

      let x = Tensor<Scalar>(shape: [2, 1, 2, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8])
      let y = Squeeze<Scalar>().forward(x).output
      // One channel of 2×2 becomes four channels of one pixel, in reading order.
      XCTAssertEqual(y.shape, [2, 4, 1, 1])
      XCTAssertEqual(y.scalars, x.scalars)
    }
    check(Float.self)
    check(Double.self)
  }

  /// The derivative of a permutation is that permutation: the pullback of a
  /// squeeze unsqueezes the cotangent, and the tangent is squeezed.
  func testDerivativesArePermutations() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 9)
      let x = Tensor<Scalar>.randomNormal(shape: [2, 3, 4, 2], using: &generator)
      let cotangent = Tensor<Scalar>.randomNormal(shape: [2, 12, 2, 1], using: &generator)
      let (_, pullback) = vjp(of: { Squeeze<Scalar>().forward($0).output }, at: x)
      XCTAssertEqual(pullback(cotangent).scalars, Unsqueeze<Scalar>().forward(cotangent).output.scalars)
      let direction = Tensor<Scalar>.randomNormal(shape: x.shape, using: &generator)
      let (_, tangent) = jvp(of: { Squeeze<Scalar>().forward($0).output }, at: x, along: direction)
      XCTAssertEqual(tangent.scalars, Squeeze<Scalar>().forward(direction).output.scalars)
    }
    check(Float.self)
    check(Double.self)
  }
}
