import FlowLayers
import FlowTensor

extension ConformanceRegistry {
  /// The linear bijectors (issue 4): ActNorm, permutations, dense and LU
  /// linear maps, each on flat features `[3, 5]` and, where it applies, on
  /// images `[2, 4, 3, 3]`. The suite runs `initialize(from:)` first, so
  /// ActNorm is checked after its data-dependent initialisation.
  static var linear: [ConformanceCase] {
    [
      ConformanceCase(
        name: "ActNorm [3, 5]", inputShape: [3, 5],
        double: { _ in ActNorm<Double>(channels: 5) },
        float: { _ in ActNorm<Float>(channels: 5) }),
      ConformanceCase(
        name: "ActNorm [2, 4, 3, 3]", inputShape: [2, 4, 3, 3],
        double: { _ in ActNorm<Double>(channels: 4) },
        float: { _ in ActNorm<Float>(channels: 4) }),
      ConformanceCase(
        name: "Permutation [3, 5]", inputShape: [3, 5],
        double: { Permutation<Double>(features: 5, using: &$0) },
        float: { Permutation<Float>(features: 5, using: &$0) }),
      ConformanceCase(
        name: "ReversePermutation [3, 5]", inputShape: [3, 5],
        double: { _ in ReversePermutation<Double>() },
        float: { _ in ReversePermutation<Float>() }),
      ConformanceCase(
        name: "ChannelPermutation (random) [2, 4, 3, 3]", inputShape: [2, 4, 3, 3],
        double: { ChannelPermutation<Double>(channels: 4, using: &$0) },
        float: { ChannelPermutation<Float>(channels: 4, using: &$0) }),
      ConformanceCase(
        name: "ChannelPermutation (reversed) [2, 4, 3, 3]", inputShape: [2, 4, 3, 3],
        double: { _ in ChannelPermutation<Double>(reversingChannels: 4) },
        float: { _ in ChannelPermutation<Float>(reversingChannels: 4) }),
      ConformanceCase(
        name: "InvertibleLinear [3, 5]", inputShape: [3, 5],
        double: { InvertibleLinear<Double>(size: 5, using: &$0) },
        float: { InvertibleLinear<Float>(size: 5, using: &$0) }),
      ConformanceCase(
        name: "InvertibleConvolution1x1 [2, 4, 3, 3]", inputShape: [2, 4, 3, 3],
        double: { InvertibleConvolution1x1<Double>(channels: 4, using: &$0) },
        float: { InvertibleConvolution1x1<Float>(channels: 4, using: &$0) }),
      ConformanceCase(
        name: "LUInvertibleLinear [3, 5]", inputShape: [3, 5],
        double: { LUInvertibleLinear<Double>(size: 5, using: &$0) },
        float: { LUInvertibleLinear<Float>(size: 5, using: &$0) }),
      ConformanceCase(
        name: "LUInvertibleConvolution1x1 [2, 4, 3, 3]", inputShape: [2, 4, 3, 3],
        double: { LUInvertibleConvolution1x1<Double>(channels: 4, using: &$0) },
        float: { LUInvertibleConvolution1x1<Float>(channels: 4, using: &$0) }),
    ]
  }
}
