import FlowTensor

/// Bijectors applied one after another: `forward` runs them in order and
/// adds their log-determinants, `inverse` runs their inverses in reverse.
///
/// Parameters are named `layers.<index>.<name>`.
public struct Chain<Scalar: TensorScalar>: Bijector {
  /// The bijectors, first applied first in the forward direction.
  public var layers: [any Bijector<Scalar>]

  public init(_ layers: [any Bijector<Scalar>]) {
    self.layers = layers
  }

  /// - Complexity: the sum of the layers' costs.
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    var y = x
    var total = Tensor<Scalar>.zeros(shape: [x.shape.first ?? 0])
    for layer in layers {
      let (output, logDeterminant) = layer.forward(y)
      y = output
      total = total + logDeterminant
    }
    return (y, total)
  }

  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    var x = y
    var total = Tensor<Scalar>.zeros(shape: [y.shape.first ?? 0])
    for layer in layers.reversed() {
      let (output, logDeterminant) = layer.inverse(x)
      x = output
      total = total + logDeterminant
    }
    return (x, total)
  }

  /// Initialises each layer from the batch as it arrives at that layer.
  public mutating func initialize(from x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    var y = x
    var total = Tensor<Scalar>.zeros(shape: [x.shape.first ?? 0])
    for index in layers.indices {
      let (output, logDeterminant) = layers[index].initialize(from: y)
      y = output
      total = total + logDeterminant
    }
    return (y, total)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    for index in layers.indices {
      layers[index].visitParameters(with: visitor.child("layers.\(index)"))
    }
  }
}

/// The inverse of a bijector: `forward` is the base's `inverse` and vice versa.
public struct Inverse<Base: Bijector>: Bijector {
  public typealias Scalar = Base.Scalar
  public var base: Base

  public init(_ base: Base) {
    self.base = base
  }

  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    base.inverse(x)
  }

  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    base.forward(y)
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("base", &base)
  }
}
