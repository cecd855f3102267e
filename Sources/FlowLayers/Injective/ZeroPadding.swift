import FlowTensor

/// The simplest injective map R^d → R^D: append D − d zeros, then reorder
/// the D coordinates by a permutation fixed at construction (the "pad"
/// of Caterini et al. 2021, §4, after Brehmer & Cranmer's M-flows).
///
/// ``embed(_:)``: output coordinate i is padded coordinate `indices[i]`,
/// where padded coordinates 0..<d hold z and d..<D hold zeros.
/// ``project(_:)`` reads the d coordinates where z was placed and drops
/// the rest. Its Jacobian is a selection matrix, so JᵀJ = I and
/// log det(JᵀJ) = 0. It has no parameters.
public struct ZeroPadding<Scalar: TensorScalar>: InjectiveBijector {
  public let latentSize: Int
  /// Output coordinate i is padded coordinate `indices[i]`.
  public let indices: [Int]
  /// Where each latent coordinate lands: `latentPositions[j]` is the output
  /// coordinate holding z_j.
  public let latentPositions: [Int]

  /// Padding followed by the permutation `indices`.
  /// - Parameters:
  ///   - latentSize: d, with 0 ≤ d ≤ `indices.count`.
  ///   - indices: a permutation of `0..<D`, D = `indices.count`.
  public init(latentSize: Int, indices: [Int]) {
    precondition(
      latentSize >= 0 && latentSize <= indices.count,
      "ZeroPadding(latentSize: \(latentSize)): not in 0...\(indices.count), the ambient size")
    let inverse = PermutationIndices.inverse(of: indices, operation: "ZeroPadding(latentSize:indices:)")
    self.latentSize = latentSize
    self.indices = indices
    self.latentPositions = Array(inverse[0..<latentSize])
  }

  /// Padding followed by a uniformly random permutation drawn from `generator`.
  /// - Parameters:
  ///   - latentSize: d, with 0 ≤ d ≤ `ambientSize`.
  ///   - ambientSize: D.
  public init(latentSize: Int, ambientSize: Int, using generator: inout SeededGenerator) {
    precondition(ambientSize >= 0, "ZeroPadding: ambient size \(ambientSize) is negative")
    self.init(latentSize: latentSize, indices: PermutationIndices.random(count: ambientSize, using: &generator))
  }

  public var ambientSize: Int { indices.count }

  /// Pads and permutes.
  /// - Parameters:
  ///   - z: `[batch, latentSize]`.
  /// - Returns: `[batch, ambientSize]`, z's coordinates at ``latentPositions``, zeros elsewhere.
  /// - Complexity: O(batch·D).
  public func embed(_ z: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(
      z.rank == 2 && z.shape[1] == latentSize,
      "ZeroPadding.embed: input \(z.shape) is not [batch, \(latentSize)]")
    return z.padded(with: [(0, 0), (0, ambientSize - latentSize)]).gathering(atIndices: indices, alongAxis: 1)
  }

  /// Keeps the coordinates at ``latentPositions``.
  /// - Parameters:
  ///   - x: `[batch, ambientSize]`.
  /// - Returns: `[batch, latentSize]`.
  /// - Complexity: O(batch·d).
  public func project(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(
      x.rank == 2 && x.shape[1] == ambientSize,
      "ZeroPadding.project: input \(x.shape) is not [batch, \(ambientSize)]")
    return x.gathering(atIndices: latentPositions, alongAxis: 1)
  }

  /// JᵀJ = I: zeros, `[batch]`.
  public func logGramDeterminant(at z: Tensor<Scalar>) -> Tensor<Scalar>? {
    Tensor.zeros(shape: [z.shape[0]])
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {}
}
