import FlowLayers
import FlowModels
import FlowTensor
import XCTest
import _TestSupport

final class RectangularFlowTests: XCTestCase {
  /// A small flat rectangular flow whose every parameter is random, so that
  /// no coupling is the identity.
  private func randomModel<Scalar: TensorScalar>(
    _: Scalar.Type, latentSize: Int, ambientSize: Int, seed: UInt64, scale: Double = 0.4
  ) -> RealNVPRectangularFlow<Scalar> {
    var model = RealNVPRectangularFlow<Scalar>(
      configuration: RectangularFlowConfiguration(
        ambientSize: ambientSize, latentSize: latentSize, couplingLayers: 2, hiddenSizes: [4],
        priorCouplingLayers: 1, priorHiddenSizes: [3], seed: seed))
    var generator = SeededGenerator(seed: seed &+ 1000)
    model.updateParameters { _, parameter in
      parameter = Tensor.randomNormal(shape: parameter.shape, standardDeviation: Scalar(scale), using: &generator)
    }
    return model
  }

  /// log det(JᵀJ) from the batched JVP and Cholesky equals the log of the
  /// Gram determinant of a central-difference Jacobian, computed here by
  /// Gaussian elimination on plain arrays.
  func testExactLogGramDeterminantMatchesCentralDifferences() throws {
    for (latent, ambient, seed) in [(1, 2, 1), (2, 3, 2), (2, 5, 3), (3, 4, 4)] as [(Int, Int, UInt64)] {
      let model = randomModel(Double.self, latentSize: latent, ambientSize: ambient, seed: seed)
      var generator = SeededGenerator(seed: seed &+ 50)
      let x = Tensor<Double>.randomNormal(shape: [3, ambient], using: &generator)
      let terms = try model.densityTerms(x)
      XCTAssertEqual(terms.jitter, 0)
      let z = model.injection.project(x)
      assertClose(terms.latent, z, absolute: 1e-14)
      let step = 1e-5
      var columns: [Tensor<Double>] = []
      for column in 0..<latent {
        var offset = [Double](repeating: 0, count: latent)
        offset[column] = step
        let shift = Tensor(shape: [1, latent], scalars: offset)
        columns.append((model.injection.embed(z + shift) - model.injection.embed(z - shift)) / (2 * step))
      }
      for sample in 0..<3 {
        let jacobian = columns.map { column in (0..<ambient).map { column[sample, $0] } }  // d rows of D
        let gram = (0..<latent).map { i in
          (0..<latent).map { j in zip(jacobian[i], jacobian[j]).reduce(0) { $0 + $1.0 * $1.1 } }
        }
        let expected = Double.log(determinant(gram))
        XCTAssertEqual(
          terms.logGramDeterminant[sample], expected, accuracy: 1e-7 * max(1, abs(expected)),
          "d = \(latent), D = \(ambient), sample \(sample)")
        XCTAssertEqual(
          terms.logProbability[sample], terms.priorLogProbability[sample] - 0.5 * expected, accuracy: 1e-7)
      }
      XCTAssertEqual(try model.logProbability(x).scalars, terms.logProbability.scalars)
    }
  }

  /// The parameter gradient of the exact loss (reverse mode through the
  /// forward-mode Jacobian) equals central differences of the loss, for
  /// every parameter.
  func testExactLossGradientMatchesFiniteDifferences() throws {
    let model = randomModel(Double.self, latentSize: 2, ambientSize: 3, seed: 11)
    var generator = SeededGenerator(seed: 12)
    let x = Tensor<Double>.randomNormal(shape: [4, 3], using: &generator)
    let objective = RectangularFlowObjective(estimator: .exact, reconstructionWeight: 3)
    func loss(_ model: RealNVPRectangularFlow<Double>) throws -> Tensor<Double> {
      var unused = SeededGenerator(seed: 0)
      return try model.loss(on: x, objective: objective, step: 0, using: &unused).value
    }
    let (value, gradients) = try valueWithGradient(at: model) { try loss($0) }
    XCTAssertEqual(value.scalar, try loss(model).scalar, accuracy: 1e-12)
    let step = 1e-6
    var checked = 0
    var largest = 0.0
    for (name, parameter) in model.parameters {
      for index in 0..<parameter.scalarCount {
        func shifted(_ delta: Double) throws -> Double {
          var copy = model
          copy.updateParameters { other, value in
            guard other == name else { return }
            var scalars = value.scalars
            scalars[index] += delta
            value = Tensor(shape: value.shape, scalars: scalars)
          }
          return try loss(copy).scalar
        }
        let expected = (try shifted(step) - shifted(-step)) / (2 * step)
        let computed = gradients[name]!.scalars[index]
        XCTAssertEqual(computed, expected, accuracy: 1e-6 * max(1, abs(expected)), "\(name)[\(index)]")
        largest = max(largest, abs(expected))
        checked += 1
      }
    }
    XCTAssertEqual(checked, model.parameterCount)
    XCTAssertGreaterThan(largest, 1e-2)
  }

