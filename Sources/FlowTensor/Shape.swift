/// Shape arithmetic shared by every op: counts, strides, axes, broadcasting.
///
/// All failures here are programming mistakes and stop at a `precondition`
/// whose message names the operation and the offending shapes.
public enum Shape {
  /// The product of `shape`, after checking that no size is negative.
  @inlinable
  public static func validatedCount(_ shape: [Int], operation: @autoclosure () -> String) -> Int {
    var count = 1
    for size in shape {
      precondition(size >= 0, "\(operation()): negative size in shape \(shape)")
      count *= size
    }
    return count
  }

  /// Row-major strides in scalars: the last axis has stride 1.
  @inlinable
  public static func strides(of shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var running = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
      strides[axis] = running
      running *= shape[axis]
    }
    return strides
  }

  /// The flat offset of a full multi-index.
  public static func offset(of indices: [Int], in shape: [Int]) -> Int {
    precondition(
      indices.count == shape.count,
      "Tensor subscript: \(indices.count) indices \(indices) for rank-\(shape.count) shape \(shape)")
    var offset = 0
    for (axis, index) in indices.enumerated() {
      precondition(
        index >= 0 && index < shape[axis],
        "Tensor subscript: index \(index) out of range 0..<\(shape[axis]) on axis \(axis) of shape \(shape)")
      offset = offset * shape[axis] + index
    }
    return offset
  }

  /// Maps a possibly negative axis (-1 is the last) into `0..<rank`.
  @inlinable
  public static func normalizedAxis(_ axis: Int, rank: Int, operation: @autoclosure () -> String) -> Int {
    let normalized = axis < 0 ? axis + rank : axis
    precondition(
      normalized >= 0 && normalized < rank,
      "\(operation()): axis \(axis) out of range for rank \(rank)")
    return normalized
  }

  /// Normalises a set of axes, rejecting duplicates; the result is sorted.
  public static func normalizedAxes(_ axes: [Int], rank: Int, operation: @autoclosure () -> String) -> [Int] {
    let normalized = axes.map { normalizedAxis($0, rank: rank, operation: operation()) }.sorted()
    for index in normalized.indices.dropFirst() where normalized[index] == normalized[index - 1] {
      preconditionFailure("\(operation()): axis \(normalized[index]) repeated in \(axes)")
    }
    return normalized
  }

  /// The NumPy broadcast of two shapes: aligned at the last axis, each pair
  /// of sizes equal or one of them 1.
  public static func broadcast(_ lhs: [Int], _ rhs: [Int], operation: @autoclosure () -> String) -> [Int] {
    let rank = max(lhs.count, rhs.count)
    var result = [Int](repeating: 1, count: rank)
    for index in 0..<rank {
      let a = index < rank - lhs.count ? 1 : lhs[index - (rank - lhs.count)]
      let b = index < rank - rhs.count ? 1 : rhs[index - (rank - rhs.count)]
      precondition(
        a == b || a == 1 || b == 1,
        "\(operation()): shapes \(lhs) and \(rhs) do not broadcast (sizes \(a) and \(b) on axis \(index) of the result)")
      result[index] = a == 1 ? b : a
    }
    return result
  }

  /// Strides that read a tensor of shape `shape` as if it had shape
  /// `target` (its broadcast): 0 on every broadcast axis.
  public static func broadcastStrides(of shape: [Int], to target: [Int]) -> [Int] {
    let own = strides(of: shape)
    let offset = target.count - shape.count
    precondition(offset >= 0, "broadcast: shape \(shape) has more axes than target \(target)")
    var result = [Int](repeating: 0, count: target.count)
    for axis in 0..<shape.count {
      precondition(
        shape[axis] == target[axis + offset] || shape[axis] == 1,
        "broadcast: shape \(shape) cannot broadcast to \(target)")
      result[axis + offset] = shape[axis] == 1 ? 0 : own[axis]
    }
    return result
  }
}
