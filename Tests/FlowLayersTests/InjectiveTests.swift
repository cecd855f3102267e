import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

final class InjectiveTests: XCTestCase {
  /// Padding [z0, z1] to [z0, z1, 0, 0] then permuting by [2, 0, 3, 1]
  /// gives [0, z0, 0, z1]; projecting reads positions 1 and 3 back.
  func testZeroPaddingPlacesTheLatentWhereThePermutationSays() {
    check(Float.self)
    check(Double.self)

    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let padding = ZeroPadding<Scalar>(latentSize: 2, indices: [2, 0, 3, 1])
      XCTAssertEqual(padding.latentPositions, [1, 3])
      XCTAssertEqual(padding.ambientSize, 4)
      let z = Tensor<Scalar>([[1, 2], [-3, 5], [0.5, 0]])
      let x = padding.embed(z)
      assertIdentical(x, Tensor([[0, 1, 0, 2], [0, -3, 0, 5], [0, 0.5, 0, 0]]))
      assertIdentical(padding.project(x), z)
      assertIdentical(padding.project(Tensor([[9, 1, 8, 2]])), Tensor([[1, 2]]))
      assertIdentical(padding.logGramDeterminant(at: z)!, Tensor.zeros(shape: [3]))
      // The Jacobian is the selection matrix: column j has a 1 at latentPositions[j].
      let (output, jacobian) = padding.jacobian(at: z)
      assertIdentical(output, x)
      XCTAssertEqual(jacobian.shape, [3, 4, 2])
      let selection: [[Scalar]] = [[0, 0], [1, 0], [0, 0], [0, 1]]
      for sample in 0..<3 {
        assertIdentical(
          jacobian.sliced(alongAxis: 0, from: sample, to: sample + 1),
          Tensor(shape: [1, 4, 2], scalars: selection.flatMap { $0 }))
      }
      XCTAssertTrue(padding.parameters.isEmpty)
    }
  }

  /// d = D (a pure permutation) and d = 0 (all zeros) are valid corners; a
  /// seeded random padding is reproducible.
  func testZeroPaddingCornersAndSeededPermutation() {
    let square = ZeroPadding<Double>(latentSize: 3, indices: [1, 2, 0])
    let z = Tensor<Double>([[4, 5, 6]])
    assertIdentical(square.embed(z), Tensor([[5, 6, 4]]))
    assertIdentical(square.project(square.embed(z)), z)
    let empty = ZeroPadding<Double>(latentSize: 0, indices: [0, 1])
    assertIdentical(empty.embed(Tensor.zeros(shape: [2, 0])), Tensor.zeros(shape: [2, 2]))
    var first = SeededGenerator(seed: 4)
    var second = SeededGenerator(seed: 4)
    let a = ZeroPadding<Float>(latentSize: 2, ambientSize: 7, using: &first)
    let b = ZeroPadding<Float>(latentSize: 2, ambientSize: 7, using: &second)
    XCTAssertEqual(a.indices, b.indices)
    XCTAssertEqual(a.indices.sorted(), Array(0..<7))
  }

  /// embed's single op gives the scalars of padding then permuting, for a
  /// batch and for tangents with two leading batch axes (the map is linear,
  /// so each direction's tangent is its embedding).
  func testZeroPaddingEmbedIsPaddingThenPermutingAndCarriesBatchedTangents() {
    check(Float.self)
    check(Double.self)

    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 21)
      for (latent, ambient) in [(3, 7), (1, 2), (4, 4), (0, 3)] {
        let padding = ZeroPadding<Scalar>(latentSize: latent, ambientSize: ambient, using: &generator)
        for batch in [5, 1, 0] {
          let z = Tensor<Scalar>.randomNormal(shape: [batch, latent], using: &generator)
          let reference = z.padded(with: [(0, 0), (0, ambient - latent)]).gathering(atIndices: padding.indices, alongAxis: 1)
          assertIdentical(padding.embed(z), reference, "d = \(latent), D = \(ambient), batch \(batch)")
          let v = Tensor<Scalar>.randomNormal(shape: [2, 3, batch, latent], using: &generator)
          let (value, tangent) = jvp(of: { padding.embed($0) }, at: z, along: v)
          assertIdentical(value, reference)
          XCTAssertEqual(tangent.shape, [2, 3, batch, ambient])
          let flat = v.reshaped(to: [6, batch, latent])
          for direction in 0..<6 {
            let single = flat.sliced(alongAxis: 0, from: direction, to: direction + 1).reshaped(to: [batch, latent])
            assertIdentical(
              tangent.reshaped(to: [6, batch, ambient]).sliced(alongAxis: 0, from: direction, to: direction + 1)
                .reshaped(to: [batch, ambient]),
              padding.embed(single), "direction \(direction)")
          }
        }
      }
    }
  }

  /// embed's reverse and forward rules against central differences, and the
  /// reverse rule of its tangent (reverse-over-forward: the tangent of
  /// embed(exp(z)) depends on z).
  func testZeroPaddingEmbedDerivativesMatchCentralDifferences() {
    var generator = SeededGenerator(seed: 22)
    let padding = ZeroPadding<Double>(latentSize: 3, ambientSize: 6, using: &generator)
    let z = Tensor<Double>.randomNormal(shape: [4, 3], using: &generator)
    let reverse = checkVJP(of: { padding.embed($0[0]) }, at: [z])
    XCTAssertTrue(reverse.passed, "\(reverse)")
    let forward = checkJVP(of: { padding.embed($0[0]) }, at: [z])
    XCTAssertTrue(forward.passed, "\(forward)")
    let v = Tensor<Double>.randomNormal(shape: [2, 4, 3], using: &generator)
    let w = Tensor<Double>.randomNormal(shape: [2, 4, 6], using: &generator)
    let overForward = checkVJP(
      of: { point in
        let (_, tangent) = jvp(of: { padding.embed(exp($0)) }, at: point[0], along: v)
        return (tangent * w).sum()
      }, at: [z])
    XCTAssertTrue(overForward.passed, "\(overForward)")
  }

  /// The transposed Jacobian is the Jacobian with its last two axes
  /// swapped, scalar for scalar, and gives the same JᵀJ up to rounding.
  func testTransposedJacobianIsTheJacobianTransposed() {
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-13)

    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      for (latent, ambient) in [(1, 2), (2, 5), (4, 4)] {
        let g = randomComposition(Scalar.self, latentSize: latent, ambientSize: ambient, seed: UInt64(latent + 3 * ambient))
        var generator = SeededGenerator(seed: 23)
        let z = Tensor<Scalar>.randomNormal(shape: [3, latent], using: &generator)
        let (output, jacobian) = g.jacobian(at: z)
        let (transposedOutput, transposed) = g.transposedJacobian(at: z)
        assertIdentical(transposedOutput, output)
        XCTAssertEqual(transposed.shape, [3, latent, ambient])
        assertIdentical(transposed, jacobian.transposed(permutation: [0, 2, 1]))
        assertClose(
          matmul(transposed, transposed, transposingB: true), matmul(jacobian, jacobian, transposingA: true),
          absolute: tolerance, relative: tolerance)
      }
    }
  }

  /// g = f⁻¹ ∘ pad with f a RealNVP whose parameters are all random:
  /// g†(g(z)) = z, and the batched-JVP Jacobian equals central differences.
  func testCompositionIsLeftInvertedAndItsJacobianMatchesCentralDifferences() {
    checkRoundTrip(Float.self, tolerance: 1e-5)
    checkRoundTrip(Double.self, tolerance: 1e-12)

    func checkRoundTrip<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Double) {
      for (latent, ambient) in [(1, 2), (2, 3), (2, 5)] {
        let g = randomComposition(Scalar.self, latentSize: latent, ambientSize: ambient, seed: UInt64(10 * latent + ambient))
        var generator = SeededGenerator(seed: 99)
        let z = Tensor<Scalar>.randomNormal(shape: [4, latent], using: &generator)
        let x = g.embed(z)
        XCTAssertEqual(x.shape, [4, ambient])
        assertClose(g.project(x), z, absolute: Scalar(tolerance), relative: Scalar(tolerance))
        assertClose(g.reconstruct(x), x, absolute: Scalar(tolerance * 10), relative: Scalar(tolerance * 10))
      }
    }

    for (latent, ambient) in [(1, 2), (2, 3), (3, 4)] {
      let g = randomComposition(Double.self, latentSize: latent, ambientSize: ambient, seed: 7)
      var generator = SeededGenerator(seed: 5)
      let z = Tensor<Double>.randomNormal(shape: [3, latent], using: &generator)
      let (output, jacobian) = g.jacobian(at: z)
      assertClose(output, g.embed(z), absolute: 1e-14)
      let step = 1e-6
      for column in 0..<latent {
        var offset = [Double](repeating: 0, count: latent)
        offset[column] = step
        let shift = Tensor(shape: [1, latent], scalars: offset)
        let difference = (g.embed(z + shift) - g.embed(z - shift)) / (2 * step)
        let computed = jacobian.sliced(alongAxis: 2, from: column, to: column + 1).reshaped(to: [3, ambient])
        assertClose(computed, difference, absolute: 1e-8, relative: 1e-7)
      }
    }
  }

  /// Parameters are named through the composition.
  func testCompositionParameterNames() {
    let g = randomComposition(Double.self, latentSize: 1, ambientSize: 2, seed: 1)
    XCTAssertTrue(g.parameters.allSatisfy { $0.name.hasPrefix("transform.layers.") }, "\(g.parameters.map(\.name))")
    XCTAssertEqual(g.latentSize, 1)
    XCTAssertEqual(g.ambientSize, 2)
    XCTAssertNil(g.logGramDeterminant(at: Tensor.zeros(shape: [1, 1])))
  }

  /// Two affine couplings with tanh MLPs on R^D after a seeded padding, every
  /// parameter drawn at random so that no layer is the identity.
  private func randomComposition<Scalar: TensorScalar>(
    _: Scalar.Type, latentSize: Int, ambientSize: Int, seed: UInt64
  ) -> InjectiveComposition<ZeroPadding<Scalar>, Chain<Scalar>> {
    var generator = SeededGenerator(seed: seed)
    let padding = ZeroPadding<Scalar>(latentSize: latentSize, ambientSize: ambientSize, using: &generator)
    var f = Chain<Scalar>([
      AffineCoupling<MLP<Scalar>>(
        features: ambientSize, hiddenSizes: [5], mask: .channelHalf, scale: .softClamp(bound: 2), activation: .tanh,
        using: &generator),
      AffineCoupling<MLP<Scalar>>(
        features: ambientSize, hiddenSizes: [5], mask: CouplingMask.channelHalf.swapped, scale: .softClamp(bound: 2),
        activation: .tanh, using: &generator),
    ])
    f.updateParameters { _, parameter in
      parameter = Tensor.randomNormal(shape: parameter.shape, standardDeviation: 0.5, using: &generator)
    }
    return InjectiveComposition(injection: padding, transform: f)
  }
}
