import FlowTensor

/// A fixed reordering of the features: output feature i is input feature
/// `indices[i]`. Flows interleave it with coupling layers so that every
/// feature is eventually transformed: Dinh et al. ("Density estimation
/// using Real NVP", 2017, §3.5) alternate the halves; a random order, drawn
/// once from a seed, is the usual choice for flat data.
///
/// Inputs are `[batch, features]`. A permutation has |det J| = 1, so both
/// log-determinants are 0; it has no parameters. Both directions gather
/// along axis 1 (``FlowTensor/Tensor/gathering(atIndices:alongAxis:)``),
/// which is differentiable.
public struct Permutation<Scalar: TensorScalar>: Bijector {
  /// Output feature i is input feature `indices[i]`.
  public let indices: [Int]
  /// The inverse permutation: `inverseIndices[indices[i]] == i`.
  public let inverseIndices: [Int]

  /// The permutation that takes input feature `indices[i]` to output feature i.
  /// - Parameters:
  ///   - indices: each of `0..<indices.count` exactly once.
  public init(indices: [Int]) {
    self.inverseIndices = PermutationIndices.inverse(of: indices, operation: "Permutation(indices:)")
    self.indices = indices
  }

  /// A uniformly random permutation of `features` features, drawn from `generator`.
  /// - Parameters:
  ///   - features: ≥ 0.
  /// - Complexity: O(features).
  public init(features: Int, using generator: inout SeededGenerator) {
    self.init(indices: PermutationIndices.random(count: features, using: &generator))
  }

  /// The random permutation that ``init(features:using:)`` draws from
  /// `SeededGenerator(seed: seed)`: the same seed, the same permutation.
  public init(features: Int, seed: UInt64) {
    var generator = SeededGenerator(seed: seed)
    self.init(features: features, using: &generator)
  }

  /// The number of features permuted.
  public var features: Int { indices.count }

  /// Reorders the features of `x`.
  /// - Parameters:
  ///   - x: `[batch, features]`.
  /// - Returns: `[batch, features]` with column i holding column `indices[i]`
  ///   of `x`, and zeros `[batch]`.
  /// - Complexity: O(x.scalarCount).
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    PermutationIndices.check(x, rank: 2, size: features, operation: "Permutation.forward")
    return (x.gathering(atIndices: indices, alongAxis: 1), Tensor.zeros(shape: [x.shape[0]]))
  }

  /// Puts the features of `y` back in their original order.
  /// - Parameters:
  ///   - y: `[batch, features]`.
  /// - Returns: `[batch, features]` and zeros `[batch]`.
  /// - Complexity: O(y.scalarCount).
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    PermutationIndices.check(y, rank: 2, size: features, operation: "Permutation.inverse")
    return (y.gathering(atIndices: inverseIndices, alongAxis: 1), Tensor.zeros(shape: [y.shape[0]]))
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {}
}

/// The feature order reversed: output feature i is input feature n − 1 − i
/// (the "reverse" ordering that Kingma & Dhariwal, "Glow", 2018, compare
/// their 1×1 convolutions against). It is its own inverse, works for any feature count, has
/// log-determinant 0 and no parameters.
///
/// Inputs are `[batch, features]`.
public struct ReversePermutation<Scalar: TensorScalar>: Bijector {
  public init() {}

  /// Reverses the features of `x`.
  /// - Parameters:
  ///   - x: `[batch, features]`.
  /// - Returns: `[batch, features]` and zeros `[batch]`.
  /// - Complexity: O(x.scalarCount).
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    reverse(x, operation: "ReversePermutation.forward")
  }

  /// Reverses the features of `y` (the same map as ``forward(_:)``).
  /// - Parameters:
  ///   - y: `[batch, features]`.
  /// - Returns: `[batch, features]` and zeros `[batch]`.
  /// - Complexity: O(y.scalarCount).
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    reverse(y, operation: "ReversePermutation.inverse")
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {}

  private func reverse(_ x: Tensor<Scalar>, operation: String) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    precondition(x.rank == 2, "\(operation): input \(x.shape) is not [batch, features]")
    let indices = Array((0..<x.shape[1]).reversed())
    return (x.gathering(atIndices: indices, alongAxis: 1), Tensor.zeros(shape: [x.shape[0]]))
  }
}

/// Index arithmetic shared by the permutation layers.
enum PermutationIndices {
  /// A uniformly random permutation of `0..<count` by the Fisher–Yates
  /// shuffle in Durstenfeld's form (Knuth, TAOCP vol. 2, §3.4.2,
  /// Algorithm P), spelled out so that the permutation of a seed does not
  /// depend on the standard library's `shuffle`.
  static func random(count: Int, using generator: inout SeededGenerator) -> [Int] {
    precondition(count >= 0, "random permutation: the count \(count) is negative")
    var result = Array(0..<count)
    for last in stride(from: count - 1, to: 0, by: -1) {
      let other = Int(generator.next(upperBound: UInt64(last + 1)))
      result.swapAt(last, other)
    }
    return result
  }

  /// The inverse of `indices`, after checking that it is a permutation of
  /// `0..<indices.count`.
  static func inverse(of indices: [Int], operation: String) -> [Int] {
    var inverse = [Int](repeating: -1, count: indices.count)
    for (position, index) in indices.enumerated() {
      precondition(
        indices.indices.contains(index) && inverse[index] == -1,
        "\(operation): \(indices) is not a permutation of 0..<\(indices.count) (entry \(position) is \(index))")
      inverse[index] = position
    }
    return inverse
  }

  /// Checks that `x` has `rank` axes and `size` elements along axis 1.
  static func check<Scalar: TensorScalar>(_ x: Tensor<Scalar>, rank: Int, size: Int, operation: String) {
    precondition(
      x.rank == rank && x.shape[1] == size,
      "\(operation): input \(x.shape) is not \(rank == 2 ? "[batch, \(size)]" : "[batch, \(size), height, width]")")
  }
}
