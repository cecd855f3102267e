import FlowTensor

/// The causal network of a TarFlow block (apple/ml-tarflow `MetaBlock`):
/// an input projection plus a learned positional embedding, pre-LayerNorm
/// ``TransformerLayer``s, a final LayerNorm and a zero-initialised output
/// projection. Output position i depends on input positions ≤ i.
///
/// Parameters: `inputProjection.*`, `positionalEmbedding.weight`,
/// `layers.<index>.*`, `outputNorm.*`, `outputProjection.*`.
public struct CausalTransformer<Scalar: TensorScalar>: Layer {
  public var inputProjection: Dense<Scalar>
  public var positionalEmbedding: PositionalEmbedding<Scalar>
  public var layers: [TransformerLayer<Scalar>]
  public var outputNorm: LayerNorm<Scalar>
  public var outputProjection: Dense<Scalar>

  /// - Parameters:
  ///   - inputSize, outputSize: ≥ 1, features per position in and out.
  ///   - maxLength: ≥ 1, the longest sequence.
  ///   - width: ≥ 1, a multiple of `headCount`.
  ///   - layerCount: ≥ 0.
  ///   - headCount: ≥ 1.
  ///   - expansion: the feed-forward hidden width over `width`.
  ///   - generator: the seeded source of the initial values; the output
  ///     projection starts at zero, so the network first outputs zeros.
  public init(
    inputSize: Int, outputSize: Int, maxLength: Int, width: Int, layerCount: Int, headCount: Int,
    expansion: Int = 4, using generator: inout SeededGenerator
  ) {
    precondition(layerCount >= 0, "CausalTransformer(layerCount: \(layerCount)): must be ≥ 0")
    inputProjection = Dense(inputSize: inputSize, outputSize: width, using: &generator)
    positionalEmbedding = PositionalEmbedding(maxLength: maxLength, width: width, using: &generator)
    layers = (0..<layerCount).map { _ in
      TransformerLayer(width: width, headCount: headCount, expansion: expansion, using: &generator)
    }
    outputNorm = LayerNorm(features: width)
    outputProjection = Dense(inputSize: width, outputSize: outputSize, zeroInitialized: true, using: &generator)
  }

  public var inputSize: Int { inputProjection.inputSize }
  public var outputSize: Int { outputProjection.outputSize }
  public var maxLength: Int { positionalEmbedding.maxLength }

  /// The network on a whole sequence.
  /// - Parameters:
  ///   - x: `[batch, length, inputSize]`, length ≤ `maxLength`.
  /// - Returns: `[batch, length, outputSize]`.
  /// - Complexity: O(batch·length·width·(width·layers + inputSize + outputSize) + batch·length²·width·layers).
  public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    var h = positionalEmbedding(inputProjection.applied(toRows: x))
    for layer in layers { h = layer(h) }
    return outputProjection.applied(toRows: outputNorm(h))
  }

  /// The network on new positions after the cached ones: the rows
  /// ``callAsFunction(_:)`` gives for them on the whole sequence.
  /// - Parameters:
  ///   - x: `[batch, new, inputSize]`; the cached length plus `new` ≤ `maxLength`.
  ///   - cache: made by ``makeCache()``, for the same batch; grows by `new`.
  /// - Returns: `[batch, new, outputSize]`.
  public func callAsFunction(_ x: Tensor<Scalar>, cache: inout TransformerCache<Scalar>) -> Tensor<Scalar> {
    precondition(
      cache.layers.count == layers.count,
      "CausalTransformer: a cache of \(cache.layers.count) layers for a network of \(layers.count)")
    var h = positionalEmbedding(inputProjection.applied(toRows: x), startingAt: cache.length)
    for index in layers.indices { h = layers[index](h, cache: &cache.layers[index]) }
    cache.length += x.shape[1]
    return outputProjection.applied(toRows: outputNorm(h))
  }

  /// An empty cache for step-by-step decoding.
  public func makeCache() -> TransformerCache<Scalar> {
    TransformerCache(layerCount: layers.count, capacity: maxLength)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("inputProjection", &inputProjection)
    visitor.visit("positionalEmbedding", &positionalEmbedding)
    visitor.visit("layers", &layers)
    visitor.visit("outputNorm", &outputNorm)
    visitor.visit("outputProjection", &outputProjection)
  }
}
