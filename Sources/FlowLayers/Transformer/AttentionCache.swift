import FlowTensor

/// The keys and values one attention layer has seen so far, so that
/// decoding one more position costs one row of attention instead of the
/// whole prefix again.
///
/// Plain decoding (nothing recorded for derivatives) writes the new keys
/// and values in place into buffers `[batch, heads, capacity, headSize]`
/// allocated once, and attends over their prefix without copying it
/// (``FlowTensor/causalAttention(queries:keys:values:length:)``). When derivatives are
/// recorded or carried, the cache keeps differentiable concatenations
/// instead, so that gradients reach earlier positions.
public struct AttentionCache<Scalar: TensorScalar> {
  /// The most positions the cache can hold.
  public let capacity: Int
  /// The number of positions cached.
  public private(set) var length = 0
  /// In-place buffers `[batch, heads, capacity, headSize]` (plain decoding).
  private var keyBuffer: Tensor<Scalar>?
  private var valueBuffer: Tensor<Scalar>?
  /// Differentiable histories `[batch, heads, length, headSize]` (once anything is recorded).
  private var keyHistory: Tensor<Scalar>?
  private var valueHistory: Tensor<Scalar>?

  /// An empty cache for up to `capacity` positions.
  public init(capacity: Int) {
    precondition(capacity >= 0, "AttentionCache(capacity: \(capacity)): must be ≥ 0")
    self.capacity = capacity
  }

  /// The cached keys, `[batch, heads, length, headSize]`, or `nil` when empty (a copy).
  public var keys: Tensor<Scalar>? { cached(keyHistory, keyBuffer) }
  /// The cached values, `[batch, heads, length, headSize]`, or `nil` when empty (a copy).
  public var values: Tensor<Scalar>? { cached(valueHistory, valueBuffer) }

  private func cached(_ history: Tensor<Scalar>?, _ buffer: Tensor<Scalar>?) -> Tensor<Scalar>? {
    if let history { return history }
    guard let buffer, length > 0 else { return nil }
    return buffer.sliced(alongAxis: 2, from: 0, to: length)
  }

  /// Appends the keys and values of new positions and returns the
  /// attention of their queries over everything cached.
  /// - Parameters:
  ///   - queries: `[batch, heads, new, headSize]`, scaled.
  ///   - newKeys, newValues: `[batch, heads, new, headSize]`, the batch and
  ///     heads of what is cached; the cached length plus `new` ≤ `capacity`.
  /// - Returns: `[batch, heads, new, headSize]`.
  mutating func attend(
    _ queries: Tensor<Scalar>, keys newKeys: Tensor<Scalar>, values newValues: Tensor<Scalar>
  ) -> Tensor<Scalar> {
    let count = newKeys.shape[2]
    precondition(
      length + count <= capacity,
      "AttentionCache: \(count) new positions after \(length) exceed the capacity \(capacity)")
    let recorded = [queries, newKeys, newValues].contains { $0.requiresGradient || $0.tangent != nil }
    if recorded || keyHistory != nil {
      if keyHistory == nil, length > 0 {
        keyHistory = keyBuffer!.sliced(alongAxis: 2, from: 0, to: length)
        valueHistory = valueBuffer!.sliced(alongAxis: 2, from: 0, to: length)
      }
      keyHistory = keyHistory.map { Tensor(concatenating: [$0, newKeys], alongAxis: 2) } ?? newKeys
      valueHistory = valueHistory.map { Tensor(concatenating: [$0, newValues], alongAxis: 2) } ?? newValues
      keyBuffer = nil
      valueBuffer = nil
      length += count
      return causalAttention(queries: queries, keys: keyHistory!, values: valueHistory!, length: length)
    }
    let (batch, heads, size) = (newKeys.shape[0], newKeys.shape[1], newKeys.shape[3])
    if keyBuffer == nil {
      keyBuffer = Tensor.zeros(shape: [batch, heads, capacity, size])
      valueBuffer = Tensor.zeros(shape: [batch, heads, capacity, size])
    }
    precondition(
      keyBuffer!.shape == [batch, heads, capacity, size],
      "AttentionCache: new keys \(newKeys.shape) do not match the cached [\(batch), \(heads), …, \(size)]")
    Self.write(newKeys, into: &keyBuffer!, at: length)
    Self.write(newValues, into: &valueBuffer!, at: length)
    length += count
    return causalAttention(queries: queries, keys: keyBuffer!, values: valueBuffer!, length: length)
  }

  /// Copies `rows` (`[batch, heads, new, size]`) into `buffer`'s rows `start ..< start + new`.
  private static func write(_ rows: Tensor<Scalar>, into buffer: inout Tensor<Scalar>, at start: Int) {
    let (matrices, count, size) = (rows.shape[0] * rows.shape[1], rows.shape[2], rows.shape[3])
    let capacity = buffer.shape[2]
    rows.withUnsafeBufferPointer { source in
      buffer.withUnsafeMutableBufferPointer { destination in
        for matrix in 0..<matrices {
          (destination.baseAddress! + (matrix * capacity + start) * size)
            .update(from: source.baseAddress! + matrix * count * size, count: count * size)
        }
      }
    }
  }
}

/// One ``AttentionCache`` per layer of a ``CausalTransformer``.
public struct TransformerCache<Scalar: TensorScalar> {
  public var layers: [AttentionCache<Scalar>]
  /// The number of positions decoded so far (kept apart from the layers,
  /// so that a network without layers still knows its position).
  public internal(set) var length = 0

  /// An empty cache for `layerCount` layers of up to `capacity` positions.
  public init(layerCount: Int, capacity: Int) {
    layers = Array(repeating: AttentionCache(capacity: capacity), count: layerCount)
  }
}
