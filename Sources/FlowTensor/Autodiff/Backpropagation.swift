/// The reverse-mode pass: cotangents flow from a result back through the
/// recorded graph to the tensors that require gradients.
enum Backpropagation {
  /// Runs the backward pass from `root` with output cotangent `seed` and
  /// returns the cotangent reaching each of `targets` (`nil` where none does).
  ///
  /// Nodes are visited in reverse topological order (an iterative
  /// depth-first search, so deep graphs do not exhaust the stack); a node's
  /// cotangent is complete when its pullback runs, since every consumer of
  /// a tensor comes after it in that order. Ops run with recording paused.
  ///
  /// - Parameters:
  ///   - retainingGraph: keep the pullbacks for another pass (as `vjp`'s
  ///     pullback does); otherwise each is dropped after use, freeing the
  ///     values it holds, and a second pass over the same graph stops with a
  ///     message.
  /// - Complexity: one pullback per node reachable from `root`.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  static func run<Scalar: TensorScalar>(
    from root: GraphNode<Scalar>, seed: Tensor<Scalar>, targets: [GraphNode<Scalar>?],
    retainingGraph: Bool = false
  ) -> [Tensor<Scalar>?] {
    precondition(
      seed.shape == root.shape,
      "backward pass: seed cotangent shape \(seed.shape) differs from the output's shape \(root.shape)")
    let order = topologicalOrder(from: root)
    let wanted = Set(targets.compactMap { $0.map(ObjectIdentifier.init) })
    root.cotangent = seed
    withoutRecording {
      for node in order.reversed() {
        guard let cotangent = node.cotangent, !node.isLeaf else { continue }
        guard let pullback = node.pullback else {
          preconditionFailure(
            "backward pass: the graph through '\(node.operation)' was already used by a backward pass; "
              + "compute the result again, or use vjp(of:at:) for repeated products")
        }
        if !retainingGraph { node.pullback = nil }
        if !wanted.contains(ObjectIdentifier(node)) { node.cotangent = nil }
        switch pullback {
        case .unary(let rule):
          accumulate(rule(cotangent), into: node, input: 0)
        case .binary(let rule):
          let (first, second) = rule(cotangent)
          accumulate(first, into: node, input: 0)
          accumulate(second, into: node, input: 1)
        case .nary(let rule):
          for (index, inputCotangent) in rule(cotangent).enumerated() {
            accumulate(inputCotangent, into: node, input: index)
          }
        }
      }
    }
    let results = targets.map { $0?.cotangent }
    for node in order { node.cotangent = nil }
    return results
  }

  /// Adds `cotangent` to the cotangent of `node`'s input `input`, if that
  /// input has a node.
  @inline(__always)
  static func accumulate<Scalar: TensorScalar>(_ cotangent: Tensor<Scalar>?, into node: GraphNode<Scalar>, input: Int) {
    guard let cotangent, let parent = node.parent(input) else { return }
    precondition(
      cotangent.shape == parent.shape,
      "backward pass: the pullback of '\(node.operation)' gave a cotangent of shape "
        + "\(cotangent.shape) for an input of shape \(parent.shape)")
    let plain = cotangent.detached
    guard var total = parent.cotangent else {
      parent.cotangent = plain
      return
    }
    // A fan-in: add into the first cotangent's buffer when nothing else
    // holds it (it was made by one pullback for this input alone), instead
    // of allocating a sum per extra consumer.
    parent.cotangent = nil
    if !total.addInPlaceIfUniquelyOwned(plain) { total = total + plain }
    parent.cotangent = total
  }

  /// Every node reachable from `root`, each after all of its parents.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  static func topologicalOrder<Scalar>(from root: GraphNode<Scalar>) -> [GraphNode<Scalar>] {
    var order: [GraphNode<Scalar>] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(node: GraphNode<Scalar>, expanded: Bool)] = [(root, false)]
    while let (node, expanded) = stack.popLast() {
      if expanded {
        order.append(node)
        continue
      }
      guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
      stack.append((node, true))
      for index in 0..<node.parentCount {
        if let parent = node.parent(index), !visited.contains(ObjectIdentifier(parent)) {
          stack.append((parent, false))
        }
      }
    }
    return order
  }
}

extension Tensor {
  /// Adds `other` (same shape) into this tensor's buffer when this tensor
  /// is the buffer's only owner and `other` does not share it; returns
  /// whether it did. Used on plain cotangents only (no derivative bookkeeping).
  /// - Complexity: O(n), split across cores.
  @inline(__always)
  mutating func addInPlaceIfUniquelyOwned(_ other: Tensor) -> Bool {
    guard shape == other.shape, storage !== other.storage, isKnownUniquelyReferenced(&storage) else { return false }
    let (destination, source) = (storage.base, UnsafePointer(other.storage.base))
    withExtendedLifetime(other) {
      Parallel.forEachRange(count: scalarCount, grain: Parallel.elementwiseGrain) { range in
        for index in range { destination[index] += source[index] }
      }
    }
    return true
  }
}
