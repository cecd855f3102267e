import FlowLayers

// The settings of a run are Codable so that a command line can read them
// from and write them to JSON. The objective's types synthesise theirs
// (RectangularFlowObjective.swift); the estimator enum uses Swift's form for
// associated values, e.g. `{"stochastic": {"_0": {"probes": 1, …}}}`.

extension RectangularFlowEstimator: CustomStringConvertible {
  /// `exact`, `stochastic` or `two-step`, the names of the command line.
  public var description: String {
    switch self {
    case .exact: "exact"
    case .stochastic: "stochastic"
    case .twoStep: "two-step"
    }
  }
}

extension RectangularFlowConfiguration: Codable {
  private enum CodingKeys: String, CodingKey {
    case ambientSize, latentSize, couplingLayers, hiddenSizes, priorCouplingLayers, priorHiddenSizes, activation, seed
  }

  /// FlowLayers' `Activation` is not Codable; it is stored by name.
  private static let activationNames: [(String, Activation)] = [
    ("relu", .relu), ("gelu", .gelu), ("tanh", .tanh), ("silu", .silu),
  ]

  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let name = try container.decode(String.self, forKey: .activation)
    let ambientSize = try container.decode(Int.self, forKey: .ambientSize)
    let latentSize = try container.decode(Int.self, forKey: .latentSize)
    let couplingLayers = try container.decode(Int.self, forKey: .couplingLayers)
    let priorCouplingLayers = try container.decode(Int.self, forKey: .priorCouplingLayers)
    try requireDecoded(
      ambientSize >= 2 && latentSize >= 1 && latentSize <= ambientSize,
      "need 1 ≤ d ≤ D and D ≥ 2, got d = \(latentSize), D = \(ambientSize)", key: .latentSize, in: container)
    try requireDecoded(
      couplingLayers >= 0 && priorCouplingLayers >= 0, "negative layer count", key: .couplingLayers, in: container)
    guard let activation = Self.activationNames.first(where: { $0.0 == name })?.1 else {
      throw DecodingError.dataCorruptedError(
        forKey: .activation, in: container,
        debugDescription: "unknown activation \(name); expected one of \(Self.activationNames.map(\.0))")
    }
    self.init(
      ambientSize: ambientSize, latentSize: latentSize, couplingLayers: couplingLayers,
      hiddenSizes: try container.decode([Int].self, forKey: .hiddenSizes), priorCouplingLayers: priorCouplingLayers,
      priorHiddenSizes: try container.decode([Int].self, forKey: .priorHiddenSizes),
      activation: activation, seed: try container.decode(UInt64.self, forKey: .seed))
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(ambientSize, forKey: .ambientSize)
    try container.encode(latentSize, forKey: .latentSize)
    try container.encode(couplingLayers, forKey: .couplingLayers)
    try container.encode(hiddenSizes, forKey: .hiddenSizes)
    try container.encode(priorCouplingLayers, forKey: .priorCouplingLayers)
    try container.encode(priorHiddenSizes, forKey: .priorHiddenSizes)
    let name = Self.activationNames.first { $0.1 == activation }!.0
    try container.encode(name, forKey: .activation)
    try container.encode(seed, forKey: .seed)
  }
}

/// Throws a `DecodingError` naming `key` unless `condition` holds: decoding
/// goes through the checked initialisers, so a settings file with an
/// impossible value is a thrown error, not a failed precondition.
func requireDecoded<Key: CodingKey>(
  _ condition: Bool, _ message: @autoclosure () -> String, key: Key, in container: KeyedDecodingContainer<Key>
) throws {
  guard !condition else { return }
  throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: message())
}
