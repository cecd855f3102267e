import FlowTensor

/// A smooth injective map g: R^d → R^D (d ≤ D) with a left inverse g†: the
/// building block of a rectangular flow, whose data live on the
/// d-dimensional manifold g(R^d) (Caterini et al., "Rectangular Flows for
/// Manifold Learning", NeurIPS 2021).
///
/// **Direction.** A ``Bijector``'s `forward` is the normalizing direction
/// (data → base). An injective map is only invertible on its image, so its
/// two directions are named for what they do instead:
///
/// - ``embed(_:)`` is g, the *generative* direction: latent z (`[batch, d]`)
///   → data x (`[batch, D]`). Its Jacobian J_g(z) is D×d, the matrix of
///   log det(JᵀJ).
/// - ``project(_:)`` is g†, the left inverse, in the normalizing direction:
///   x (`[batch, D]`) → z (`[batch, d]`), with g†(g(z)) = z for every z. On
///   a point off the manifold it returns the latent of some nearby point,
///   and g(g†(x)) is the reconstruction of x.
///
/// Both are built from differentiable FlowTensor ops, so forward-mode
/// products J·v (``jacobian(at:)``, `jvp`), reverse-mode products vᵀJ and
/// derivatives of either with respect to the parameters all come from
/// autodiff.
public protocol InjectiveBijector<Scalar>: Layer {
  associatedtype Scalar

  /// d, the size of a latent vector.
  var latentSize: Int { get }

  /// D, the size of a data vector.
  var ambientSize: Int { get }

  /// g: maps latents onto the manifold (the generative direction).
  /// - Parameters:
  ///   - z: `[batch, latentSize]`.
  /// - Returns: `[batch, ambientSize]`.
  func embed(_ z: Tensor<Scalar>) -> Tensor<Scalar>

  /// g†, the left inverse of ``embed(_:)`` (the normalizing direction).
  /// - Parameters:
  ///   - x: `[batch, ambientSize]`.
  /// - Returns: `[batch, latentSize]`.
  func project(_ x: Tensor<Scalar>) -> Tensor<Scalar>

  /// log det(J_g(z)ᵀ J_g(z)) per sample where it has a closed form (a
  /// padding's is 0), `nil` where it must be computed from the Jacobian.
  /// - Parameters:
  ///   - z: `[batch, latentSize]`.
  /// - Returns: `[batch]`, or `nil`.
  func logGramDeterminant(at z: Tensor<Scalar>) -> Tensor<Scalar>?
}

extension InjectiveBijector {
  /// No closed form: compute it from ``jacobian(at:)``.
  public func logGramDeterminant(at z: Tensor<Scalar>) -> Tensor<Scalar>? { nil }

  /// g(z) and its Jacobian, from ONE forward-mode pass that pushes the d
  /// one-hot directions through together (the tangent carries a leading
  /// axis of size d).
  ///
  /// Graph nodes of `z` and of the parameters are kept, so both results are
  /// differentiable in reverse mode (reverse-over-forward): the exact
  /// log det(JᵀJ) of FlowModels' `RectangularFlow` trains through them.
  /// - Parameters:
  ///   - z: `[batch, latentSize]`.
  /// - Returns: the output `[batch, ambientSize]` and J, `[batch, ambientSize, latentSize]`
  ///   (`jacobian[b, i, j]` = ∂x_i/∂z_j of sample b).
  /// - Complexity: about d + 1 passes of ``embed(_:)`` in one.
  public func jacobian(at z: Tensor<Scalar>) -> (output: Tensor<Scalar>, jacobian: Tensor<Scalar>) {
    let (output, tangent) = jacobianColumns(at: z, operation: "InjectiveBijector.jacobian(at:)")
    // tangent: [d, batch, D] → [batch, D, d].
    return (output, tangent.transposed(permutation: [1, 2, 0]))
  }

  /// g(z) and the transposed Jacobian Jᵀ, from the same single forward-mode
  /// pass as ``jacobian(at:)``, both differentiable in reverse mode.
  ///
  /// The layout for JᵀJ: `matmul(t, t, transposingB: true)` is JᵀJ, `[batch, d, d]`.
  /// Reaching it from the pass's `[d, batch, D]` tangent moves whole rows of
  /// D scalars, where ``jacobian(at:)``'s layout moves single scalars at a
  /// stride of batch·D, in the value and again in the pullback.
  /// - Parameters:
  ///   - z: `[batch, latentSize]`.
  /// - Returns: the output `[batch, ambientSize]` and Jᵀ, `[batch, latentSize, ambientSize]`
  ///   (`transposedJacobian[b, j, i]` = ∂x_i/∂z_j of sample b).
  /// - Complexity: about d + 1 passes of ``embed(_:)`` in one.
  public func transposedJacobian(at z: Tensor<Scalar>) -> (output: Tensor<Scalar>, transposedJacobian: Tensor<Scalar>) {
    let (output, tangent) = jacobianColumns(at: z, operation: "InjectiveBijector.transposedJacobian(at:)")
    // tangent: [d, batch, D] → [batch, d, D].
    return (output, tangent.transposed(permutation: [1, 0, 2]))
  }

  /// g(z) and J·e_j for the d one-hot directions e_j, `[d, batch, ambientSize]`.
  private func jacobianColumns(at z: Tensor<Scalar>, operation: String) -> (Tensor<Scalar>, Tensor<Scalar>) {
    precondition(
      z.rank == 2 && z.shape[1] == latentSize, "\(operation): input \(z.shape) is not [batch, \(latentSize)]")
    let batch = z.shape[0]
    let d = latentSize
    // directions[j, b, :] = e_j for every sample b.
    let oneHot = Tensor<Scalar>.identity(size: d).reshaped(to: [d, 1, d]).broadcast(to: [d, batch, d])
    return jvp(of: { self.embed($0) }, at: z, along: oneHot)
  }

  /// The reconstruction g(g†(x)) of data points: their nearest image on the
  /// manifold in the sense of this map.
  /// - Parameters:
  ///   - x: `[batch, ambientSize]`.
  /// - Returns: `[batch, ambientSize]`.
  public func reconstruct(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    embed(project(x))
  }
}
