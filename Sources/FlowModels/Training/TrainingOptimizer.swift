import FlowTensor

/// The optimizer a ``TrainingConfiguration`` names, behind one interface.
///
/// Two optionals rather than an enum with payloads: an optional is mutated
/// in place, where rebinding an enum payload would copy every moment
/// tensor on each step (copy-on-write of a shared buffer).
struct TrainingOptimizer<Scalar: TensorScalar> {
  private var adam: Adam<Scalar>?
  private var adamW: AdamW<Scalar>?

  init(_ configuration: TrainingConfiguration) {
    switch configuration.optimizer {
    case .adam: adam = Adam(learningRate: configuration.learningRate, weightDecay: configuration.weightDecay)
    case .adamW: adamW = AdamW(learningRate: configuration.learningRate, weightDecay: configuration.weightDecay)
    }
    let groups = configuration.learningRateGroups ?? []
    if adam != nil { adam!.learningRateGroups = groups } else { adamW!.learningRateGroups = groups }
  }

  var step: Int { adam?.step ?? adamW!.step }

  var state: [String: Tensor<Scalar>] { adam?.state ?? adamW!.state }

  mutating func update<Model: Layer>(
    _ model: inout Model, along gradients: [String: Tensor<Scalar>], learningRate: Double
  ) where Model.Scalar == Scalar {
    if adam != nil {
      adam!.learningRate = learningRate
      adam!.update(&model, along: gradients)
    } else {
      adamW!.learningRate = learningRate
      adamW!.update(&model, along: gradients)
    }
  }

  mutating func restoreState<Model: Layer>(_ state: [String: Tensor<Scalar>], step: Int, for model: Model) throws
  where Model.Scalar == Scalar {
    if adam != nil {
      try adam!.restoreState(state, step: step, for: model)
    } else {
      try adamW!.restoreState(state, step: step, for: model)
    }
  }
}
