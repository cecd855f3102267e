import FlowLayers
import FlowTensor

/// One held-out image's likelihood under a ``CDFlow``, as
/// ``CDFlow/imageScores(on:batchSize:using:)`` lists them.
public struct CDFlowImageScore: Equatable, Sendable {
  /// The image's index in its dataset.
  public var index: Int
  /// log p(x) of the dequantised image, nats (of the scaled data).
  public var logProbability: Double
  /// (−log p(x) + D·log 256)/(D·log 2), the image's own bits/dim.
  public var bitsPerDimension: Double

  public init(index: Int, logProbability: Double, bitsPerDimension: Double) {
    self.index = index
    self.logProbability = logProbability
    self.bitsPerDimension = bitsPerDimension
  }

  /// The `count` scores of lowest log-likelihood, lowest first; a NaN counts
  /// as lower than any number, and ties keep the lower index first.
  /// - Parameters:
  ///   - scores: any order.
  ///   - count: ≥ 0; all of them when `count` exceeds their number.
  /// - Complexity: O(n log n).
  public static func worst(_ scores: [CDFlowImageScore], count: Int) -> [CDFlowImageScore] {
    precondition(count >= 0, "CDFlowImageScore.worst: count \(count) is negative")
    func key(_ score: CDFlowImageScore) -> Double {
      score.logProbability.isNaN ? -.infinity : score.logProbability
    }
    let ordered = scores.sorted { a, b in
      let (ka, kb) = (key(a), key(b))
      if ka != kb { return ka < kb }
      if a.logProbability.isNaN != b.logProbability.isNaN { return a.logProbability.isNaN }
      return a.index < b.index
    }
    return Array(ordered.prefix(count))
  }
}

/// One term of log p(x) for one image, as
/// ``CDFlow/logProbabilityTerms(_:)`` lists them: a layer's
/// log-determinant, one of a learned split's two terms, or the base density
/// of the last level's latent.
public struct CDFlowLogProbabilityTerm: Equatable, Sendable {
  /// What the term is.
  public enum Kind: String, Sendable {
    /// log|det J| of a layer that is not a split (ActNorm, mixer, coupling; squeezes give 0).
    case logDeterminant = "log-det"
    /// A split's −Σ log σ(x₁) over its factored half.
    case splitLogDeterminant = "split −Σ log σ"
    /// log N(ε; 0, I) of a split's standardised factored half ε = (x₂ − μ)/σ.
    case splitFactored = "split log N(ε)"
    /// log N(z; 0, I) of the last level's latent (the elements no split factored out).
    case base = "base log N(z)"
  }

  /// The layer's parameter path, e.g. `transform.layers.1.layers.0` (level
  /// 0, step 0, its ActNorm); `transform.layers.<K + 1>.split` for the
  /// first split; `base` for the last level's latent.
  public var path: String
  /// The layer's type (`ActNorm`, `CirculantDiagonalConv1x1`, …; `MultiScaleSplit`, `StandardNormal`).
  public var layer: String
  public var kind: Kind
  /// The term's contribution to log p(x), nats.
  public var value: Double
  /// The largest |element| of what the term is computed on: the layer's
  /// output, ε for a split's terms, z for the base.
  public var largestMagnitude: Double
  /// A learned split's smallest log σ (on its ``Kind/splitLogDeterminant``
  /// term), `nil` elsewhere.
  public var smallestLogStandardDeviation: Double?

  public init(
    path: String, layer: String, kind: Kind, value: Double, largestMagnitude: Double,
    smallestLogStandardDeviation: Double? = nil
  ) {
    self.path = path
    self.layer = layer
    self.kind = kind
    self.value = value
    self.largestMagnitude = largestMagnitude
    self.smallestLogStandardDeviation = smallestLogStandardDeviation
  }
}

extension CDFlow {
  /// log p(x) of every image of `dataset`, in order, dequantised batch by
  /// batch with noise from `generator`: the values whose mean
  /// ``evaluate(on:batchSize:using:)`` reports, image by image.
  /// - Parameters:
  ///   - dataset: images of the model's shape.
  ///   - batchSize: ≥ 1; images per forward pass (the noise stream does not
  ///     depend on it: each image's noise follows the previous image's).
  ///   - generator: the dequantisation noise.
  /// - Returns: one score per image, `index` its position in `dataset`.
  /// - Complexity: one forward pass over the dataset.
  public func imageScores(
    on dataset: ImageDataset, batchSize: Int, using generator: inout SeededGenerator
  ) -> [CDFlowImageScore] {
    precondition(batchSize >= 1, "CDFlow.imageScores: batch size \(batchSize) must be ≥ 1")
    var scores: [CDFlowImageScore] = []
    scores.reserveCapacity(dataset.count)
    var start = 0
    while start < dataset.count {
      let end = Swift.min(start + batchSize, dataset.count)
      let pixels = dataset.batch(Array(start..<end), as: Scalar.self).images
      let x = dequantize(pixels: pixels, using: &generator)
      let logDensities = withoutRecording { logProbability(x) }
      for (offset, value) in logDensities.scalars.enumerated() {
        let logProbability = Double(value)
        scores.append(
          CDFlowImageScore(
            index: start + offset, logProbability: logProbability,
            bitsPerDimension: FlowLayers.bitsPerDimension(negativeLogLikelihood: -logProbability, dimensions: dimensions)
          ))
      }
      start = end
    }
    return scores
  }

