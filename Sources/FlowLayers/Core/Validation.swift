import FlowTensor

/// A non-finite value met by a validated pass, naming where.
public struct NonFiniteValueError: Error, Equatable, CustomStringConvertible {
  /// The layer, as a path and type: `layers.3 (AffineCoupling<Float>)`.
  public let layer: String
  /// `"forward"` or `"inverse"`.
  public let direction: String
  /// `"input"`, `"output"` or `"log-determinant"`.
  public let quantity: String
  /// The multi-index of the first non-finite element and its value.
  public let index: [Int]
  public let value: Double

  public var description: String {
    "\(layer): \(direction) \(quantity) is not finite (\(value) at \(index))"
  }
}

extension Bijector {
  /// `forward(x)`, throwing ``NonFiniteValueError`` when the input, the
  /// output or the log-determinant holds a NaN or an infinity.
  ///
  /// Validation is opt-in, for debugging and for a training loop's
  /// divergence detection; it scans every value, so hot paths call
  /// `forward` instead. A ``Chain`` validates layer by layer and names the
  /// first layer whose output went bad.
  /// - Parameters:
  ///   - name: how the error names this bijector; its type by default.
  public func validatedForward(_ x: Tensor<Scalar>, name: String? = nil) throws -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let label = name ?? "\(type(of: self))"
    if let chain = self as? Chain<Scalar> { return try chain.validatedPass(x, direction: "forward", name: label) }
    try requireFinite(x, layer: label, direction: "forward", quantity: "input")
    let result = forward(x)
    try requireFinite(result.output, layer: label, direction: "forward", quantity: "output")
    try requireFinite(result.logDeterminant, layer: label, direction: "forward", quantity: "log-determinant")
    return result
  }

  /// `inverse(y)`, validated as ``validatedForward(_:name:)``.
  public func validatedInverse(_ y: Tensor<Scalar>, name: String? = nil) throws -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let label = name ?? "\(type(of: self))"
    if let chain = self as? Chain<Scalar> { return try chain.validatedPass(y, direction: "inverse", name: label) }
    try requireFinite(y, layer: label, direction: "inverse", quantity: "input")
    let result = inverse(y)
    try requireFinite(result.output, layer: label, direction: "inverse", quantity: "output")
    try requireFinite(result.logDeterminant, layer: label, direction: "inverse", quantity: "log-determinant")
    return result
  }
}

extension Chain {
  func validatedPass(_ input: Tensor<Scalar>, direction: String, name: String) throws -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    var value = input
    var total = Tensor<Scalar>.zeros(shape: [input.shape.first ?? 0])
    let order = direction == "forward" ? Array(layers.indices) : Array(layers.indices.reversed())
    for index in order {
      let layer = layers[index]
      let label = "\(name).layers.\(index) (\(type(of: layer)))"
      let (output, logDeterminant) =
        direction == "forward"
        ? try layer.validatedForward(value, name: label) : try layer.validatedInverse(value, name: label)
      value = output
      total = total + logDeterminant
    }
    return (value, total)
  }
}

/// Throws when `tensor` holds a NaN or an infinity.
func requireFinite<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>, layer: String, direction: String, quantity: String) throws {
  guard let offset = tensor.withUnsafeBufferPointer({ $0.firstIndex { !$0.isFinite } }) else { return }
  var index = [Int](repeating: 0, count: tensor.rank)
  var remainder = offset
  for axis in stride(from: tensor.rank - 1, through: 0, by: -1) {
    index[axis] = remainder % tensor.shape[axis]
    remainder /= tensor.shape[axis]
  }
  throw NonFiniteValueError(
    layer: layer, direction: direction, quantity: quantity, index: index,
    value: Double(tensor.withUnsafeBufferPointer { $0[offset] }))
}