  /// The Hutchinson gradient of ½·log det(JᵀJ), one probe per draw, averaged
  /// over many draws, agrees with the exact gradient within three standard
  /// errors (computed from the draws) along the exact gradient and two
  /// fixed random directions of parameter space, for Gaussian and
  /// Rademacher probes.
  func testStochasticGradientIsUnbiasedWithinThreeStandardErrors() throws {
    let model = randomModel(Double.self, latentSize: 2, ambientSize: 4, seed: 21)
    var generator = SeededGenerator(seed: 22)
    let x = Tensor<Double>.randomNormal(shape: [3, 4], using: &generator)
    let names = model.parameters.map(\.name)
    func flatten(_ gradients: [String: Tensor<Double>]) -> [Double] { names.flatMap { gradients[$0]!.scalars } }
    let exact = flatten(
      try valueWithGradient(at: model) { try $0.densityTerms(x).logGramDeterminant.mean() * 0.5 }.gradients)
    // The exact gradient's own direction, where the check has power, and two random ones.
    let directions =
      [exact] + (0..<2).map { _ in Tensor<Double>.randomNormal(shape: [exact.count], using: &generator).scalars }
    func project(_ vector: [Double], _ direction: [Double]) -> Double {
      zip(vector, direction).reduce(0) { $0 + $1.0 * $1.1 }
    }
    for distribution in ProbeDistribution.allCases {
      let settings = HutchinsonSettings(probes: 1, distribution: distribution, tolerance: 1e-12, maximumIterations: 8)
      var probeGenerator = SeededGenerator(seed: 23)
      let draws = 300
      var samples = [[Double]](repeating: [], count: directions.count)
      for _ in 0..<draws {
        let (_, gradients) = valueWithGradient(at: model) { model in
          let estimate = model.hutchinsonSurrogate(
            at: model.injection.project(x), settings: settings, using: &probeGenerator)
          XCTAssertTrue(estimate.converged)
          XCTAssertLessThanOrEqual(estimate.iterations, 8)
          return estimate.surrogate.mean() * 0.5
        }
        let flat = flatten(gradients)
        for (index, direction) in directions.enumerated() { samples[index].append(project(flat, direction)) }
      }
      for (index, direction) in directions.enumerated() {
        let mean = samples[index].reduce(0, +) / Double(draws)
        let variance = samples[index].reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(draws - 1)
        let standardError = (variance / Double(draws)).squareRoot()
        let target = project(exact, direction)
        XCTAssertGreaterThan(standardError, 0)
        XCTAssertLessThanOrEqual(
          abs(mean - target), 3 * standardError,
          "\(distribution), direction \(index): mean \(mean), exact \(target), standard error \(standardError)")
        if index == 0 {
          // The check has power: along the gradient, the exact value is many standard errors from 0.
          XCTAssertGreaterThan(abs(target), 10 * standardError, "\(distribution)")
        }
      }
    }
  }

