/// How an op attaches its derivatives to the value it computed.
///
/// Every primitive op is written once with three parts, in the same place:
///
/// ```swift
/// public func exp<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
///   let y = x.map { chunk in ElementwiseKernels.exp(chunk.source, chunk.destination, count: chunk.count) }
///   guard x.autodiff != nil else { return y }           // the common case: no derivative wanted
///   let value = y
///   return y.derived(
///     from: x, operation: "exp",
///     pullback: { cotangent in cotangent * value },      // VJP: runs in the backward pass
///     tangent: { _, output, tangent in tangent * output })  // JVP: runs now, on tensor ops
/// }
/// ```
///
/// Rules for the two modes:
/// - A **pullback** maps the output's cotangent (the output's shape) to each
///   input's cotangent (that input's shape; use ``Tensor/unbroadcast(to:)``
///   after broadcasting). It runs with recording paused. It should capture
///   plain values (`detached`), not tensors that carry graph nodes.
/// - A **tangent** rule maps input tangents to the output tangent using
///   public tensor ops on the primal operands it is handed: those keep their
///   graph nodes, so the tangent is itself recorded and can be differentiated
///   in reverse mode (reverse-over-forward). A tangent may have leading
///   *batch* axes, `[batch..., primal shape...]`, so that several directions
///   share one pass; elementwise rules broadcast over them for free, shape
///   rules shift their axes by ``tangentBatchRank(_:primal:)``, and binary
///   rules align operands with ``alignTangent(_:primalRank:toRank:)``.
extension Tensor {
  /// Attaches the derivatives of a one-input op to its value `self`.
  /// - Parameters:
  ///   - input: the op's operand, as the caller received it.
  ///   - operation: the op's name, for diagnostics.
  ///   - pullback: output cotangent → input cotangent.
  ///   - tangent: (input without tangent, output, input tangent) → output tangent.
  @inlinable
  public func derived(
    from input: Tensor, operation: @autoclosure () -> String,
    pullback: @escaping (Tensor) -> Tensor,
    tangent: (_ input: Tensor, _ output: Tensor, _ inputTangent: Tensor) -> Tensor
  ) -> Tensor {
    guard let state = input.autodiff else { return self }
    var output = detached
    var node: GraphNode<Scalar>? = nil
    if let parent = state.node, Recording.isActive {
      node = GraphNode(
        operation: operation(), shape: shape, first: parent, second: nil, count: 1, pullback: .unary(pullback))
      output.autodiff = AutodiffState(node: node, tangent: nil)
    }
    if let inputTangent = state.tangent {
      let outputTangent = tangent(input.withoutTangent, output, inputTangent)
      output.autodiff = AutodiffState(node: node, tangent: outputTangent)
    }
    return output
  }

  /// Attaches the derivatives of a two-input op to its value `self`.
  /// - Parameters:
  ///   - pullback: output cotangent → (lhs cotangent, rhs cotangent); either
  ///     may be `nil` when that input needs none (see `requiresGradient`).
  ///   - tangent: (lhs, rhs without tangents, output, lhs tangent, rhs
  ///     tangent) → output tangent; a `nil` tangent is zero, and at least
  ///     one is non-nil.
  @inlinable
  public func derived(
    from lhs: Tensor, _ rhs: Tensor, operation: @autoclosure () -> String,
    pullback: @escaping (Tensor) -> (Tensor?, Tensor?),
    tangent: (_ lhs: Tensor, _ rhs: Tensor, _ output: Tensor, _ lhsTangent: Tensor?, _ rhsTangent: Tensor?) -> Tensor
  ) -> Tensor {
    guard lhs.autodiff != nil || rhs.autodiff != nil else { return self }
    var output = detached
    var node: GraphNode<Scalar>? = nil
    let (first, second) = (lhs.autodiff?.node, rhs.autodiff?.node)
    if Recording.isActive, first != nil || second != nil {
      node = GraphNode(
        operation: operation(), shape: shape, first: first, second: second, count: 2, pullback: .binary(pullback))
      output.autodiff = AutodiffState(node: node, tangent: nil)
    }
    let lhsTangent = lhs.autodiff?.tangent
    let rhsTangent = rhs.autodiff?.tangent
    if lhsTangent != nil || rhsTangent != nil {
      let outputTangent = tangent(lhs.withoutTangent, rhs.withoutTangent, output, lhsTangent, rhsTangent)
      output.autodiff = AutodiffState(node: node, tangent: outputTangent)
    }
    return output
  }

