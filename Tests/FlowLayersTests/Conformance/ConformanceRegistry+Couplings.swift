import FlowLayers
import FlowTensor

extension ConformanceRegistry {
  /// The coupling layers (issue 4): affine (both scale choices) and additive,
  /// with MLP conditioners on flat inputs and residual convolutional
  /// conditioners on images, under channel-half and checkerboard masks.
  /// Cases whose order is given check that the Jacobian is lower triangular
  /// with the identity (conditioning) coordinates first.
  static var couplings: [ConformanceCase] {
    var cases: [ConformanceCase] = []
    func triangular(_ mask: CouplingMask, eventShape: [Int]) -> BijectorConformanceOptions {
      var options = BijectorConformanceOptions()
      options.triangularOrder = mask.identityFirstOrder(eventShape: eventShape)
      return options
    }

    let flat: [(String, CouplingMask, CouplingScale, Activation)] = [
      ("channel-half, sigmoid scale", .channelHalf, .sigmoid, .relu),
      ("swapped channel-half, soft clamp", CouplingMask.channelHalf.swapped, .softClamp(bound: 2), .tanh),
      ("checkerboard, soft clamp", .checkerboard, .softClamp(bound: 3), .silu),
    ]
    for (label, mask, scale, activation) in flat {
      cases.append(
        ConformanceCase(
          name: "AffineCoupling(MLP, \(label))", inputShape: [4, 6], options: triangular(mask, eventShape: [6]),
          double: {
            AffineCoupling<MLP<Double>>(
              features: 6, hiddenSizes: [8, 8], mask: mask, scale: scale, activation: activation, using: &$0)
          },
          float: {
            AffineCoupling<MLP<Float>>(
              features: 6, hiddenSizes: [8, 8], mask: mask, scale: scale, activation: activation, using: &$0)
          }))
    }

    let images: [(String, CouplingMask, CouplingScale)] = [
      ("channel-half, sigmoid scale", .channelHalf, .sigmoid),
      ("checkerboard, soft clamp", .checkerboard, .softClamp(bound: 2)),
      ("swapped checkerboard, sigmoid scale", CouplingMask.checkerboard.swapped, .sigmoid),
    ]
    for (label, mask, scale) in images {
      cases.append(
        ConformanceCase(
          name: "AffineCoupling(ResidualConditioner, \(label))", inputShape: [2, 4, 4, 4],
          options: triangular(mask, eventShape: [4, 4, 4]),
          double: {
            AffineCoupling<ResidualConditioner<Double>>(
              channels: 4, hiddenChannels: 6, blockCount: 1, mask: mask, scale: scale, activation: .gelu, using: &$0)
          },
          float: {
            AffineCoupling<ResidualConditioner<Float>>(
              channels: 4, hiddenChannels: 6, blockCount: 1, mask: mask, scale: scale, activation: .gelu, using: &$0)
          }))
    }

    cases.append(
      ConformanceCase(
        name: "AdditiveCoupling(MLP, channel-half)", inputShape: [4, 6],
        options: triangular(.channelHalf, eventShape: [6]),
        double: { AdditiveCoupling<MLP<Double>>(features: 6, hiddenSizes: [8], using: &$0) },
        float: { AdditiveCoupling<MLP<Float>>(features: 6, hiddenSizes: [8], using: &$0) }))
    cases.append(
      ConformanceCase(
        name: "AdditiveCoupling(ResidualConditioner, checkerboard)", inputShape: [2, 2, 4, 4],
        options: triangular(.checkerboard, eventShape: [2, 4, 4]),
        double: {
          AdditiveCoupling(
            mask: .checkerboard,
            conditioner: ResidualConditioner<Double>(
              inputChannels: 2, hiddenChannels: 4, outputChannels: 2, blockCount: 1, activation: .silu, using: &$0))
        },
        float: {
          AdditiveCoupling(
            mask: .checkerboard,
            conditioner: ResidualConditioner<Float>(
              inputChannels: 2, hiddenChannels: 4, outputChannels: 2, blockCount: 1, activation: .silu, using: &$0))
        }))
    return cases
  }
}
