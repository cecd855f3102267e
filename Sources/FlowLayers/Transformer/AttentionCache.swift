import FlowTensor

/// The keys and values one attention layer has seen so far, so that
/// decoding one more position costs one row of attention instead of the
/// whole prefix again.
///
/// Keys and values are `[batch, heads, length, headSize]`; appending copies
/// the prefix (O(length) per step, the same order as the attention itself).
public struct AttentionCache<Scalar: TensorScalar> {
  /// `[batch, heads, length, headSize]`, or `nil` before the first position.
  public private(set) var keys: Tensor<Scalar>?
  public private(set) var values: Tensor<Scalar>?

  /// An empty cache.
  public init() {}

  /// The number of positions cached.
  public var length: Int { keys?.shape[2] ?? 0 }

  /// Appends the keys and values of new positions.
  /// - Parameters:
  ///   - newKeys, newValues: `[batch, heads, new, headSize]`, the batch and
  ///     heads of what is cached.
  /// - Returns: all keys and values, the new ones last.
  mutating func append(keys newKeys: Tensor<Scalar>, values newValues: Tensor<Scalar>) -> (keys: Tensor<Scalar>, values: Tensor<Scalar>) {
    if let keys, let values {
      self.keys = Tensor(concatenating: [keys, newKeys], alongAxis: 2)
      self.values = Tensor(concatenating: [values, newValues], alongAxis: 2)
    } else {
      keys = newKeys
      values = newValues
    }
    return (keys!, values!)
  }
}

/// One ``AttentionCache`` per layer of a ``CausalTransformer``.
public struct TransformerCache<Scalar: TensorScalar> {
  public var layers: [AttentionCache<Scalar>]
  /// The number of positions decoded so far (kept apart from the layers,
  /// so that a network without layers still knows its position).
  public internal(set) var length = 0

  /// An empty cache for `layerCount` layers.
  public init(layerCount: Int) {
    layers = Array(repeating: AttentionCache(), count: layerCount)
  }
}
