import Foundation

/// What a tensor carries for automatic differentiation: its place in the
/// reverse-mode graph and, in forward mode, its tangent.
///
/// Most tensors carry nothing (`Tensor.autodiff == nil`), and every op's
/// derivative bookkeeping is skipped for them after one `nil` check.
@usableFromInline
final class AutodiffState<Scalar: TensorScalar>: @unchecked Sendable {
  /// The node that produced the tensor in the reverse-mode graph, if the
  /// tensor depends on something that requires a gradient.
  @usableFromInline let node: GraphNode<Scalar>?
  /// The forward-mode tangent: the primal's shape, or
  /// `[tangent batch..., primal shape...]` when several directions share a pass.
  @usableFromInline let tangent: Tensor<Scalar>?

  @usableFromInline
  init(node: GraphNode<Scalar>?, tangent: Tensor<Scalar>?) {
    self.node = node
    self.tangent = tangent
  }
}

/// A node of the reverse-mode graph: the op that made one tensor, how to
/// send a cotangent back to its inputs, and those inputs' nodes.
///
/// The graph is held by the tensors it produced (each result keeps its
/// node, each node its parents), so it is freed with them; the backward pass
/// also drops each node's pullback once used, releasing the values it
/// captured as early as possible.
@usableFromInline
final class GraphNode<Scalar: TensorScalar>: @unchecked Sendable {
  /// The nodes of the op's inputs; `nil` for inputs that need no gradient.
  @usableFromInline private(set) var parents: [GraphNode?]
  /// Maps the cotangent of the output to the cotangents of the inputs (one
  /// per parent, `nil` where the input gets none). `nil` for leaves and
  /// once the backward pass has used it.
  @usableFromInline var pullback: ((Tensor<Scalar>) -> [Tensor<Scalar>?])?
  /// The shape of the tensor this node produced.
  @usableFromInline let shape: [Int]
  /// The op's name, for diagnostics.
  @usableFromInline let operation: String
  /// Cotangent accumulated during a backward pass.
  @usableFromInline var cotangent: Tensor<Scalar>?

  @usableFromInline
  init(
    operation: String, shape: [Int], parents: [GraphNode?],
    pullback: ((Tensor<Scalar>) -> [Tensor<Scalar>?])?
  ) {
    self.operation = operation
    self.shape = shape
    self.parents = parents
    self.pullback = pullback
    self.isLeaf = parents.isEmpty
  }

  /// Whether this node is a leaf: a tensor marked as requiring a gradient.
  @usableFromInline let isLeaf: Bool

  /// Releases a chain of ancestors iteratively: left to Swift, freeing a
  /// node frees its parents recursively, and a graph 100,000 ops deep
  /// would overflow the stack.
  deinit {
    guard !parents.isEmpty else { return }
    var pending = parents.compactMap { $0 }
    parents = []
    while var node = pending.popLast() {
      if isKnownUniquelyReferenced(&node) {
        pending.append(contentsOf: node.parents.compactMap { $0 })
        node.parents = []
      }
    }
  }
}

/// Whether ops on this thread add nodes to the reverse-mode graph.
///
/// Recording is on by default and switched off inside
/// ``withoutRecording(_:)``, during backward passes, and by `vjp`'s
/// inner computation; it is per thread, since a graph belongs to the thread
/// that builds it.
@usableFromInline
enum Recording {
  private static let key: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
  }()

  /// How many `withoutRecording` scopes enclose the current point on this thread.
  @usableFromInline
  static var pauseDepth: Int {
    get { Int(bitPattern: pthread_getspecific(key)) }
    set { pthread_setspecific(key, UnsafeRawPointer(bitPattern: newValue)) }
  }

  @usableFromInline
  static var isActive: Bool { pauseDepth == 0 }
}

/// Runs `body` with graph recording paused on this thread: its results
/// carry no reverse-mode nodes (forward-mode tangents still propagate).
///
/// For computations whose gradient is not wanted, such as the matrix-vector
/// products of a conjugate-gradient solve, evaluation, and sampling.
public func withoutRecording<Result>(_ body: () throws -> Result) rethrows -> Result {
  Recording.pauseDepth += 1
  defer { Recording.pauseDepth -= 1 }
  return try body()
}
