import FlowLayers
import FlowTensor

/// TarFlowLM as a ``TrainableModel``: the loss is −ELBO in bits per
/// character on a batch of windows (one encoder sample per position), the
/// evaluation the mean −ELBO over held-out windows.
extension TarFlowLM: TrainableModel {
  public typealias Dataset = CharacterWindows

  public static var modelName: String { "tarflowlm" }
  public static var metricName: String { "bits/char" }
  public static var metricKey: String { "bpc" }

  public var configurationJSON: String { configuration.jsonString }

  public init(configurationJSON: String) throws {
    self.init(configuration: try TarFlowLMConfiguration(jsonString: configurationJSON))
  }

  public mutating func prepare(on batch: [Int], of dataset: CharacterWindows, using generator: inout SeededGenerator) {
    isPrepared = true
  }

  public func loss(on batch: [Int], of dataset: CharacterWindows, using generator: inout SeededGenerator) -> Tensor<Scalar> {
    evidenceBound(of: dataset.batch(batch), using: &generator).bitsPerCharacter
  }

  /// The mean over the windows of −ELBO/(L ln 2), each window's bound from
  /// one encoder sample per position, summed in `Double`.
  public func evaluate(on dataset: CharacterWindows, batchSize: Int, using generator: inout SeededGenerator) -> Double {
    evaluate(on: dataset, batchSize: batchSize) { tokens in
      -evidenceBound(of: tokens, using: &generator).sequenceBounds / Scalar.log(2)
    }
  }

  /// The mean importance-weighted bound over the windows of `dataset`, in
  /// bits per character (at most the ELBO's figure, in expectation).
  /// - Parameters:
  ///   - samples: S encoder draws per window. Precondition: positive.
  public func evaluateImportanceWeighted(
    on dataset: CharacterWindows, samples: Int, batchSize: Int, using generator: inout SeededGenerator
  ) -> Double {
    evaluate(on: dataset, batchSize: batchSize) { tokens in
      importanceWeightedBitsPerCharacter(of: tokens, samples: samples, using: &generator)
    }
  }

  /// Each flow's mean ``flowGains(_:)`` over the windows of `dataset`, in
  /// bits per character, one encoder draw per position: by how much each
  /// flow lowers the bound.
  /// - Returns: one value per flow, data side first (NaN for no windows).
  public func evaluateFlowGains(
    on dataset: CharacterWindows, batchSize: Int, using generator: inout SeededGenerator
  ) -> [Double] {
    precondition(batchSize >= 1, "evaluateFlowGains: batch size \(batchSize) must be ≥ 1")
    guard dataset.count > 0 else { return Array(repeating: .nan, count: blocks.count) }
    var totals = Array(repeating: 0.0, count: blocks.count)
    var start = 0
    while start < dataset.count {
      let end = Swift.min(start + batchSize, dataset.count)
      let tokens = dataset.batch(Array(start..<end))
      let gains = withoutRecording { flowGains(codebook.latents(for: tokens, noise: codebook.noise(for: tokens, using: &generator))) }
      for (index, gain) in gains.enumerated() {
        for value in gain.scalars { totals[index] += Double(value) / (Double(tokens.shape[1]) * .log(2)) }
      }
      start = end
    }
    return totals.map { $0 / Double(dataset.count) }
  }
}

extension Layer {
  /// The mean over the windows of `dataset` of a per-window figure, batch
  /// by batch without recording; NaN for no windows.
  func evaluate(
    on dataset: CharacterWindows, batchSize: Int, perWindow: (IndexTensor) -> Tensor<Scalar>
  ) -> Double {
    precondition(batchSize >= 1, "evaluate: batch size \(batchSize) must be ≥ 1")
    guard dataset.count > 0 else { return .nan }
    var total = 0.0
    var start = 0
    while start < dataset.count {
      let end = Swift.min(start + batchSize, dataset.count)
      let values = withoutRecording { perWindow(dataset.batch(Array(start..<end))) }
      for value in values.scalars { total += Double(value) }
      start = end
    }
    return total / Double(dataset.count)
  }
}
