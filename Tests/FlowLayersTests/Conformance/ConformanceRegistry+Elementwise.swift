import FlowLayers
import FlowTensor

extension ConformanceRegistry {
  /// The elementwise bijectors (issue 4): logit preprocessing, sigmoid and
  /// the scalar affine map, over events of rank 1 to 3.
  static var elementwise: [ConformanceCase] {
    [
      ConformanceCase(
        name: "Logit(alpha: 0.05)", inputShape: [3, 2, 3], domain: .unitInterval,
        double: { _ in Logit<Double>(alpha: 0.05) }, float: { _ in Logit<Float>(alpha: 0.05) }),
      ConformanceCase(
        name: "Logit(alpha: 0)", inputShape: [4, 5], domain: .unitInterval,
        double: { _ in Logit<Double>(alpha: 0) }, float: { _ in Logit<Float>(alpha: 0) }),
      ConformanceCase(
        name: "Inverse(Logit(alpha: 1e-6))", inputShape: [3, 4],
        double: { _ in Inverse(Logit<Double>(alpha: 1e-6)) }, float: { _ in Inverse(Logit<Float>(alpha: 1e-6)) }),
      ConformanceCase(
        name: "Sigmoid", inputShape: [3, 2, 2, 2],
        double: { _ in Sigmoid<Double>() }, float: { _ in Sigmoid<Float>() }),
      ConformanceCase(
        name: "Inverse(Sigmoid)", inputShape: [4, 3], domain: .unitInterval,
        double: { _ in Inverse(Sigmoid<Double>()) }, float: { _ in Inverse(Sigmoid<Float>()) }),
      ConformanceCase(
        name: "ScalarAffine(scale: 2.5, shift: -0.75)", inputShape: [4, 2, 3],
        double: { _ in ScalarAffine<Double>(scale: 2.5, shift: -0.75) },
        float: { _ in ScalarAffine<Float>(scale: 2.5, shift: -0.75) }),
      ConformanceCase(
        name: "ScalarAffine(learnable)", inputShape: [3, 5],
        double: { ScalarAffine<Double>(scale: elementwiseCaseScale(&$0), shift: 0.3, learnable: true) },
        float: { ScalarAffine<Float>(scale: Float(elementwiseCaseScale(&$0)), shift: 0.3, learnable: true) }),
      ConformanceCase(
        name: "Chain(Logit, ScalarAffine(learnable), Sigmoid)", inputShape: [3, 6], domain: .unitInterval,
        double: { Chain([Logit<Double>(alpha: 0.01), ScalarAffine<Double>(scale: elementwiseCaseScale(&$0), shift: -0.2, learnable: true), Sigmoid<Double>()]) },
        float: { Chain([Logit<Float>(alpha: 0.01), ScalarAffine<Float>(scale: Float(elementwiseCaseScale(&$0)), shift: -0.2, learnable: true), Sigmoid<Float>()]) }),
    ]
  }

  /// A seeded scale in [0.5, 2).
  private static func elementwiseCaseScale(_ generator: inout SeededGenerator) -> Double {
    Double.random(in: 0.5..<2, using: &generator)
  }
}