  /// Image `index` of `dataset`, dequantised with the noise that
  /// ``imageScores(on:batchSize:using:)`` (and the evaluation) gives it
  /// when started from the same `generator`: the images before it draw
  /// their noise first.
  /// - Parameters:
  ///   - index: in `0..<dataset.count`.
  /// - Returns: `[1, channels, height, width]`.
  /// - Complexity: O(index·D) draws.
  public func dequantizedImage(
    _ index: Int, of dataset: ImageDataset, using generator: inout SeededGenerator
  ) -> Tensor<Scalar> {
    precondition(
      index >= 0 && index < dataset.count, "CDFlow.dequantizedImage: index \(index) is not in 0..<\(dataset.count)")
    // The same draws as the pass over the dataset: the earlier images'
    // noise, in order (whatever the batches, the stream is per pixel).
    var start = 0
    while start < index {
      let end = Swift.min(start + 1_000, index)
      _ = dequantize(pixels: dataset.batch(Array(start..<end), as: Scalar.self).images, using: &generator)
      start = end
    }
    return dequantize(pixels: dataset.batch([index], as: Scalar.self).images, using: &generator)
  }

  /// log p(x) of one image split into its terms, layer by layer in the
  /// order of the forward pass: each layer's log-determinant, each learned
  /// split's −Σ log σ and log N(ε) (Glow's split prior
  /// log N(x₂; μ, σ²) is their sum, see ``FlowLayers/MultiScaleSplit``),
  /// and the base density of the last level's latent. The values add up
  /// to ``logProbability(_:)`` (up to rounding): the breakdown that tells
  /// which layer gives an image an extreme likelihood.
  /// - Parameters:
  ///   - x: one scaled image, `[1, channels, height, width]`.
  /// - Returns: the terms; the base's last.
  /// - Complexity: one forward pass.
  public func logProbabilityTerms(_ x: Tensor<Scalar>) -> [CDFlowLogProbabilityTerm] {
    precondition(
      x.shape == [1] + configuration.imageShape,
      "CDFlow.logProbabilityTerms: input \(x.shape) is not [1] + \(configuration.imageShape)")
    return withoutRecording {
      var terms: [CDFlowLogProbabilityTerm] = []
      let z = Self.collectTerms(of: transform, x, path: "transform", into: &terms)
      // log N over the whole latent is the sum over its elements; the
      // splits' ε are elements of z (the later layers only move them), so
      // the base's own term is the rest.
      let factored = terms.filter { $0.kind == .splitFactored }.reduce(0) { $0 + $1.value }
      terms.append(
        CDFlowLogProbabilityTerm(
          path: "base", layer: "StandardNormal", kind: .base,
          value: Double(base.logProbability(z).scalars[0]) - factored, largestMagnitude: Self.largestMagnitude(z)))
      return terms
    }
  }

  /// Runs `layer` forward on `x`, appending its terms (recursing into
  /// chains and multi-scale cuts); returns its output.
  private static func collectTerms(
    of layer: any Bijector<Scalar>, _ x: Tensor<Scalar>, path: String, into terms: inout [CDFlowLogProbabilityTerm]
  ) -> Tensor<Scalar> {
    if let chain = layer as? Chain<Scalar> {
      var y = x
      for (index, inner) in chain.layers.enumerated() {
        y = collectTerms(of: inner, y, path: "\(path).layers.\(index)", into: &terms)
      }
      return y
    }
    if let cut = layer as? MultiScale<Chain<Scalar>> {
      let (standardised, splitLogDeterminant) = cut.split.forward(x)
      let halves = standardised.split(count: 2, alongAxis: 1)
      let factored = halves[1]
      let logStandardDeviation = cut.split.gaussianParameters(x.split(count: 2, alongAxis: 1)[0])?.logStandardDeviation
      let splitPath = "\(path).split"
      terms.append(
        CDFlowLogProbabilityTerm(
          path: splitPath, layer: "MultiScaleSplit", kind: .splitLogDeterminant,
          value: Double(splitLogDeterminant.scalars[0]), largestMagnitude: largestMagnitude(factored),
          smallestLogStandardDeviation: logStandardDeviation.map { Double($0.scalars.min() ?? 0) }))
      let factoredDensity = StandardNormal<Scalar>(eventShape: Array(factored.shape.dropFirst()))
      terms.append(
        CDFlowLogProbabilityTerm(
          path: splitPath, layer: "MultiScaleSplit", kind: .splitFactored,
          value: Double(factoredDensity.logProbability(factored).scalars[0]), largestMagnitude: largestMagnitude(factored)))
      let kept = collectTerms(of: cut.inner, halves[0], path: "\(path).inner", into: &terms)
      return Tensor(concatenating: [kept, factored], alongAxis: 1)
    }
    let (y, logDeterminant) = layer.forward(x)
    let name = String(describing: type(of: layer))
    terms.append(
      CDFlowLogProbabilityTerm(
        path: path, layer: String(name.prefix { $0 != "<" }), kind: .logDeterminant,
        value: Double(logDeterminant.scalars[0]), largestMagnitude: largestMagnitude(y)))
    return y
  }

  private static func largestMagnitude(_ x: Tensor<Scalar>) -> Double {
    x.scalars.reduce(0) { Swift.max($0, Double(Swift.abs($1))) }
  }
}
