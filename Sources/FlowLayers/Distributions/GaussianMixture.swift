import FlowTensor

/// A learnable mixture of K diagonal Gaussians over flat events `[d]`.
///
/// Parameters: `logits` (`[K]`, the unnormalised log-weights: weights =
/// softmax(logits)), `means` (`[K, d]`) and `logStandardDeviations`
/// (`[K, d]`), all unconstrained. The density is
///
///   log p(x) = logsumexp_k [log wₖ + Σⱼ (−½z²ₖⱼ − sₖⱼ)] − (d/2)·log 2π,
///   zₖⱼ = (xⱼ − μₖⱼ)·e^−sₖⱼ,
///
/// with log wₖ from ``logSoftmax(_:alongAxis:)`` and the sum over
/// components by ``Tensor/logSumExp(alongAxes:keepingDimensions:)``, so a
/// point far from every component (each density underflowing to 0) still
/// gets its finite log-density, and the gradients stay finite.
public struct GaussianMixture<Scalar: TensorScalar>: Distribution {
  /// Unnormalised log-weights, `[K]`.
  public var logits: Tensor<Scalar>
  /// Component means, `[K, d]`.
  public var means: Tensor<Scalar>
  /// Component log standard deviations, `[K, d]`.
  public var logStandardDeviations: Tensor<Scalar>

  /// - Parameters:
  ///   - logits: `[K]`, K ≥ 1.
  ///   - means: `[K, d]`.
  ///   - logStandardDeviations: `[K, d]`.
  public init(logits: Tensor<Scalar>, means: Tensor<Scalar>, logStandardDeviations: Tensor<Scalar>) {
    precondition(
      logits.rank == 1 && logits.shape[0] >= 1 && means.rank == 2 && means.shape[0] == logits.shape[0]
        && logStandardDeviations.shape == means.shape,
      "GaussianMixture: logits \(logits.shape), means \(means.shape) and logStandardDeviations "
        + "\(logStandardDeviations.shape) are not [K], [K, d] and [K, d] with K ≥ 1")
    self.logits = logits
    self.means = means
    self.logStandardDeviations = logStandardDeviations
  }

  /// Equal weights, unit standard deviations and means drawn from N(0, I),
  /// so that the components start apart.
  /// - Parameters:
  ///   - componentCount: K ≥ 1.
  ///   - dimension: d ≥ 0.
  public init<Generator: RandomNumberGenerator>(componentCount: Int, dimension: Int, using generator: inout Generator) {
    precondition(
      componentCount >= 1 && dimension >= 0,
      "GaussianMixture(componentCount: \(componentCount), dimension: \(dimension)): need K ≥ 1 and d ≥ 0")
    self.init(
      logits: Tensor.zeros(shape: [componentCount]),
      means: Tensor.randomNormal(shape: [componentCount, dimension], using: &generator),
      logStandardDeviations: Tensor.zeros(shape: [componentCount, dimension]))
  }

  /// K.
  public var componentCount: Int { logits.shape[0] }

  public var eventShape: [Int] { [means.shape[1]] }

  /// The mixture weights, softmax(logits), `[K]`.
  public var weights: Tensor<Scalar> { softmax(logits) }

  /// log wₖ + log N(x; μₖ, σₖ²) for every sample and component: the joint
  /// log-density of x and component k. Its softmax over k is the posterior
  /// over components (the responsibilities).
  /// - Parameters:
  ///   - x: `[batch, d]`.
  /// - Returns: `[batch, K]`.
  /// - Complexity: O(batch·K·d).
  public func componentLogProbabilities(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    let dimension = means.shape[1]
    precondition(
      x.rank == 2 && x.shape[1] == dimension,
      "GaussianMixture.logProbability: input \(x.shape) is not [batch, \(dimension)]")
    let z = (x.expandingShape(at: 1) - means) * exp(-logStandardDeviations)  // [batch, K, d]
    let perComponent = (square(z) * Scalar(-0.5) - logStandardDeviations).sum(alongAxes: [2])
    return perComponent + logSoftmax(logits) - Scalar(0.5 * Double(dimension) * Double.log(2 * Double.pi))
  }

  /// log p(x) per sample, natural log.
  /// - Parameters:
  ///   - x: `[batch, d]`.
  /// - Returns: `[batch]`.
  /// - Complexity: O(batch·K·d).
  public func logProbability(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    componentLogProbabilities(x).logSumExp(alongAxes: [1])
  }

  /// `count` independent samples, `[count, d]`.
  ///
  /// First `count` components are drawn by the weights (one uniform
  /// [0, 1) number from 53 bits of `generator` each, inverted through the
  /// cumulative weights), then the noise ε (`[count, d]`) by
  /// `Tensor.randomNormal`; sample i is μₖ + σₖ·εᵢ for its component k.
  /// The values are differentiable in the means and standard deviations
  /// (not in the weights, whose choice is discrete).
  /// - Complexity: O(count·(d + log K)).
  public func sample<Generator: RandomNumberGenerator>(count: Int, using generator: inout Generator) -> Tensor<Scalar> {
    precondition(count >= 0, "GaussianMixture.sample(count: \(count)): the count must not be negative")
    let probabilities = withoutRecording { softmax(logits).scalars.map(Double.init) }
    var cumulative: [Double] = []
    var total = 0.0
    for probability in probabilities {
      total += probability
      cumulative.append(total)
    }
    // u·total can round up to total itself; that draw belongs to the last
    // component of positive weight.
    let lastPositive = probabilities.lastIndex { $0 > 0 } ?? probabilities.count - 1
    let components = (0..<count).map { _ -> Int in
      let u = Double(generator.next() >> 11) * 0x1p-53 * total
      var low = 0
      var high = cumulative.count
      while low < high {
        let middle = (low + high) / 2
        if cumulative[middle] > u { high = middle } else { low = middle + 1 }
      }
      return Swift.min(low, lastPositive)
    }
    let noise = Tensor<Scalar>.randomNormal(shape: [count, means.shape[1]], using: &generator)
    return means.gathering(atIndices: components, alongAxis: 0)
      + exp(logStandardDeviations.gathering(atIndices: components, alongAxis: 0)) * noise
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("logits", &logits)
    visitor.visit("means", &means)
    visitor.visit("logStandardDeviations", &logStandardDeviations)
  }
}
