import FlowTensor

/// The version of the layers module's API; the Bijector protocol and the
/// flow layers arrive with issue 4 and later.
public enum FlowLayersInfo {
  /// The tensor core this module is built on, for diagnostics.
  public static let scalarTypes: [String] = [Float.dtypeName, Double.dtypeName]
}
