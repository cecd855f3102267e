/// An n-dimensional array of `Float` or `Double`: contiguous, row-major,
/// with value semantics.
///
/// `Tensor` is a value type over a shared heap buffer (copy-on-write): copies
/// are O(1) and share storage until one of them is mutated, which then
/// copies its scalars once. The last axis varies fastest.
///
/// ```swift
/// let x = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
/// let y = exp(x) + x.sum(alongAxes: [1], keepingDimensions: true)
/// ```
///
/// Programming mistakes (mismatched shapes, bad axes) stop at a
/// `precondition` whose message names the offending values.
public struct Tensor<Scalar: TensorScalar> {
  @usableFromInline var storage: TensorStorage<Scalar>

  /// The size of each axis, outermost first.
  public private(set) var shape: [Int]

  /// The node that produced this tensor in the reverse-mode graph.
  @usableFromInline var graphNode: GraphNode<Scalar>?
  /// The forward-mode tangent, inside `jvp`.
  @usableFromInline var tangentBox: TangentBox<Scalar>?

  /// Derivative bookkeeping (graph node, forward-mode tangent); `nil` for
  /// tensors that take no part in differentiation. Writing to a tensor's
  /// scalars removes it: the result is no longer the value an op produced.
  @inlinable
  var autodiff: AutodiffState<Scalar>? {
    get {
      if graphNode == nil && tangentBox == nil { return nil }
      return AutodiffState(node: graphNode, tangent: tangentBox?.tangent)
    }
    set {
      graphNode = newValue?.node
      tangentBox = newValue?.tangent.map(TangentBox.init)
    }
  }

  /// Wraps an existing storage; `storage.count` must equal the shape's product.
  @usableFromInline
  init(shape: [Int], storage: TensorStorage<Scalar>) {
    self.shape = shape
    self.storage = storage
  }

  /// A tensor of the given shape whose scalars are undefined; every caller
  /// overwrites all of them before the tensor escapes.
  @usableFromInline
  init(uninitializedShape shape: [Int]) {
    let count = Shape.validatedCount(shape, operation: "Tensor")
    self.init(shape: shape, storage: TensorStorage.make(uninitializedCount: count))
  }

  /// A tensor holding `scalars` in row-major order.
  /// - Parameters:
  ///   - shape: the size of each axis; every size is at least 0.
  ///   - scalars: exactly `shape.reduce(1, *)` values.
  public init(shape: [Int], scalars: [Scalar]) {
    let count = Shape.validatedCount(shape, operation: "Tensor(shape:scalars:)")
    precondition(
      scalars.count == count,
      "Tensor(shape:scalars:): shape \(shape) holds \(count) scalars, got \(scalars.count)")
    self.init(uninitializedShape: shape)
    let base = storage.base
    scalars.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: count) }
  }

  /// A tensor of the given shape with every scalar equal to `value`.
  public init(repeating value: Scalar, shape: [Int]) {
    let count = Shape.validatedCount(shape, operation: "Tensor(repeating:shape:)")
    self.init(shape: shape, storage: TensorStorage.make(repeating: value, count: count))
  }

  /// A rank-0 tensor holding one scalar.
  public init(_ value: Scalar) {
    self.init(repeating: value, shape: [])
  }

  /// A rank-1 tensor holding `scalars`.
  public init(_ scalars: [Scalar]) {
    self.init(shape: [scalars.count], scalars: scalars)
  }

  /// A rank-2 tensor from rows of equal length.
  public init(_ rows: [[Scalar]]) {
    let columns = rows.first?.count ?? 0
    for (index, row) in rows.enumerated() {
      precondition(
        row.count == columns,
        "Tensor(rows): row \(index) has \(row.count) scalars, row 0 has \(columns)")
    }
    self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
  }

  /// The number of axes.
  @inlinable public var rank: Int { shape.count }

  /// The number of scalars, the product of the shape.
  @inlinable public var scalarCount: Int { storage.count }

  /// The scalars in row-major order.
  public var scalars: [Scalar] {
    Array(UnsafeBufferPointer(start: storage.base, count: storage.count))
  }

  /// The value of a tensor with exactly one scalar (of any rank).
  public var scalar: Scalar {
    precondition(scalarCount == 1, "Tensor.scalar: shape \(shape) holds \(scalarCount) scalars, not 1")
    return storage.base[0]
  }

  /// The row-major strides of the shape, in scalars.
  public var strides: [Int] { Shape.strides(of: shape) }

  /// Reads the scalars without copying.
  @inlinable
  public func withUnsafeBufferPointer<Result>(
    _ body: (UnsafeBufferPointer<Scalar>) throws -> Result
  ) rethrows -> Result {
    try body(UnsafeBufferPointer(start: storage.base, count: storage.count))
  }

  /// Writes the scalars in place, copying them first if the storage is shared.
  @inlinable
  public mutating func withUnsafeMutableBufferPointer<Result>(
    _ body: (UnsafeMutableBufferPointer<Scalar>) throws -> Result
  ) rethrows -> Result {
    makeUnique()
    return try body(UnsafeMutableBufferPointer(start: storage.base, count: storage.count))
  }

  /// Ensures this tensor is the only owner of its storage, before a write.
  @inlinable
  mutating func makeUnique() {
    autodiff = nil
    if !isKnownUniquelyReferenced(&storage) { copyStorage() }
  }

  @inline(never) @usableFromInline
  mutating func copyStorage() {
    storage = TensorStorage.make(copying: storage)
  }

  /// The scalar at a full multi-index, one index per axis.
  public subscript(indices: Int...) -> Scalar {
    get { storage.base[Shape.offset(of: indices, in: shape)] }
    set {
      let offset = Shape.offset(of: indices, in: shape)
      makeUnique()
      storage.base[offset] = newValue
    }
  }
}

/// Tensors cross threads as values: a storage shared between copies is
/// never written (copy-on-write copies it first), so sharing it is safe,
/// which the compiler cannot see through `ManagedBuffer`.
extension Tensor: @unchecked Sendable {}

extension Tensor: CustomStringConvertible {
  /// The shape and, for up to 64 scalars, the values.
  public var description: String {
    let values = scalarCount <= 64 ? "\(scalars)" : "[\(scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")), …]"
    return "Tensor<\(Scalar.self)>(shape: \(shape), scalars: \(values))"
  }
}

extension Tensor: Equatable {
  /// True when the shapes are equal and every scalar is equal (NaN ≠ NaN).
  public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
    lhs.shape == rhs.shape && lhs.withUnsafeBufferPointer { a in
      rhs.withUnsafeBufferPointer { b in a.elementsEqual(b) }
    }
  }
}
