import FlowLayers
import FlowTensor

extension ConformanceRegistry {
  /// The reshaping bijectors (issue 4): squeeze, unsqueeze, the multi-scale
  /// split and the multi-scale composite, alone and as a two-level model.
  static var reshaping: [ConformanceCase] {
    var learnedSplitOptions = BijectorConformanceOptions()
    // x₁ passes unchanged and each standardised element depends on x₁ and
    // on its own x₂ element only: lower triangular in the natural order.
    learnedSplitOptions.triangularOrder = Array(0..<16)
    return [
      ConformanceCase(
        name: "Squeeze", inputShape: [2, 2, 4, 4],
        double: { _ in Squeeze<Double>() }, float: { _ in Squeeze<Float>() }),
      ConformanceCase(
        name: "Unsqueeze", inputShape: [2, 8, 2, 2],
        double: { _ in Unsqueeze<Double>() }, float: { _ in Unsqueeze<Float>() }),
      ConformanceCase(
        name: "Inverse(Squeeze)", inputShape: [2, 8, 2, 2],
        double: { _ in Inverse(Squeeze<Double>()) }, float: { _ in Inverse(Squeeze<Float>()) }),
      ConformanceCase(
        name: "MultiScaleSplit(standardNormal)", inputShape: [2, 4, 2, 2],
        double: { _ in MultiScaleSplit<Double>(channels: 4, prior: .standardNormal) },
        float: { _ in MultiScaleSplit<Float>(channels: 4, prior: .standardNormal) }),
      ConformanceCase(
        name: "MultiScaleSplit(learned)", inputShape: [2, 4, 2, 2], options: learnedSplitOptions,
        double: { _ in MultiScaleSplit<Double>(channels: 4, prior: .learned) },
        float: { _ in MultiScaleSplit<Float>(channels: 4, prior: .learned) }),
      // A tight bound, so the suite's random parameters reach tanh's curved part.
      ConformanceCase(
        name: "MultiScaleSplit(learned, log σ bound 0.5)", inputShape: [2, 4, 2, 2], options: learnedSplitOptions,
        double: { _ in MultiScaleSplit<Double>(channels: 4, prior: .learned, logStandardDeviationBound: 0.5) },
        float: { _ in MultiScaleSplit<Float>(channels: 4, prior: .learned, logStandardDeviationBound: 0.5) }),
      ConformanceCase(
        name: "MultiScale(inner: ReshapingElementwiseAffine, split: learned)", inputShape: [2, 4, 2, 2],
        double: { MultiScale(inner: ReshapingElementwiseAffine<Double>(eventShape: [2, 2, 2], using: &$0), split: .init(channels: 4)) },
        float: { MultiScale(inner: ReshapingElementwiseAffine<Float>(eventShape: [2, 2, 2], using: &$0), split: .init(channels: 4)) }),
      ConformanceCase(
        name: "two-level multi-scale model", inputShape: [2, 2, 4, 4],
        double: { twoLevelMultiScaleModel(Double.self, using: &$0) },
        float: { twoLevelMultiScaleModel(Float.self, using: &$0) }),
    ]
  }
}

/// A two-level model as CDFlow builds L levels, with elementwise affines
/// standing in for the flow steps: `[b, 2, 4, 4]` is squeezed to
/// `[b, 8, 2, 2]`, transformed, split (4 channels factored with a learned
/// prior), the kept `[b, 4, 2, 2]` squeezed to `[b, 16, 1, 1]`, transformed
/// and unsqueezed; the outer level unsqueezes back to `[b, 2, 4, 4]`.
func twoLevelMultiScaleModel<Scalar: TensorScalar>(
  _: Scalar.Type, using generator: inout SeededGenerator
) -> Chain<Scalar> {
  let innerLevel = Chain<Scalar>([
    Squeeze(), ReshapingElementwiseAffine(eventShape: [16, 1, 1], using: &generator), Unsqueeze(),
  ])
  return Chain([
    Squeeze(),
    ReshapingElementwiseAffine(eventShape: [8, 2, 2], using: &generator),
    MultiScale(inner: innerLevel, split: MultiScaleSplit(channels: 8, prior: .learned)),
    Unsqueeze(),
  ])
}

/// y = x·exp(s) + t elementwise over an event shape: a parametrised,
/// shape-preserving stand-in for the flow steps, so that the reshaping
/// bijectors are tested independently of the other layers.
struct ReshapingElementwiseAffine<Scalar: TensorScalar>: Bijector {
  /// Shaped as one event.
  var logScale: Tensor<Scalar>
  var shift: Tensor<Scalar>

  init(eventShape: [Int], using generator: inout SeededGenerator) {
    logScale = Tensor.randomNormal(shape: eventShape, standardDeviation: 0.5, using: &generator)
    shift = Tensor.randomNormal(shape: eventShape, using: &generator)
  }

  func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    (x * exp(logScale) + shift, Tensor.ones(shape: [x.shape[0]]) * logScale.sum())
  }

  func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    ((y - shift) * exp(-logScale), Tensor.ones(shape: [y.shape[0]]) * (-logScale.sum()))
  }

  mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("logScale", &logScale)
    visitor.visit("shift", &shift)
  }
}
