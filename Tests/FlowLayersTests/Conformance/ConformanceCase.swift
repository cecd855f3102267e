import FlowLayers
import FlowTensor

/// One bijector configuration of the conformance suite: how to build it in
/// both precisions and what input it takes.
struct ConformanceCase {
  /// Where the inputs live: the real line, (0, 1) (for logit-like maps), or (0, ∞).
  enum Domain { case real, unitInterval, positive }

  let name: String
  /// `[batch, event...]`.
  let inputShape: [Int]
  var domain: Domain = .real
  var options = BijectorConformanceOptions()
  let double: (inout SeededGenerator) -> any Bijector<Double>
  let float: (inout SeededGenerator) -> any Bijector<Float>

  /// A seeded input in the case's domain.
  func input<Scalar: TensorScalar>(_: Scalar.Type, seed: UInt64) -> Tensor<Scalar> {
    var generator = SeededGenerator(seed: seed)
    switch domain {
    case .real: return Tensor.randomNormal(shape: inputShape, using: &generator)
    case .unitInterval: return Tensor.randomUniform(shape: inputShape, in: 0.05..<0.95, using: &generator)
    case .positive: return exp(Tensor.randomNormal(shape: inputShape, using: &generator) * 0.5)
    }
  }
}

/// Every bijector of the package, each in one or more configurations. Each
/// file of cases adds its own list here; ``all`` gathers them, and the
/// conformance tests run every one.
enum ConformanceRegistry {
  static var all: [ConformanceCase] {
    core + linear + couplings + reshaping + elementwise + circulantDiagonal + autoregressive
  }
}
