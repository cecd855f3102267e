/// Something that owns trainable parameters: a layer, a block of layers, a
/// whole model. It lists them under stable dotted names
/// (`levels.0.steps.3.coupling.conv1.weight`), which optimizers key their
/// state by and checkpoints store.
///
/// A conformance visits its own tensors and its children in a fixed order:
///
/// ```swift
/// struct Dense: Layer {
///   var weight: Tensor<Float>
///   var bias: Tensor<Float>
///   mutating func visitParameters(with visitor: ParameterVisitor<Float>) {
///     visitor.visit("weight", &weight)
///     visitor.visit("bias", &bias)
///   }
/// }
/// struct MLP: Layer {
///   var layers: [Dense]
///   mutating func visitParameters(with visitor: ParameterVisitor<Float>) {
///     visitor.visit("layers", &layers)     // layers.0.weight, layers.0.bias, layers.1.weight, …
///   }
/// }
/// ```
///
/// Visiting is `inout`, so the same walk reads parameters, marks them for
/// differentiation, applies optimizer steps and loads checkpoints.
public protocol Layer {
  /// The scalar type of every parameter.
  associatedtype Scalar: TensorScalar

  /// Calls `visitor` once per parameter, in an order that does not change
  /// between calls.
  mutating func visitParameters(with visitor: ParameterVisitor<Scalar>)
}

/// Walks the parameters of a ``Layer`` tree, building dotted names.
public struct ParameterVisitor<Scalar: TensorScalar> {
  @usableFromInline let prefix: String
  @usableFromInline let body: (String, inout Tensor<Scalar>) -> Void

  /// A visitor that calls `body` with each parameter's full name.
  public init(_ body: @escaping (String, inout Tensor<Scalar>) -> Void) {
    self.init(prefix: "", body: body)
  }

  @usableFromInline
  init(prefix: String, body: @escaping (String, inout Tensor<Scalar>) -> Void) {
    self.prefix = prefix
    self.body = body
  }

  /// Visits one parameter tensor named `name`.
  public func visit(_ name: String, _ parameter: inout Tensor<Scalar>) {
    body(prefix + name, &parameter)
  }

  /// Visits a child's parameters under `name.`.
  public func visit<Child: Layer>(_ name: String, _ child: inout Child) where Child.Scalar == Scalar {
    child.visitParameters(with: ParameterVisitor(prefix: prefix + name + ".", body: body))
  }

  /// Visits the parameters of each child of a list under `name.0.`, `name.1.`, ….
  public func visit<Child: Layer>(_ name: String, _ children: inout [Child]) where Child.Scalar == Scalar {
    for index in children.indices {
      children[index].visitParameters(with: ParameterVisitor(prefix: prefix + name + ".\(index).", body: body))
    }
  }

  /// A visitor for a child's own `visitParameters`, prefixing `name.`
  /// (for children held as existentials, which `visit(_:_:)` cannot take).
  public func child(_ name: String) -> ParameterVisitor {
    ParameterVisitor(prefix: prefix + name + ".", body: body)
  }

  /// Visits an optional child when present.
  public func visit<Child: Layer>(_ name: String, _ child: inout Child?) where Child.Scalar == Scalar {
    guard var present = child else { return }
    visit(name, &present)
    child = present
  }
}

extension Layer {
  /// The parameters in visiting order, with their names.
  public var parameters: [(name: String, value: Tensor<Scalar>)] {
    var copy = self
    var result: [(name: String, value: Tensor<Scalar>)] = []
    copy.visitParameters(with: ParameterVisitor { name, parameter in result.append((name, parameter)) })
    return result
  }

  /// The parameters by name.
  public var namedParameters: [String: Tensor<Scalar>] {
    Dictionary(parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
  }

  /// The total number of scalars in the parameters.
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.scalarCount } }

  /// Rewrites every parameter in place.
  public mutating func updateParameters(_ update: (String, inout Tensor<Scalar>) -> Void) {
    withoutActuallyEscaping(update) { update in
      visitParameters(with: ParameterVisitor(update))
    }
  }

  /// Replaces parameters by name.
  /// - Throws: ``ParameterError`` when a parameter is missing from `values`
  ///   or has another shape there; nothing is changed then.
  public mutating func loadParameters(_ values: [String: Tensor<Scalar>]) throws {
    for (name, current) in parameters {
      guard let value = values[name] else { throw ParameterError.missing(name: name) }
      guard value.shape == current.shape else {
        throw ParameterError.shapeMismatch(name: name, expected: current.shape, found: value.shape)
      }
    }
    updateParameters { name, parameter in parameter = values[name]! }
  }
}

/// A parameter set that does not fit a layer.
public enum ParameterError: Error, Equatable, CustomStringConvertible {
  /// The layer has a parameter `name` that the given values lack.
  case missing(name: String)
  /// The value for `name` has another shape than the layer's parameter.
  case shapeMismatch(name: String, expected: [Int], found: [Int])

  public var description: String {
    switch self {
    case .missing(let name): return "parameter '\(name)' is missing"
    case .shapeMismatch(let name, let expected, let found):
      return "parameter '\(name)' has shape \(found), the layer expects \(expected)"
    }
  }
}

/// The value of `body` on `layer` and the gradient of that value with
/// respect to every parameter of the layer, by name.
///
/// - Parameters:
///   - layer: the point; its parameters are marked as leaves for this call.
///   - body: returns one scalar (a loss).
/// - Returns: the value (without graph) and one gradient per parameter name,
///   of that parameter's shape (zeros where the loss does not depend on it).
public func valueWithGradient<Model: Layer>(
  at layer: Model, in body: (Model) throws -> Tensor<Model.Scalar>
) rethrows -> (value: Tensor<Model.Scalar>, gradients: [String: Tensor<Model.Scalar>]) {
  var marked = layer
  var names: [String] = []
  var leaves: [Tensor<Model.Scalar>] = []
  marked.updateParameters { name, parameter in
    parameter = parameter.detached.requiringGradient()
    names.append(name)
    leaves.append(parameter)
  }
  let value = try body(marked)
  precondition(
    value.scalarCount == 1,
    "valueWithGradient(at:in:): the function returned shape \(value.shape); it must return one scalar")
  let gradients = gradient(of: value, withRespectTo: leaves)
  return (value.detached, Dictionary(zip(names, gradients), uniquingKeysWith: { first, _ in first }))
}
