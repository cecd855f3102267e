import FlowLayers
import FlowTensor

/// The discrete baseline of TarFlowLM (arXiv 2507.00425, Table 2,
/// "Transformer AR"): a ``CausalTransformer`` reads the one-hot previous
/// characters and predicts the next one's logits; trained by cross-entropy,
/// reported in bits per character.
///
/// Position t's input is the one-hot of x_{t−1} (zeros at t = 0), so its
/// output depends on x_<t only. The output projection starts at zero: the
/// untrained model predicts uniformly, log₂ V bits per character.
///
/// Parameters: `network.*`.
public struct CharacterLanguageModel<Scalar: TensorScalar>: Layer {
  public var network: CausalTransformer<Scalar>
  public let configuration: CharacterLanguageModelConfiguration
  /// Whether training may start (there is no data-dependent initialisation).
  public var isPrepared = false

  /// A model at its initial parameters.
  /// - Parameters:
  ///   - configuration: precondition: its ``CharacterLanguageModelConfiguration/problem`` is `nil`.
  public init(configuration: CharacterLanguageModelConfiguration) {
    if let problem = configuration.problem { preconditionFailure("CharacterLanguageModel: \(problem)") }
    var generator = SeededGenerator(seed: configuration.seed)
    network = CausalTransformer(
      inputSize: configuration.vocabularySize, outputSize: configuration.vocabularySize,
      maxLength: configuration.length, width: configuration.width, layerCount: configuration.layerCount,
      headCount: configuration.headCount, using: &generator)
    self.configuration = configuration
  }

  public var vocabularySize: Int { configuration.vocabularySize }
  public var length: Int { configuration.length }

  /// One-hot rows `[batch, length, V]` of the previous token at every
  /// position (zeros at position 0).
  /// - Parameters:
  ///   - tokens: `[batch, length']`, length' ≥ 1.
  func shiftedOneHot(_ tokens: IndexTensor) -> Tensor<Scalar> {
    let (batch, length) = (tokens.shape[0], tokens.shape[1])
    var scalars = [Scalar](repeating: 0, count: batch * length * vocabularySize)
    for row in 0..<batch {
      for position in 1..<length {
        let token = tokens.indices[row * length + position - 1]
        scalars[(row * length + position) * vocabularySize + token] = 1
      }
    }
    return Tensor(shape: [batch, length, vocabularySize], scalars: scalars)
  }

  /// log p(x_t = k | x_<t) for every position and token.
  /// - Parameters:
  ///   - tokens: `[batch, length']`, 1 ≤ length' ≤ ``length``, each in `0..<V`.
  /// - Returns: `[batch, length', V]`, differentiable.
  public func logProbabilities(_ tokens: IndexTensor) -> Tensor<Scalar> {
    precondition(
      tokens.rank == 2 && tokens.shape[1] >= 1 && tokens.shape[1] <= length
        && tokens.indices.allSatisfy { $0 >= 0 && $0 < vocabularySize },
      "CharacterLanguageModel: tokens of shape \(tokens.shape) are not [batch, 1…\(length)] in 0..<\(vocabularySize)")
    return logSoftmax(network(shiftedOneHot(tokens)), alongAxis: -1)
  }

  /// −log₂ p(x) / length' for each sequence.
  /// - Returns: `[batch]`, differentiable.
  public func bitsPerCharacter(of tokens: IndexTensor) -> Tensor<Scalar> {
    let picked = IndexTensor(shape: tokens.shape + [1], indices: tokens.indices)
    let logLikelihoods = logProbabilities(tokens).gathering(indices: picked, alongAxis: -1)
    return -logLikelihoods.sum(alongAxes: [1, 2]) / (Scalar(tokens.shape[1]) * Scalar.log(2))
  }

  /// Sequences drawn token by token (the attention cached), each from
  /// softmax(logits / T); T = 0 takes the most likely token.
  /// - Parameters:
  ///   - count: ≥ 1.
  ///   - length: in 1…``length``.
  ///   - temperature: finite, ≥ 0.
  /// - Returns: `[count, length]`.
  public func generate(
    count: Int, length: Int, temperature: Double = 1, using generator: inout SeededGenerator
  ) -> IndexTensor {
    precondition(
      count >= 1 && length >= 1 && length <= self.length && temperature >= 0 && temperature.isFinite,
      "CharacterLanguageModel.generate: count \(count), length \(length) (context \(self.length)), "
        + "temperature \(temperature)")
    return withoutRecording {
      var cache = network.makeCache()
      var input = Tensor<Scalar>.zeros(shape: [count, 1, vocabularySize])
      var columns = [[Int]](repeating: [], count: count)
      for _ in 0..<length {
        let logits = network(input, cache: &cache).reshaped(to: [count, vocabularySize])
        let tokens: [Int]
        if temperature == 0 {
          tokens = logits.argmax(alongAxis: -1).indices
        } else {
          tokens = drawTokens(logProbabilities: logSoftmax(logits / Scalar(temperature), alongAxis: -1), using: &generator)
            .indices
        }
        var scalars = [Scalar](repeating: 0, count: count * vocabularySize)
        for (row, token) in tokens.enumerated() {
          columns[row].append(token)
          scalars[row * vocabularySize + token] = 1
        }
        input = Tensor(shape: [count, 1, vocabularySize], scalars: scalars)
      }
      return IndexTensor(shape: [count, length], indices: Array(columns.joined()))
    }
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("network", &network)
  }
}

/// The baseline as a ``TrainableModel``: cross-entropy in bits per character.
extension CharacterLanguageModel: TrainableModel {
  public typealias Dataset = CharacterWindows

  public static var modelName: String { "charlm" }
  public static var metricName: String { "bits/char" }
  public static var metricKey: String { "bpc" }

  public var configurationJSON: String { configuration.jsonString }

  public init(configurationJSON: String) throws {
    self.init(configuration: try CharacterLanguageModelConfiguration(jsonString: configurationJSON))
  }

  public mutating func prepare(on batch: [Int], of dataset: CharacterWindows, using generator: inout SeededGenerator) {
    isPrepared = true
  }

  public func loss(on batch: [Int], of dataset: CharacterWindows, using generator: inout SeededGenerator) -> Tensor<Scalar> {
    bitsPerCharacter(of: dataset.batch(batch)).mean()
  }

  public func evaluate(on dataset: CharacterWindows, batchSize: Int, using generator: inout SeededGenerator) -> Double {
    evaluate(on: dataset, batchSize: batchSize) { bitsPerCharacter(of: $0) }
  }
}
