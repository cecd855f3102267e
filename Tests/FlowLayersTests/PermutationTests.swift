import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

final class PermutationTests: XCTestCase {
  func testPermutationMovesFeaturesAndInverts() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let layer = Permutation<Scalar>(indices: [2, 0, 1])
      XCTAssertEqual(layer.inverseIndices, [1, 2, 0])
      let x = Tensor<Scalar>([[10, 20, 30], [1, 2, 3]])
      let (y, logDeterminant) = layer.forward(x)
      assertIdentical(y, Tensor([[30, 10, 20], [3, 1, 2]]))
      assertIdentical(logDeterminant, Tensor.zeros(shape: [2]))
      let (back, inverseLogDeterminant) = layer.inverse(y)
      assertIdentical(back, x)
      assertIdentical(inverseLogDeterminant, Tensor.zeros(shape: [2]))
      XCTAssertTrue(layer.parameters.isEmpty)
    }
    check(Double.self)
    check(Float.self)
  }

  func testReversePermutation() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let layer = ReversePermutation<Scalar>()
      let x = Tensor<Scalar>([[1, 2, 3, 4], [5, 6, 7, 8]])
      assertIdentical(layer.forward(x).output, Tensor([[4, 3, 2, 1], [8, 7, 6, 5]]))
      assertIdentical(layer.inverse(layer.forward(x).output).output, x)
      // One feature, and an empty batch.
      let single = Tensor<Scalar>([[7], [8]])
      assertIdentical(layer.forward(single).output, single)
      let empty = layer.forward(Tensor<Scalar>.zeros(shape: [0, 3]))
      XCTAssertEqual(empty.output.shape, [0, 3])
      XCTAssertEqual(empty.logDeterminant.shape, [0])
    }
    check(Double.self)
    check(Float.self)
  }

  /// Channels move as wholes: every pixel of output channel i comes from
  /// input channel `indices[i]`.
  func testChannelPermutation() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      // Channel c of the single image holds [2c + 1, 2c + 2].
      let x = Tensor<Scalar>(shape: [1, 3, 1, 2], scalars: [1, 2, 3, 4, 5, 6])
      let shuffle = ChannelPermutation<Scalar>(indices: [1, 2, 0])
      let (y, logDeterminant) = shuffle.forward(x)
      assertIdentical(y, Tensor(shape: [1, 3, 1, 2], scalars: [3, 4, 5, 6, 1, 2]))
      assertIdentical(logDeterminant, Tensor.zeros(shape: [1]))
      assertIdentical(shuffle.inverse(y).output, x)
      let reverse = ChannelPermutation<Scalar>(reversingChannels: 3)
      XCTAssertEqual(reverse.indices, [2, 1, 0])
      assertIdentical(reverse.forward(x).output, Tensor(shape: [1, 3, 1, 2], scalars: [5, 6, 3, 4, 1, 2]))
      assertIdentical(reverse.inverse(reverse.forward(x).output).output, x)
    }
    check(Double.self)
    check(Float.self)
  }

  /// A seed fixes the permutation, in both precisions and both spellings;
  /// the result is a permutation and different seeds give different ones.
  func testSeededPermutationsAreReproducible() {
    var generator = SeededGenerator(seed: 42)
    let drawn = Permutation<Double>(features: 10, using: &generator)
    XCTAssertEqual(Permutation<Double>(features: 10, seed: 42).indices, drawn.indices)
    XCTAssertEqual(Permutation<Float>(features: 10, seed: 42).indices, drawn.indices)
    XCTAssertEqual(drawn.indices.sorted(), Array(0..<10))
    XCTAssertNotEqual(Permutation<Double>(features: 10, seed: 43).indices, drawn.indices)
    XCTAssertEqual(ChannelPermutation<Double>(channels: 10, seed: 42).indices, drawn.indices)
    for index in 0..<10 { XCTAssertEqual(drawn.inverseIndices[drawn.indices[index]], index) }
    XCTAssertEqual(Permutation<Double>(features: 0, seed: 1).indices, [])
    XCTAssertEqual(Permutation<Double>(features: 1, seed: 1).indices, [0])
  }

  /// The shuffle is uniform: 60000 draws of a permutation of 3 give each
  /// of the 6 about 10000 times (binomial standard deviation ≈ 91; the
  /// bounds are 5 of them). The classic mistake of swapping each position
  /// with any position would give 8889 or 11111 for some of them and fail.
  func testRandomPermutationsAreUniform() {
    var generator = SeededGenerator(seed: 5)
    var counts: [[Int]: Int] = [:]
    for _ in 0..<60000 { counts[Permutation<Double>(features: 3, using: &generator).indices, default: 0] += 1 }
    XCTAssertEqual(counts.count, 6)
    for (permutation, count) in counts {
      XCTAssertTrue((9545...10455).contains(count), "\(permutation) drawn \(count) times")
    }
  }

  /// Gathering is differentiable: the derivatives of both directions of the
  /// feature and channel permutations match central differences.
  func testDerivativesOfBothDirections() {
    var generator = SeededGenerator(seed: 9)
    let flat = Tensor<Double>.randomNormal(shape: [2, 5], using: &generator)
    let imagesBatch = Tensor<Double>.randomNormal(shape: [2, 4, 2, 3], using: &generator)
    let permutation = Permutation<Double>(features: 5, using: &generator)
    let channels = ChannelPermutation<Double>(channels: 4, using: &generator)
    let bodies: [(String, ([Tensor<Double>]) -> Tensor<Double>, Tensor<Double>)] = [
      ("Permutation.forward", { permutation.forward($0[0]).output }, flat),
      ("Permutation.inverse", { permutation.inverse($0[0]).output }, flat),
      ("ReversePermutation.forward", { ReversePermutation().forward($0[0]).output }, flat),
      ("ChannelPermutation.forward", { channels.forward($0[0]).output }, imagesBatch),
      ("ChannelPermutation.inverse", { channels.inverse($0[0]).output }, imagesBatch),
    ]
    for (name, body, input) in bodies {
      let reverse = checkVJP(of: body, at: [input])
      XCTAssertTrue(reverse.passed, "\(name): \(reverse)")
      let forward = checkJVP(of: body, at: [input])
      XCTAssertTrue(forward.passed, "\(name): \(forward)")
    }
  }
}
