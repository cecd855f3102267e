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
    return placingLatents(z)
  }

  /// `x` (`[..., latentSize]`) with its last-axis entries moved to
  /// ``latentPositions`` of a zero `[..., ambientSize]` tensor: padding and
  /// permutation in one pass, a primitive op with its own rules.
  ///
  /// Padding then gathering with `indices` gives the same scalars, but in
  /// the exact estimator the gather runs on the d one-hot tangents
  /// (`[d, batch, D]`, one index look-up per scalar) and took more time
  /// than this whole op: here each row is zero-filled and receives its d
  /// scalars. The map is linear, so its tangent is the map itself applied
  /// to the tangent (whose leading batch axes it treats as more rows), and
  /// its pullback reads the cotangent at ``latentPositions``, which is
  /// ``project(_:)``.
  /// - Parameters:
  ///   - x: rank ≥ 1, last axis of size ``latentSize``.
  /// - Returns: `x`'s shape with the last axis ``ambientSize``.
  /// - Complexity: O(rows·D).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func placingLatents(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    let d = latentSize
    let size = ambientSize
    let rowShape = Array(x.shape.dropLast())
    let rows = rowShape.reduce(1, *)
    // The zeros come from an array, whose fill is specialised here:
    // `Tensor.zeros` fills scalar by scalar through unspecialised code
    // (`TensorStorage.make(repeating:count:)`), 1% of an exact step at d = 20.
    var scalars = [Scalar](repeating: 0, count: rows * size)
    if d > 0 && rows > 0 {
      x.withUnsafeBufferPointer { source in
        scalars.withUnsafeMutableBufferPointer { output in
          latentPositions.withUnsafeBufferPointer { positions in
            for row in 0..<rows {
              let input = source.baseAddress! + row * d
              let out = output.baseAddress! + row * size
              for j in 0..<d { out[positions[j]] = input[j] }
            }
          }
        }
      }
    }
    let value = Tensor(shape: rowShape + [size], scalars: scalars)
    guard x.requiresGradient || x.tangent != nil else { return value }
    let positions = latentPositions
    return value.derived(
      from: x, operation: "ZeroPadding.embed",
      pullback: { $0.gathering(atIndices: positions, alongAxis: -1) },
      tangent: { _, _, tangent in self.placingLatents(tangent) })
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
