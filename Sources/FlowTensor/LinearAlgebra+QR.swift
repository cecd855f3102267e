/// The reduced QR decomposition of each matrix of a batch, A = Q·R, as
/// NumPy's `linalg.qr(mode='reduced')`.
///
/// The row-major `[m, n]` matrix is Aᵀ column-major, and the LQ
/// factorisation Aᵀ = L·Q₁ (`xGELQF`, then `xORGLQ` for Q₁) is A = Q₁ᵀ·Lᵀ,
/// a QR of A with Q = Q₁ᵀ and R = Lᵀ. Both come out row-major where LAPACK
/// leaves them, so there is no transposing copy: the Householder reflectors
/// are those `xGEQRF` would compute for A, and R's diagonal has the signs
/// NumPy's has (up to rounding). R is copied out before Q overwrites it; Q
/// is the factored buffer itself when m ≥ n, and is copied out of its first
/// m columns when m < n.
/// - Parameters:
///   - a: `[m, n]` or `[..., m, n]`.
/// - Returns: `q`, `[..., m, min(m, n)]`, with orthonormal columns, and `r`,
///   `[..., min(m, n), n]`, upper triangular (trapezoidal when m < n).
///   Both are differentiable where the leading min(m, n) columns of A are
///   linearly independent (R's leading square block invertible); the
///   derivatives are NaN where it is exactly singular (see
///   `LinearAlgebra+QR+Derivatives.swift`).
/// - Complexity: O(m·n·min(m, n)) per matrix.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func qrDecomposition<Scalar: TensorScalar>(_ a: Tensor<Scalar>) -> (q: Tensor<Scalar>, r: Tensor<Scalar>) {
  let (q, r) = qrValue(a)
  guard a.autodiff != nil else { return (q, r) }
  return qrDerived(q, r, a)
}

/// The value of ``qrDecomposition(_:)``, without derivatives.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func qrValue<Scalar: TensorScalar>(_ a: Tensor<Scalar>) -> (q: Tensor<Scalar>, r: Tensor<Scalar>) {
  precondition(a.rank >= 2, "qrDecomposition: shape \(a.shape) is not a matrix [m, n] or a batch of them [..., m, n]")
  let batchShape = Array(a.shape.dropLast(2))
  let (m, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
  let k = min(m, n)
  let matrices = batchShape.reduce(1, *)
  guard k > 0 && matrices > 0 else {
    return (Tensor.zeros(shape: batchShape + [m, k]), Tensor.zeros(shape: batchShape + [k, n]))
  }
  var factors = a
  var r = Tensor<Scalar>(uninitializedShape: batchShape + [k, n])
  var tau = [Scalar](repeating: 0, count: k)
  factors.withUnsafeMutableBufferPointer { buffer in
    r.withUnsafeMutableBufferPointer { rBuffer in
      let base = buffer.baseAddress!
      // Column-major, each matrix is Aᵀ: n rows, m columns, leading dimension n.
      let factorWorkspace = LinearAlgebraLayout.workspaceCount(minimum: n, routine: "gelqf") { query in
        Scalar.lapackGelqf(
          rows: n, columns: m, base, leadingDimension: n, tau: &tau, workspace: query, workspaceCount: -1)
      }
      let orthogonalWorkspace = LinearAlgebraLayout.workspaceCount(minimum: k, routine: "orglq") { query in
        Scalar.lapackOrglq(
          rows: k, columns: m, reflectors: k, base, leadingDimension: n, tau: tau, workspace: query,
          workspaceCount: -1)
      }
      let workspaceCount = max(factorWorkspace, orthogonalWorkspace)
      let workspace = UnsafeMutablePointer<Scalar>.allocate(capacity: workspaceCount)
      defer { workspace.deallocate() }
      for matrix in 0..<matrices {
        let slice = base + matrix * m * n
        let info = Scalar.lapackGelqf(
          rows: n, columns: m, slice, leadingDimension: n, tau: &tau, workspace: workspace,
          workspaceCount: workspaceCount)
        LinearAlgebraLayout.requireArguments(info, "gelqf", Scalar.self)
        // R = Lᵀ: row i of R is row i of the row-major buffer, from the diagonal on.
        let rSlice = rBuffer.baseAddress! + matrix * k * n
        for row in 0..<k {
          (rSlice + row * n).update(repeating: 0, count: row)
          (rSlice + row * n + row).update(from: slice + row * n + row, count: n - row)
        }
        let orthogonalInfo = Scalar.lapackOrglq(
          rows: k, columns: m, reflectors: k, slice, leadingDimension: n, tau: tau, workspace: workspace,
          workspaceCount: workspaceCount)
        LinearAlgebraLayout.requireArguments(orthogonalInfo, "orglq", Scalar.self)
      }
    }
  }
  if k == n { return (factors, r) }
  // m < n: Q = Q₁ᵀ is the first m columns of each m-by-n row-major matrix.
  var q = Tensor<Scalar>(uninitializedShape: batchShape + [m, k])
  factors.withUnsafeBufferPointer { source in
    q.withUnsafeMutableBufferPointer { destination in
      for matrix in 0..<matrices {
        for row in 0..<m {
          (destination.baseAddress! + (matrix * m + row) * k)
            .update(from: source.baseAddress! + (matrix * m + row) * n, count: k)
        }
      }
    }
  }
  return (q, r)
}
