import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

/// Runs every registered bijector through the conformance suite.
final class ConformanceTests: XCTestCase {
  func testEveryRegisteredBijectorConformsInDouble() {
    XCTAssertFalse(ConformanceRegistry.all.isEmpty)
    for (index, entry) in ConformanceRegistry.all.enumerated() {
      var generator = SeededGenerator(seed: UInt64(index))
      let bijector = entry.double(&generator)
      let report = checkBijector(bijector, input: entry.input(Double.self, seed: UInt64(100 + index)), options: entry.options)
      XCTAssertTrue(report.passed, "\(entry.name):\n\(report)")
    }
  }

  func testEveryRegisteredBijectorRoundTripsInFloat() {
    for (index, entry) in ConformanceRegistry.all.enumerated() {
      var generator = SeededGenerator(seed: UInt64(index))
      let bijector = entry.float(&generator)
      let report = checkBijectorRoundTrip(bijector, input: entry.input(Float.self, seed: UInt64(100 + index)))
      XCTAssertTrue(report.passed, "\(entry.name):\n\(report)")
    }
  }

  /// The suite is not a formality: a bijector whose log-determinant is off
  /// by 1e-6, or whose inverse is off, or whose batch depends on other
  /// samples, is rejected, each with a message saying which check failed.
  func testTheSuiteRejectsWrongBijectors() {
    var generator = SeededGenerator(seed: 1)
    var wrong = DiagonalAffine<Double>(size: 3, using: &generator)
    wrong.logDeterminantError = 1e-6
    let input = Tensor<Double>.randomNormal(shape: [4, 3], using: &generator)
    let report = checkBijector(wrong, input: input)
    XCTAssertFalse(report.passed)
    XCTAssertTrue(report.failures.contains { $0.contains("log|det J|") }, "\(report)")
    XCTAssertEqual(report.worstLogDeterminantError, 1e-6, accuracy: 1e-9)

    let right = DiagonalAffine<Double>(size: 3, using: &generator)
    XCTAssertTrue(checkBijector(right, input: input).passed)

    let noisyInverse = BrokenInverse(base: right)
    let inverseReport = checkBijector(noisyInverse, input: input)
    XCTAssertTrue(inverseReport.failures.contains { $0.contains("round trip") }, "\(inverseReport)")

    let coupled = BatchCoupled(base: right)
    let batchReport = checkBijector(coupled, input: input)
    XCTAssertTrue(batchReport.failures.contains { $0.contains("alone it gives") }, "\(batchReport)")
  }

  func testFloatRoundTripCheckRejectsABrokenInverse() {
    var generator = SeededGenerator(seed: 2)
    let broken = BrokenInverse(base: DiagonalAffine<Float>(size: 3, using: &generator))
    let report = checkBijectorRoundTrip(broken, input: Tensor<Float>.randomNormal(shape: [2, 3], using: &generator))
    XCTAssertFalse(report.passed)
  }
}

/// A bijector whose inverse is slightly wrong.
private struct BrokenInverse<Scalar: TensorScalar>: Bijector {
  var base: DiagonalAffine<Scalar>
  func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) { base.forward(x) }
  func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let (x, logDeterminant) = base.inverse(y)
    return (x * Scalar(1.001), logDeterminant)
  }
  mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) { visitor.visit("base", &base) }
}

/// A bijector whose output for one sample depends on the others (the batch mean).
private struct BatchCoupled<Scalar: TensorScalar>: Bijector {
  var base: DiagonalAffine<Scalar>
  func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let (y, logDeterminant) = base.forward(x)
    return (y + stopGradient(x.mean()), logDeterminant)
  }
  func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) { base.inverse(y) }
  mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) { visitor.visit("base", &base) }
}
