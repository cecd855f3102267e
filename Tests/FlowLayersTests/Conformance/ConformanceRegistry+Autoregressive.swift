import FlowLayers
import FlowTensor

extension ConformanceRegistry {
  /// Transformer autoregressive flows (TarFlow) with each transform and patch size.
  static var autoregressive: [ConformanceCase] { [] }
}
