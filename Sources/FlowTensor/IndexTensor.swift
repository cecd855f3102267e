/// An n-dimensional array of integer indices, row-major: what `argmax`
/// returns and what `gather` reads.
///
/// Kept apart from ``Tensor`` so that indices are never rounded through a
/// floating-point type.
public struct IndexTensor: Equatable, Sendable, CustomStringConvertible {
  /// The size of each axis, outermost first.
  public let shape: [Int]
  /// The indices in row-major order; `indices.count` is the shape's product.
  public let indices: [Int]

  /// An index tensor of the given shape.
  /// - Parameters:
  ///   - shape: every size at least 0.
  ///   - indices: exactly `shape.reduce(1, *)` values.
  public init(shape: [Int], indices: [Int]) {
    let count = Shape.validatedCount(shape, operation: "IndexTensor(shape:indices:)")
    precondition(
      indices.count == count,
      "IndexTensor(shape:indices:): shape \(shape) holds \(count) indices, got \(indices.count)")
    self.shape = shape
    self.indices = indices
  }

  /// A rank-1 index tensor.
  public init(_ indices: [Int]) {
    self.init(shape: [indices.count], indices: indices)
  }

  /// The number of axes.
  public var rank: Int { shape.count }

  public var description: String { "IndexTensor(shape: \(shape), indices: \(indices))" }
}
