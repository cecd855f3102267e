import FlowTensor
import XCTest
import _TestSupport

/// Fan-ins add their cotangents, in place where a buffer is the sum's
/// alone, without touching buffers that others hold (the seed, a cotangent
/// passed to two inputs, a returned gradient).
final class CotangentAccumulationTests: XCTestCase {
  /// y = x + x + exp(x)·x + 2x: four consumers of x, two of them sharing
  /// one cotangent buffer (the sum's pullback passes the same one to both).
  func testManyConsumersByHand() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let x = Tensor<Scalar>([0.5, -1, 2])
      let seed = Tensor<Scalar>([1, 2, -3])
      let seedCopy = Tensor<Scalar>(shape: seed.shape, scalars: seed.scalars)
      let leaf = x.requiringGradient()
      let y = leaf + leaf + exp(leaf) * leaf + leaf * 2
      let gradient = FlowTensor.gradient(of: y, withRespectTo: [leaf], seed: seed)[0]
      // dy/dx = 1 + 1 + eˣ(1 + x) + 2.
      let expected = Tensor<Scalar>(x.scalars.enumerated().map { index, value in
        seed.scalars[index] * (4 + Scalar.exp(value) * (1 + value))
      })
      assertClose(gradient, expected, absolute: tolerance, relative: tolerance)
      XCTAssertEqual(seed, seedCopy, "the caller's seed is never written")
    }
    check(Float.self, tolerance: 1e-6)
    check(Double.self, tolerance: 1e-14)
  }

  /// An input used by both branches of a sum whose cotangent is the seed
  /// itself: the seed reaches x twice and is summed into a new buffer.
  func testSeedPassedThroughTwiceIsNotOverwritten() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let seed = Tensor<Scalar>([1, 2])
      let leaf = Tensor<Scalar>([3, 4]).requiringGradient()
      let gradient = FlowTensor.gradient(of: leaf + leaf, withRespectTo: [leaf], seed: seed)[0]
      XCTAssertEqual(gradient, Tensor([2, 4]))
      XCTAssertEqual(seed, Tensor([1, 2]))
    }
    check(Float.self)
    check(Double.self)
  }

  /// A large fan-in (split across cores) against the sum of its parts.
  func testLargeFanInMatchesTheSumOfItsParts() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 31)
      let x = Tensor<Scalar>.randomNormal(shape: [300, 200], using: &generator)
      let weights = (0..<3).map { _ in Tensor<Scalar>.randomNormal(shape: [300, 200], using: &generator) }
      let (_, gradient) = valueWithGradient(at: x) { x in
        (x * weights[0]).sum() + (x * weights[1]).sum() + (square(x) * weights[2]).sum()
      }
      assertClose(gradient, weights[0] + weights[1] + 2 * x * weights[2], absolute: tolerance, relative: tolerance)
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-13)
  }
}
