import FlowTensor

/// A Gaussian with a learnable mean and a learnable log standard deviation
/// per event element (a diagonal covariance), over events of any shape.
///
/// The standard deviation is held as its logarithm, so it stays positive
/// under any parameter update. With z = (x − μ)·e^−s, s = log σ:
///
///   log p(x) = Σ (−½z² − s) − (D/2)·log 2π   (summed over the D event elements).
///
/// Parameters: `mean` and `logStandardDeviation`, both of the event shape.
/// Samples are reparameterised (μ + σ·ε, ε ~ N(0, I)), so they are
/// differentiable in the parameters.
public struct DiagonalGaussian<Scalar: TensorScalar>: Distribution {
  /// μ, of the event shape.
  public var mean: Tensor<Scalar>
  /// log σ, of the event shape.
  public var logStandardDeviation: Tensor<Scalar>

  /// The standard normal over `eventShape` (μ = 0, log σ = 0), a starting point for training.
  public init(eventShape: [Int]) {
    mean = Tensor.zeros(shape: eventShape)
    logStandardDeviation = Tensor.zeros(shape: eventShape)
  }

  /// - Parameters:
  ///   - mean: μ; its shape is the event shape.
  ///   - logStandardDeviation: log σ, of `mean`'s shape.
  public init(mean: Tensor<Scalar>, logStandardDeviation: Tensor<Scalar>) {
    precondition(
      mean.shape == logStandardDeviation.shape,
      "DiagonalGaussian: mean \(mean.shape) and logStandardDeviation \(logStandardDeviation.shape) differ in shape")
    self.mean = mean
    self.logStandardDeviation = logStandardDeviation
  }

  public var eventShape: [Int] { mean.shape }

  /// log p(x) per sample, natural log.
  /// - Parameters:
  ///   - x: `[batch] + eventShape`.
  /// - Returns: `[batch]`.
  /// - Complexity: O(batch·D).
  public func logProbability(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(
      x.rank >= 1 && Array(x.shape.dropFirst()) == eventShape,
      "DiagonalGaussian.logProbability: input \(x.shape) is not [batch] + \(eventShape)")
    let size = eventShape.reduce(1, *)
    let z = (x - mean) * exp(-logStandardDeviation)
    let terms = square(z) * Scalar(-0.5) - logStandardDeviation
    return terms.reshaped(to: [x.shape[0], size]).sum(alongAxes: [1])
      - Scalar(0.5 * Double(size) * Double.log(2 * Double.pi))
  }

  /// `count` independent samples, `[count] + eventShape`: μ + σ·ε with ε
  /// drawn by `Tensor.randomNormal` from `generator`.
  /// - Complexity: O(count·D).
  public func sample<Generator: RandomNumberGenerator>(count: Int, using generator: inout Generator) -> Tensor<Scalar> {
    let noise = Tensor<Scalar>.randomNormal(shape: [count] + eventShape, using: &generator)
    return mean + exp(logStandardDeviation) * noise
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("mean", &mean)
    visitor.visit("logStandardDeviation", &logStandardDeviation)
  }
}
