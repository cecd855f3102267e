import FlowLayers
import FlowTensor
import Foundation

extension ImageDataset: TrainingDataset {
  public func prefix(_ count: Int) -> ImageDataset {
    subset(0..<Swift.max(0, Swift.min(count, self.count)))
  }
}

/// CDFlow as a ``TrainableModel``: the loss is the negative log-likelihood
/// of the dequantised batch in bits per dimension (the dequantisation's
/// D·log 256 included, ``CDFlow/bitsPerDimension(pixels:using:)``), the
/// data-dependent initialisation is ActNorm's on the first batch, and the
/// evaluation is the mean bits/dim over the held-out images, each
/// dequantised once.
extension CDFlow: TrainableModel {
  public typealias Dataset = ImageDataset

  public static var modelName: String { "cdflow" }
  public static var metricName: String { "bits/dim" }
  public static var metricKey: String { "bpd" }

  public var configurationJSON: String { configuration.jsonString }

  public init(configurationJSON: String) throws {
    self.init(configuration: try CDFlowConfiguration(jsonString: configurationJSON))
  }

  public var isPrepared: Bool {
    get { isInitialized }
    set { isInitialized = newValue }
  }

  public mutating func prepare(on batch: [Int], of dataset: ImageDataset, using generator: inout SeededGenerator) {
    initialize(from: dataset.batch(batch, as: Scalar.self).images, using: &generator)
  }

  public func loss(on batch: [Int], of dataset: ImageDataset, using generator: inout SeededGenerator) -> Tensor<Scalar> {
    bitsPerDimension(pixels: dataset.batch(batch, as: Scalar.self).images, using: &generator)
  }

  /// The mean over the images of (−log p(x) + D·log 256)/(D·log 2), each
  /// image's log-density summed in `Double` (the images' own figures are
  /// ``imageScores(on:batchSize:using:)``'s).
  public func evaluate(on dataset: ImageDataset, batchSize: Int, using generator: inout SeededGenerator) -> Double {
    precondition(batchSize >= 1, "CDFlow.evaluate: batch size \(batchSize) must be ≥ 1")
    guard dataset.count > 0 else { return .nan }
    let total = imageScores(on: dataset, batchSize: batchSize, using: &generator).reduce(0) { $0 - $1.logProbability }
    return FlowLayers.bitsPerDimension(
      negativeLogLikelihood: total / Double(dataset.count), dimensions: dimensions)
  }
}
