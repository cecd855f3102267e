/// The differentiation API: reverse mode (`gradient`, `valueWithGradient`,
/// `vjp`) and forward mode (`jvp`), which compose: a `jvp` evaluated inside
/// `valueWithGradient` is differentiated through (reverse-over-forward).
///
/// Design: tensors that require gradients record, op by op, a graph of
/// nodes holding each op's pullback; the graph lives as long as the tensors
/// that reference it and a backward pass consumes it. Forward mode carries
/// a tangent beside each primal through the same ops, computed with tensor
/// ops so that it is recorded like any other value.

/// The gradient of a scalar `loss` with respect to each of `inputs`.
///
/// - Parameters:
///   - loss: a tensor computed from `inputs`; one scalar unless `seed` is given.
///   - inputs: tensors marked with ``Tensor/requiringGradient()`` or
///     computed from such (an input the loss does not depend on gets zeros).
///   - seed: the cotangent of `loss` (its shape); default 1.
/// - Returns: one gradient per input, of that input's shape.
/// - Complexity: one backward pass over the graph; the graph is consumed.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func gradient<Scalar: TensorScalar>(
  of loss: Tensor<Scalar>, withRespectTo inputs: [Tensor<Scalar>], seed: Tensor<Scalar>? = nil
) -> [Tensor<Scalar>] {
  precondition(
    seed != nil || loss.scalarCount == 1,
    "gradient(of:withRespectTo:): the loss has shape \(loss.shape); give a seed cotangent of that shape for a non-scalar output")
  let cotangents: [Tensor<Scalar>?]
  if let root = loss.autodiff?.node {
    let seed = seed ?? Tensor(repeating: 1, shape: loss.shape)
    cotangents = Backpropagation.run(from: root, seed: seed, targets: inputs.map { $0.autodiff?.node })
  } else {
    cotangents = Array(repeating: nil, count: inputs.count)
  }
  return zip(inputs, cotangents).map { input, cotangent in cotangent ?? Tensor.zeros(shape: input.shape) }
}

/// The value of `body` at `inputs` and its gradient with respect to each.
///
/// - Parameters:
///   - inputs: the point; each is marked as a leaf for this call only.
///   - body: a function returning one scalar (a tensor of one element).
/// - Returns: the value (without graph) and one gradient per input.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func valueWithGradient<Scalar: TensorScalar>(
  at inputs: [Tensor<Scalar>], in body: ([Tensor<Scalar>]) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, gradients: [Tensor<Scalar>]) {
  let leaves = inputs.map { $0.detached.requiringGradient() }
  let value = try body(leaves)
  precondition(
    value.scalarCount == 1,
    "valueWithGradient(at:in:): the function returned shape \(value.shape); it must return one scalar")
  return (value.detached, gradient(of: value, withRespectTo: leaves))
}

/// The value of `body` at `input` and its gradient.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func valueWithGradient<Scalar: TensorScalar>(
  at input: Tensor<Scalar>, in body: (Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, gradient: Tensor<Scalar>) {
  let (value, gradients) = try valueWithGradient(at: [input]) { try body($0[0]) }
  return (value, gradients[0])
}

/// The value of `body` at `inputs` and a pullback mapping a cotangent of
/// the value to cotangents of the inputs (vector-Jacobian products).
///
/// The computation is recorded on a graph of its own, detached from any
/// enclosing one, and the pullback runs without recording: it can be called
/// many times (the graph is kept), as an iterative solver such as conjugate
/// gradients needs.
/// - Returns: the value (without graph) and the pullback; cotangents have the
///   value's shape, results the inputs' shapes.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func vjp<Scalar: TensorScalar>(
  of body: ([Tensor<Scalar>]) throws -> Tensor<Scalar>, at inputs: [Tensor<Scalar>]
) rethrows -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> [Tensor<Scalar>]) {
  let leaves = inputs.map { $0.detached.requiringGradient() }
  let value = try body(leaves)
  let root = value.autodiff?.node
  let targets = leaves.map { $0.autodiff?.node }
  let shapes = inputs.map(\.shape)
  let pullback = { (cotangent: Tensor<Scalar>) -> [Tensor<Scalar>] in
    guard let root else { return shapes.map { Tensor.zeros(shape: $0) } }
    let cotangents = Backpropagation.run(
      from: root, seed: cotangent.detached, targets: targets, retainingGraph: true)
    return zip(shapes, cotangents).map { shape, cotangent in cotangent ?? Tensor.zeros(shape: shape) }
  }
  return (value.detached, pullback)
}

/// The value of `body` at `input` and its pullback.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func vjp<Scalar: TensorScalar>(
  of body: (Tensor<Scalar>) throws -> Tensor<Scalar>, at input: Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> Tensor<Scalar>) {
  let (value, pullback) = try vjp(of: { try body($0[0]) }, at: [input])
  return (value, { pullback($0)[0] })
}

/// The value of `body` at `inputs` and its directional derivative along
/// `directions` (a Jacobian-vector product), in one forward pass.
///
/// - Parameters:
///   - inputs: the point. Graph nodes they carry are kept, so if they
///     depend on tensors that require gradients, both results can be
///     differentiated in reverse mode (reverse-over-forward).
///   - directions: one per input, each of its input's shape, or all with
///     the same extra leading axes `[batch..., input shape...]` to push
///     several directions through one pass (for example the d one-hot
///     vectors of a full Jacobian).
/// - Returns: the value and the tangent, `[batch..., value shape...]`.
/// - Complexity: about twice the cost of `body`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func jvp<Scalar: TensorScalar>(
  of body: ([Tensor<Scalar>]) throws -> Tensor<Scalar>, at inputs: [Tensor<Scalar>],
  along directions: [Tensor<Scalar>]
) rethrows -> (value: Tensor<Scalar>, tangent: Tensor<Scalar>) {
  precondition(
    inputs.count == directions.count,
    "jvp(of:at:along:): \(inputs.count) inputs but \(directions.count) directions")
  var batchShape: [Int]? = nil
  for (input, direction) in zip(inputs, directions) {
    precondition(input.tangent == nil, "jvp(of:at:along:): nested forward mode is not supported")
    let batchRank = direction.rank - input.rank
    precondition(
      batchRank >= 0 && Array(direction.shape[batchRank...]) == input.shape,
      "jvp(of:at:along:): direction of shape \(direction.shape) for an input of shape \(input.shape); "
        + "it must be the input's shape, after optional leading batch axes")
    let batch = Array(direction.shape[..<batchRank])
    precondition(
      batchShape == nil || batchShape == batch,
      "jvp(of:at:along:): directions have different batch axes \(batchShape!) and \(batch)")
    batchShape = batch
  }
  let duals = zip(inputs, directions).map { input, direction in
    input.withoutTangent.attachingTangent(direction.withoutTangent)
  }
  let output = try body(duals)
  let tangent = output.tangent ?? Tensor.zeros(shape: (batchShape ?? []) + output.shape)
  return (output.withoutTangent, tangent)
}

/// The value of `body` at `input` and its derivative along `direction`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func jvp<Scalar: TensorScalar>(
  of body: (Tensor<Scalar>) throws -> Tensor<Scalar>, at input: Tensor<Scalar>, along direction: Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, tangent: Tensor<Scalar>) {
  try jvp(of: { try body($0[0]) }, at: [input], along: [direction])
}