  /// The stochastic loss reports its CG solve and uses the same prior and
  /// reconstruction terms as the exact one; two-step training cuts z from
  /// the likelihood, so g gets only the reconstruction's gradient.
  func testLossTermsOfTheThreeEstimators() throws {
    check(Float.self, tolerance: 1e-4)
    check(Double.self, tolerance: 1e-12)

    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Double) {
      let model = randomModel(Scalar.self, latentSize: 2, ambientSize: 3, seed: 31)
      var generator = SeededGenerator(seed: 32)
      let x = Tensor<Scalar>.randomNormal(shape: [5, 3], using: &generator)
      do {
        let exact = try model.loss(
          on: x, objective: RectangularFlowObjective(estimator: .exact, reconstructionWeight: 2), step: 0,
          using: &generator)
        let stochastic = try model.loss(
          on: x,
          objective: RectangularFlowObjective(
            estimator: .stochastic(HutchinsonSettings(probes: 3, tolerance: 1e-3)), reconstructionWeight: 2),
          step: 0, using: &generator)
        let twoStep = try model.loss(
          on: x, objective: RectangularFlowObjective(estimator: .twoStep, reconstructionWeight: 2), step: 0,
          using: &generator)
        XCTAssertEqual(stochastic.priorLogProbability, exact.priorLogProbability, accuracy: tolerance)
        XCTAssertEqual(twoStep.priorLogProbability, exact.priorLogProbability, accuracy: tolerance)
        XCTAssertEqual(stochastic.reconstructionError, exact.reconstructionError, accuracy: tolerance)
        XCTAssertEqual(twoStep.reconstructionError, exact.reconstructionError, accuracy: tolerance)
        XCTAssertNil(stochastic.logGramDeterminant)
        XCTAssertNotNil(exact.negativeLogLikelihood)
        XCTAssertEqual(
          Double(exact.value.scalar),
          -exact.priorLogProbability + 0.5 * exact.logGramDeterminant! + 2 * exact.reconstructionError,
          accuracy: tolerance * 100)
        XCTAssertEqual(
          Double(twoStep.value.scalar), -exact.priorLogProbability + 2 * exact.reconstructionError,
          accuracy: tolerance * 100)
        XCTAssertNotNil(stochastic.conjugateGradientIterations)
        XCTAssertLessThanOrEqual(stochastic.conjugateGradientIterations!, 2)
        XCTAssertEqual(stochastic.conjugateGradientConverged, true)
        XCTAssertNil(exact.conjugateGradientIterations)
      } catch {
        XCTFail("\(error)")
      }
      // Two-step with β = 0: only the prior moves.
      let (_, gradients) = valueWithGradient(at: model) { model in
        var unused = SeededGenerator(seed: 0)
        return try! model.loss(
          on: x, objective: RectangularFlowObjective(estimator: .twoStep, reconstructionWeight: 0), step: 0,
          using: &unused
        ).value
      }
      for (name, gradient) in gradients {
        let norm = gradient.scalars.reduce(0) { $0 + Double($1 * $1) }
        if name.hasPrefix("injection.") {
          XCTAssertEqual(norm, 0, name)
        } else if name.hasPrefix("prior.transform.layers.0.conditioner.layers.1.") {
          XCTAssertGreaterThan(norm, 0, name)
        }
      }
    }
  }

  /// The warm-up ramps the likelihood weight linearly, and at weight 0 the
  /// loss is the reconstruction term alone.
  func testWarmupWeightsTheLikelihood() throws {
    let warmup = LikelihoodWarmup(start: 10, end: 20)
    XCTAssertEqual([0, 10, 11, 15, 19, 20, 100].map { warmup.weight(atStep: $0) }, [0, 0, 0.1, 0.5, 0.9, 1, 1])
    XCTAssertEqual(LikelihoodWarmup.none.weight(atStep: 0), 1)
    XCTAssertEqual(LikelihoodWarmup(start: 5, end: 5).weight(atStep: 5), 1)
    let model = randomModel(Double.self, latentSize: 1, ambientSize: 2, seed: 41)
    var generator = SeededGenerator(seed: 42)
    let x = Tensor<Double>.randomNormal(shape: [4, 2], using: &generator)
    let objective = RectangularFlowObjective(estimator: .exact, reconstructionWeight: 50, warmup: warmup)
    let early = try model.loss(on: x, objective: objective, step: 3, using: &generator)
    XCTAssertEqual(early.likelihoodWeight, 0)
    XCTAssertEqual(early.value.scalar, 50 * early.reconstructionError, accuracy: 1e-10)
    let middle = try model.loss(on: x, objective: objective, step: 15, using: &generator)
    XCTAssertEqual(
      middle.value.scalar, 0.5 * middle.negativeLogLikelihood! + 50 * middle.reconstructionError, accuracy: 1e-10)
  }

  /// When d = D the injective map is a bijection and the density is the
  /// square flow's: log p_base(h(P f(x))) + log|det| of the chain, with P
  /// the padding's permutation undone.
  func testSquareCaseEqualsTheSquareFlowDensity() throws {
    try check(Float.self, tolerance: 1e-4)
    try check(Double.self, tolerance: 1e-10)

    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Double) throws {
      let model = randomModel(Scalar.self, latentSize: 3, ambientSize: 3, seed: 51)
      let square = Flow(
        base: StandardNormal<Scalar>(eventShape: [3]),
        transform: Chain<Scalar>([
          model.injection.transform, Permutation<Scalar>(indices: model.injection.injection.latentPositions),
          model.prior.transform,
        ]))
      var generator = SeededGenerator(seed: 52)
      let x = Tensor<Scalar>.randomNormal(shape: [6, 3], using: &generator)
      assertClose(
        try model.logProbability(x), square.logProbability(x), absolute: Scalar(tolerance), relative: Scalar(tolerance))
      // Data on the manifold (here: everywhere) reconstruct exactly.
      assertClose(model.reconstruct(x), x, absolute: Scalar(tolerance * 10), relative: Scalar(tolerance * 10))
    }
  }

  /// Samples lie on the learned manifold: g(g†(x)) = x for x = g(z), and
  /// the model's evaluation sees zero reconstruction error there.
  func testSamplesAreReconstructedExactly() throws {
    let model = randomModel(Double.self, latentSize: 2, ambientSize: 4, seed: 61)
    var generator = SeededGenerator(seed: 62)
    let samples = model.sample(count: 8, using: &generator)
    XCTAssertEqual(samples.shape, [8, 4])
    assertClose(model.reconstruct(samples), samples, absolute: 1e-11)
    let evaluation = try model.evaluate(samples)
    XCTAssertLessThan(evaluation.reconstructionError, 1e-20)
    XCTAssertEqual(evaluation.negativeLogLikelihood, -(try model.logProbability(samples).mean().scalar), accuracy: 1e-12)
  }

  /// A rank-one Gram matrix [[1, 1], [1, 1]] fails Cholesky; the first retry
  /// adds ε = 1e-6, and log det(A + εI) = log(2ε + ε²).
  func testCholeskyJitterRetriesOnASingularGramMatrix() throws {
    let gram = Tensor<Double>(shape: [2, 2, 2], scalars: [1, 1, 1, 1, 4, 0, 0, 9])
    let (logDeterminant, jitter) = try GramLogDeterminant.cholesky(gram)
    XCTAssertEqual(jitter, 1e-6)
    XCTAssertEqual(logDeterminant[0], Double.log(2e-6 + 1e-12), accuracy: 1e-8)
    XCTAssertEqual(logDeterminant[1], Double.log((4 + 1e-6) * (9 + 1e-6)), accuracy: 1e-12)
    let (regular, none) = try GramLogDeterminant.cholesky(Tensor<Double>(shape: [1, 2, 2], scalars: [2, 1, 1, 2]))
    XCTAssertEqual(none, 0)
    XCTAssertEqual(regular[0], Double.log(3), accuracy: 1e-14)
    XCTAssertThrowsError(
      try GramLogDeterminant.cholesky(Tensor<Double>(shape: [2, 1, 1], scalars: [1, .nan]))
    ) { error in
      XCTAssertEqual(error as? RectangularFlowError, .nonFiniteGramMatrix(sample: 1))
      XCTAssertEqual("\(error)", "the Gram matrix JᵀJ of sample 1 is not finite")
    }
    // A negative definite matrix stays so up to the last jitter (1000 < 2000): LAPACK's error comes through.
    XCTAssertThrowsError(try GramLogDeterminant.cholesky(Tensor<Double>(shape: [1, 1, 1], scalars: [-2000]))) { error in
      XCTAssertNotNil(error as? LinearAlgebraError, "\(error)")
    }
  }

  /// The determinant of a small square matrix by Gaussian elimination with
  /// partial pivoting.
  private func determinant(_ matrix: [[Double]]) -> Double {
    var a = matrix
    let n = a.count
    var result = 1.0
    for column in 0..<n {
      let pivot = (column..<n).max { abs(a[$0][column]) < abs(a[$1][column]) }!
      if pivot != column {
        a.swapAt(pivot, column)
        result = -result
      }
      result *= a[column][column]
      for row in (column + 1)..<n {
        let factor = a[row][column] / a[column][column]
        for k in column..<n { a[row][k] -= factor * a[column][k] }
      }
    }
    return result
  }
}
