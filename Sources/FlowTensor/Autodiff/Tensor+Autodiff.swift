/// Marking tensors for differentiation, and reading what autodiff attached.
extension Tensor {
  /// The same values, marked as a leaf of the reverse-mode graph: results of
  /// ops on it record how to send gradients back to it.
  ///
  /// The mark belongs to this value; a copy made before marking has none.
  public func requiringGradient() -> Tensor {
    var marked = Tensor(shape: shape, storage: storage)
    marked.autodiff = AutodiffState(
      node: GraphNode(operation: "leaf", shape: shape, parents: [], pullback: nil),
      tangent: autodiff?.tangent)
    return marked
  }

  /// Whether gradients flow back through this tensor: it is a marked leaf
  /// or depends on one through recorded ops.
  public var requiresGradient: Bool { autodiff?.node != nil }

  /// The forward-mode tangent carried by this tensor inside `jvp`, if any.
  public var tangent: Tensor? { autodiff?.tangent }

  /// The same values with the tangent removed and the graph node kept:
  /// the form in which derivative rules read their primal operands, so that
  /// tangent computations are themselves recorded (reverse-over-forward).
  @inlinable
  var withoutTangent: Tensor {
    guard let state = autodiff, state.tangent != nil else { return self }
    var copy = Tensor(shape: shape, storage: storage)
    if let node = state.node { copy.autodiff = AutodiffState(node: node, tangent: nil) }
    return copy
  }

  /// The same values with neither a graph node nor a tangent.
  @inlinable
  var detached: Tensor {
    autodiff == nil ? self : Tensor(shape: shape, storage: storage)
  }

  /// A copy carrying `tangent` and this tensor's graph node.
  func attachingTangent(_ tangent: Tensor?) -> Tensor {
    var copy = Tensor(shape: shape, storage: storage)
    let node = autodiff?.node
    if node != nil || tangent != nil { copy.autodiff = AutodiffState(node: node, tangent: tangent) }
    return copy
  }
}

/// The same values with no derivative: gradients do not flow back through
/// the result, and its forward-mode tangent is zero.
public func stopGradient<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
  x.detached
}
