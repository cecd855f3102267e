@testable import FlowTensor
import XCTest
import _TestSupport

/// The vectorised `Float` kernels of the mixture-CDF transform
/// (`_FlowKernels/MixtureCDF.c`) against the scalar log-space path (the
/// one `Double` takes, and `Float` with the kernels forced off) and against
/// mpmath in the tails.
final class MixtureCDFKernelsTests: XCTestCase {
  override func tearDown() { ElementwiseKernels.forcePortable(false) }

  private struct Fixture: Decodable {
    let z, logits, means, logScales, output, logDerivative: FixtureTensor
  }

  /// The transform and the cotangents of all four operands (for the
  /// cotangents `outputWeight` on u and `logWeight` on log u′), on the
  /// vectorised path or, with `portable`, the scalar one.
  private func evaluate(
    _ operands: [Tensor<Float>], outputWeight: Tensor<Float>, logWeight: Tensor<Float>, portable: Bool
  ) -> (output: Tensor<Float>, logDerivative: Tensor<Float>, gradients: [Tensor<Float>]) {
    ElementwiseKernels.forcePortable(portable)
    defer { ElementwiseKernels.forcePortable(false) }
    let (u, logDerivative) = mixtureCDFTransform(
      operands[0], logits: operands[1], means: operands[2], logScales: operands[3])
    let (_, gradients) = valueWithGradient(at: operands) { p in
      let (u, logDerivative) = mixtureCDFTransform(p[0], logits: p[1], means: p[2], logScales: p[3])
      return (u * outputWeight + logDerivative * logWeight).sum()
    }
    return (u, logDerivative, gradients)
  }

  /// Component counts around the vector width (1, 3, 4, 5, 8, 27), random
  /// mixtures with z in the bulk and out to the tails, broadcast
  /// parameters: values within 2 `Float` ulps of the scalar path, and the
  /// cotangents of z, logits, means and log-scales within 1e-5 of their
  /// largest magnitude or 1 (both paths round u to `Float` before the
  /// pullback, and may round it differently).
  /// (Without AVX2+FMA both sides are the scalar path.)
  func testKernelMatchesScalarPath() {
    var generator = SeededGenerator(seed: 21)
    for components in [1, 3, 4, 5, 8, 27] {
      let shape = [6, 37]
      let z = Tensor<Float>.randomNormal(shape: shape, using: &generator) * 4
      let logits = Tensor<Float>.randomNormal(shape: shape + [components], using: &generator) * 1.5
      let means = Tensor<Float>.randomNormal(shape: [37, components], using: &generator) * 2
      let logScales = Tensor<Float>.randomNormal(shape: [components], using: &generator) * 0.5
      let operands = [z, logits, means, logScales]
      let outputWeight = Tensor<Float>.randomNormal(shape: shape, using: &generator)
      let logWeight = Tensor<Float>.randomNormal(shape: shape, using: &generator)
      let fast = evaluate(operands, outputWeight: outputWeight, logWeight: logWeight, portable: false)
      let reference = evaluate(operands, outputWeight: outputWeight, logWeight: logWeight, portable: true)
      let context = "\(components) components"
      assertClose(fast.output, reference.output, absolute: 2.4e-7, relative: 2.4e-7, "u, \(context)")
      assertClose(fast.logDerivative, reference.logDerivative, absolute: 2.4e-7, relative: 2.4e-7, "log u′, \(context)")
      for (index, name) in ["z", "logits", "means", "logScales"].enumerated() {
        let expected = reference.gradients[index]
        XCTAssertEqual(fast.gradients[index].shape, expected.shape, "\(name), \(context)")
        // At least 1: one component's logit cotangent is 0 up to rounding.
        let largest = Swift.max(1, expected.scalars.map(abs).max() ?? 0)
        assertClose(
          fast.gradients[index], expected, absolute: 1e-5 * largest, relative: 1e-5, "∂/∂\(name), \(context)")
      }
    }
  }

  /// Against mpmath (make_mixture_cdf_tail_fixtures.py, float32-exact
  /// inputs): u swept through ±11.3, where the kernel hands elements to the
  /// scalar path, out to ±20; a component 40 scales away, beyond the
  /// kernel's erfc fit; z between components 60 scales apart, where the
  /// density (e^−1500) is far below double's range. `Float` within 2 ulps
  /// of the exact values (the inputs are the same), `Double` within 1e-12.
  func testTailsMatchHighPrecisionValues() throws {
    let fixture = try Fixtures.load(Fixture.self, named: "mixture_cdf_tails.json")
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let (u, logDerivative) = mixtureCDFTransform(
        fixture.z.tensor(Scalar.self), logits: fixture.logits.tensor(), means: fixture.means.tensor(),
        logScales: fixture.logScales.tensor())
      assertClose(u, fixture.output.tensor(), absolute: tolerance, relative: tolerance, "u")
      assertClose(logDerivative, fixture.logDerivative.tensor(), absolute: tolerance, relative: tolerance, "log u′")
    }
    check(Float.self, tolerance: 2.4e-7)
    check(Double.self, tolerance: 1e-12)
  }

  /// NaN inputs, −∞ logits (zero weights) and an empty batch behave as on
  /// the scalar path, element for element.
  func testNonFiniteAndEmptyInputsMatchScalarPath() {
    let z = Tensor<Float>([.nan, 0.5, -1, 2, 0.25, .infinity])
    let logits = Tensor<Float>([
      [0, 1, -1, 0.5, 0], [-.infinity, 0, 0.3, -.infinity, 1], [.nan, 0, 0, 0, 0],
      [0, 0, 0, 0, .infinity], [-.infinity, -.infinity, -.infinity, -.infinity, 0], [0, 0, 0, 0, 0],
    ])
    let means = Tensor<Float>([-1, 0, 0.5, 1, 2])
    let logScales = Tensor<Float>([0, 0.2, -0.3, 0.1, 0])
    let fast = mixtureCDFTransform(z, logits: logits, means: means, logScales: logScales)
    ElementwiseKernels.forcePortable(true)
    let reference = mixtureCDFTransform(z, logits: logits, means: means, logScales: logScales)
    ElementwiseKernels.forcePortable(false)
    for (actual, expected) in [(fast.output, reference.output), (fast.logDerivative, reference.logDerivative)] {
      for (a, e) in zip(actual.scalars, expected.scalars) {
        if e.isNaN {
          XCTAssertTrue(a.isNaN, "\(actual.scalars) against \(expected.scalars)")
        } else {
          assertClose(a, e, absolute: 2.4e-7, relative: 2.4e-7, "\(actual.scalars) against \(expected.scalars)")
        }
      }
    }
    let empty = mixtureCDFTransform(
      Tensor<Float>.zeros(shape: [0, 3]), logits: Tensor.zeros(shape: [0, 3, 5]), means: means, logScales: logScales)
    XCTAssertEqual(empty.output.shape, [0, 3])
    XCTAssertEqual(empty.logDerivative.shape, [0, 3])
  }
}
