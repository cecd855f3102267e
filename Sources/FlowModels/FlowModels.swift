import FlowLayers
import FlowTensor

/// The models module: CDFlow, TarFlowLM and RectangularFlow arrive with
/// issues 6, 7 and 9.
public enum FlowModelsInfo {
  /// The scalar types the models can be built in.
  public static let scalarTypes: [String] = [Float.dtypeName, Double.dtypeName]
}
