import Foundation

/// What a tensor carries for automatic differentiation: its place in the
/// reverse-mode graph and, in forward mode, its tangent.
///
/// A view assembled from the tensor's two stored references (graph node,
/// boxed tangent), so that a tensor in the reverse-mode graph costs one
/// allocation, its node, and none for this view. Most tensors carry
/// nothing (`Tensor.autodiff == nil`), and every op's derivative
/// bookkeeping is skipped for them after one `nil` check.
@usableFromInline
struct AutodiffState<Scalar: TensorScalar> {
  /// The node that produced the tensor in the reverse-mode graph, if the
  /// tensor depends on something that requires a gradient.
  @usableFromInline let node: GraphNode<Scalar>?
  /// The forward-mode tangent: the primal's shape, or
  /// `[tangent batch..., primal shape...]` when several directions share a pass.
  @usableFromInline let tangent: Tensor<Scalar>?

  @inlinable
  init(node: GraphNode<Scalar>?, tangent: Tensor<Scalar>?) {
    self.node = node
    self.tangent = tangent
  }
}

/// A forward-mode tangent stored out of line (a tensor cannot hold a
/// tensor inline).
@usableFromInline
final class TangentBox<Scalar: TensorScalar>: @unchecked Sendable {
  @usableFromInline let tangent: Tensor<Scalar>
  @inlinable init(_ tangent: Tensor<Scalar>) { self.tangent = tangent }
}

/// The precision-independent part of a graph node: its links to the nodes
/// of the op's inputs.
///
/// Kept out of the generic class so that releasing a graph runs
/// non-generic code (a generic class's `deinit` is never specialised, and
/// looked up type metadata at run time for every node: a third of the
/// per-op cost, measured by `flowbench autodiff`). The first two parents
/// are stored inline, since nearly every op has one or two inputs and an
/// array would cost an allocation per op.
@usableFromInline
class GraphLinks: @unchecked Sendable {
  @usableFromInline final var first: GraphLinks?
  @usableFromInline final var second: GraphLinks?
  /// Parents after the second (concatenation of many tensors).
  @usableFromInline final var rest: [GraphLinks?]
  /// The number of inputs of the op, with or without nodes.
  @usableFromInline final let parentCount: Int

  @usableFromInline
  init(parents: [GraphLinks?]) {
    parentCount = parents.count
    first = parents.count > 0 ? parents[0] : nil
    second = parents.count > 1 ? parents[1] : nil
    rest = parents.count > 2 ? Array(parents[2...]) : []
  }

  @usableFromInline
  init(first: GraphLinks?, second: GraphLinks?, count: Int) {
    parentCount = count
    self.first = first
    self.second = second
    rest = []
  }

  /// Whether this node is a leaf: a tensor marked as requiring a gradient.
  @inlinable final var isLeaf: Bool { parentCount == 0 }

  /// The node of input `index`, if that input needs a gradient.
  @inlinable
  final func link(_ index: Int) -> GraphLinks? {
    index == 0 ? first : index == 1 ? second : rest[index - 2]
  }

  /// Releases a chain of ancestors iteratively: left to Swift, freeing a
  /// node frees its parents recursively, and a graph 100,000 ops deep
  /// would overflow the stack.
  deinit {
    guard parentCount > 0 else { return }
    var pending: [GraphLinks] = []
    detachParents(into: &pending)
    while var node = pending.popLast() {
      if isKnownUniquelyReferenced(&node) { node.detachParents(into: &pending) }
    }
  }

  private final func detachParents(into pending: inout [GraphLinks]) {
    if let first { pending.append(first) }
    if let second { pending.append(second) }
    for case let parent? in rest { pending.append(parent) }
    first = nil
    second = nil
    rest = []
  }
}

/// How a node sends its output's cotangent back to its inputs. Separate
/// cases for one and two inputs avoid wrapping the op's closure and
/// allocating an array of results for every op.
@usableFromInline
enum Pullback<Scalar: TensorScalar> {
  case unary((Tensor<Scalar>) -> Tensor<Scalar>)
  case binary((Tensor<Scalar>) -> (Tensor<Scalar>?, Tensor<Scalar>?))
  case nary((Tensor<Scalar>) -> [Tensor<Scalar>?])
}

/// A node of the reverse-mode graph: the op that made one tensor, how to
/// send a cotangent back to its inputs, and those inputs' nodes.
///
/// The graph is held by the tensors it produced (each result keeps its
/// node, each node its parents), so it is freed with them; the backward pass
/// also drops each node's pullback once used, releasing the values it
/// captured as early as possible.
@usableFromInline
final class GraphNode<Scalar: TensorScalar>: GraphLinks, @unchecked Sendable {
  /// Maps the cotangent of the output to the cotangents of the inputs.
  /// `nil` for leaves and once the backward pass has used it.
  @usableFromInline var pullback: Pullback<Scalar>?
  /// The shape of the tensor this node produced.
  @usableFromInline let shape: [Int]
  /// The op's name, for diagnostics.
  @usableFromInline let operation: String
  /// Cotangent accumulated during a backward pass.
  @usableFromInline var cotangent: Tensor<Scalar>?

  /// A node with any number of inputs.
  @usableFromInline
  init(operation: String, shape: [Int], parents: [GraphLinks?], pullback: Pullback<Scalar>?) {
    self.operation = operation
    self.shape = shape
    self.pullback = pullback
    super.init(parents: parents)
  }

  /// A node with one or two inputs.
  @usableFromInline
  init(operation: String, shape: [Int], first: GraphLinks?, second: GraphLinks?, count: Int, pullback: Pullback<Scalar>) {
    self.operation = operation
    self.shape = shape
    self.pullback = pullback
    super.init(first: first, second: second, count: count)
  }

  /// The input nodes, in this node's precision (every node of one graph
  /// has the same scalar type).
  @inlinable
  func parent(_ index: Int) -> GraphNode? {
    link(index).map { unsafeDowncast($0, to: GraphNode.self) }
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
