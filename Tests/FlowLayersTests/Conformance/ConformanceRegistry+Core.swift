import FlowLayers
import FlowTensor

extension ConformanceRegistry {
  /// Composition and inversion, over the test-only ``DiagonalAffine``.
  static var core: [ConformanceCase] {
    [
      ConformanceCase(
        name: "Chain(DiagonalAffine, DiagonalAffine)", inputShape: [4, 3],
        double: { Chain([DiagonalAffine<Double>(size: 3, using: &$0), DiagonalAffine<Double>(size: 3, using: &$0)]) },
        float: { Chain([DiagonalAffine<Float>(size: 3, using: &$0), DiagonalAffine<Float>(size: 3, using: &$0)]) }),
      ConformanceCase(
        name: "Inverse(DiagonalAffine)", inputShape: [4, 2, 2],
        double: { Inverse(DiagonalAffine<Double>(size: 4, using: &$0)) },
        float: { Inverse(DiagonalAffine<Float>(size: 4, using: &$0)) }),
    ]
  }
}

/// y = x·exp(s) + t on flattened events: a minimal bijector for testing the
/// machinery (composition, the suite itself) independently of the layers.
struct DiagonalAffine<Scalar: TensorScalar>: Bijector {
  var logScale: Tensor<Scalar>
  var shift: Tensor<Scalar>
  /// Added to the log-determinant: 0 for a correct bijector; the suite must
  /// reject anything else.
  var logDeterminantError: Scalar = 0

  init(size: Int, using generator: inout SeededGenerator) {
    logScale = Tensor.randomNormal(shape: [size], standardDeviation: 0.5, using: &generator)
    shift = Tensor.randomNormal(shape: [size], using: &generator)
  }

  func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let flat = x.reshaped(to: [x.shape[0], -1])
    let y = flat * exp(logScale) + shift
    let logDeterminant = Tensor.ones(shape: [x.shape[0]]) * logScale.sum() + logDeterminantError
    return (y.reshaped(to: x.shape), logDeterminant)
  }

  func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    let flat = y.reshaped(to: [y.shape[0], -1])
    let x = (flat - shift) * exp(-logScale)
    let logDeterminant = Tensor.ones(shape: [y.shape[0]]) * (-logScale.sum()) - logDeterminantError
    return (x.reshaped(to: y.shape), logDeterminant)
  }

  mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("logScale", &logScale)
    visitor.visit("shift", &shift)
  }
}