  /// Attaches the derivatives of an op with any number of inputs (concatenation, …).
  /// - Parameters:
  ///   - pullback: output cotangent → one cotangent (or `nil`) per input.
  ///   - tangent: (inputs without tangents, output, input tangents, `nil`
  ///     for zero) → output tangent.
  @inlinable
  public func derived(
    from inputs: [Tensor], operation: @autoclosure () -> String,
    pullback: @escaping (Tensor) -> [Tensor?],
    tangent: (_ inputs: [Tensor], _ output: Tensor, _ inputTangents: [Tensor?]) -> Tensor
  ) -> Tensor {
    guard inputs.contains(where: { $0.autodiff != nil }) else { return self }
    var output = detached
    var node: GraphNode<Scalar>? = nil
    let parents: [GraphLinks?] = inputs.map { $0.autodiff?.node }
    if Recording.isActive, parents.contains(where: { $0 != nil }) {
      node = GraphNode(operation: operation(), shape: shape, parents: parents, pullback: .nary(pullback))
      output.autodiff = AutodiffState(node: node, tangent: nil)
    }
    let tangents = inputs.map { $0.autodiff?.tangent }
    if tangents.contains(where: { $0 != nil }) {
      let outputTangent = tangent(inputs.map(\.withoutTangent), output, tangents)
      output.autodiff = AutodiffState(node: node, tangent: outputTangent)
    }
    return output
  }

  /// Sums a cotangent of a broadcast result back to an operand's shape:
  /// over the leading axes the operand lacks and over its size-1 axes.
  /// - Parameters:
  ///   - shape: a shape that broadcasts to `self.shape`.
  /// - Complexity: O(n).
  public func unbroadcast(to shape: [Int]) -> Tensor {
    if self.shape == shape { return self }
    let extra = rank - shape.count
    precondition(extra >= 0, "unbroadcast: shape \(self.shape) has fewer axes than target \(shape)")
    var axes = Array(0..<extra)
    for (axis, size) in shape.enumerated() where size == 1 && self.shape[axis + extra] != 1 {
      axes.append(axis + extra)
    }
    let summed = axes.isEmpty ? self : sum(alongAxes: axes, keepingDimensions: true)
    return summed.reshaped(to: shape)
  }
}

/// The number of leading batch axes of a forward-mode tangent: its rank
/// minus its primal's.
@inlinable
public func tangentBatchRank<Scalar: TensorScalar>(_ tangent: Tensor<Scalar>, primal: Tensor<Scalar>) -> Int {
  tangent.rank - primal.rank
}

/// A tangent `[batch..., primal...]` reshaped to `[batch..., 1…, primal...]`
/// so that its primal part has `rank` axes: how a binary op's tangents line
/// up with the broadcast output when they carry batch axes.
/// - Parameters:
///   - primalRank: the rank of the tangent's primal.
///   - rank: the output's rank, at least `primalRank`.
@inlinable
public func alignTangent<Scalar: TensorScalar>(_ tangent: Tensor<Scalar>, primalRank: Int, toRank rank: Int) -> Tensor<Scalar> {
  let batchRank = tangent.rank - primalRank
  guard batchRank > 0, rank > primalRank else { return tangent }
  let shape = Array(tangent.shape[..<batchRank]) + Array(repeating: 1, count: rank - primalRank)
    + Array(tangent.shape[batchRank...])
  return tangent.reshaped(to: shape)
}

/// The sum of a binary op's tangent terms, each `(tangent, primal)` with
/// the primal whose rank the tangent's primal part has, aligned and
/// broadcast to `[batch..., output shape...]`. A `nil` term is zero; at
/// least one is present.
@inlinable
public func sumOfTangents<Scalar: TensorScalar>(
  _ first: (Tensor<Scalar>, Tensor<Scalar>)?, _ second: (Tensor<Scalar>, Tensor<Scalar>)?, output: Tensor<Scalar>
) -> Tensor<Scalar> {
  let terms = [first, second].compactMap { $0 }.map { tangent, primal in
    alignTangent(tangent, primalRank: primal.rank, toRank: output.rank)
  }
  precondition(!terms.isEmpty, "sumOfTangents: no tangent term")
  let total = terms.count == 2 ? terms[0] + terms[1] : terms[0]
  let batchRank = total.rank - output.rank
  let target = Array(total.shape[..<Swift.max(batchRank, 0)]) + output.shape
  return total.shape == target ? total : total.broadcast(to: target)
}
