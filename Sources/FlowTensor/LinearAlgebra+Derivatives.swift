// Shared pieces of the linear-algebra derivative rules: triangle masks, the
// matrix-batch folding of tangents into right-hand-side columns, and the NaN
// fallback where a derivative's solve meets an exactly singular matrix.

enum LinearAlgebraDerivatives {
  /// The constant `[n, n]` matrix with `below` under the diagonal,
  /// `diagonal` on it and `above` over it: multiplied elementwise, it keeps
  /// or weights a triangle, broadcasting over any batch.
  static func triangleMask<Scalar: TensorScalar>(
    order n: Int, below: Scalar, diagonal: Scalar, above: Scalar
  ) -> Tensor<Scalar> {
    var scalars = [Scalar](repeating: 0, count: n * n)
    for row in 0..<n {
      for column in 0..<n {
        scalars[row * n + column] = row > column ? below : (row == column ? diagonal : above)
      }
    }
    return Tensor(shape: [n, n], scalars: scalars)
  }

  /// Applies `body`, a map on right-hand sides `[batch..., n, k]` with the
  /// batch shape of a fixed matrix operand (a solve with it), to a tangent
  /// with extra leading axes, `[T..., batch..., n, k]` (or `[T..., batch..., n]`
  /// when `isVector`): the directions become extra columns,
  /// `[batch..., n, T·k]`, so the matrix is factored once for all of them.
  /// - Parameters:
  ///   - batchRank: the number of leading tangent batch axes T.
  ///   - isVector: the primal right-hand side is one vector per matrix.
  static func applyingToColumns<Scalar: TensorScalar>(
    _ rightHandSides: Tensor<Scalar>, batchRank: Int, isVector: Bool, _ body: (Tensor<Scalar>) -> Tensor<Scalar>
  ) -> Tensor<Scalar> {
    guard batchRank > 0 else { return body(rightHandSides) }
    let columns = isVector ? rightHandSides.reshaped(to: rightHandSides.shape + [1]) : rightHandSides
    let batchShape = Array(columns.shape[..<batchRank])
    let folded = columns.foldingLeadingAxes(batchRank, into: columns.rank - batchRank - 1)
    let result = body(folded)
    let unfolded = result.unfoldingLeadingAxes(batchShape, from: result.rank - 1, size: columns.shape[columns.rank - 1])
    return isVector ? unfolded.reshaped(to: Array(unfolded.shape.dropLast())) : unfolded
  }

  /// The result of a solve inside a derivative rule, or NaN of `shape` when
  /// the matrix is exactly singular: the derivative does not exist there,
  /// and a rule must not throw.
  static func orNaN<Scalar: TensorScalar>(shape: [Int], _ body: () throws -> Tensor<Scalar>) -> Tensor<Scalar> {
    (try? body()) ?? Tensor(repeating: .nan, shape: shape)
  }

  /// The outer product of vector batches, `u[..., i]·v[..., j]` → `[..., m, n]`.
  static func outerProduct<Scalar: TensorScalar>(_ u: Tensor<Scalar>, _ v: Tensor<Scalar>) -> Tensor<Scalar> {
    u.reshaped(to: u.shape + [1]) * v.reshaped(to: Array(v.shape.dropLast()) + [1, v.shape[v.rank - 1]])
  }

  /// `m`·`x` for a matrix batch `m` `[..., n, n]` (optionally transposed)
  /// and right-hand sides `x`, vectors `[..., n]` or matrices `[..., n, k]`;
  /// `m` may carry leading tangent batch axes.
  static func product<Scalar: TensorScalar>(
    _ m: Tensor<Scalar>, _ x: Tensor<Scalar>, isVector: Bool, transposingM: Bool = false
  ) -> Tensor<Scalar> {
    guard isVector else { return matmul(m, x, transposingA: transposingM) }
    let column = matmul(m, x.reshaped(to: x.shape + [1]), transposingA: transposingM)
    return column.reshaped(to: Array(column.shape.dropLast()))
  }
}
