/// A learning-rate multiplier for one group of parameters, chosen by the
/// dotted path of the layer that holds them: PyTorch's parameter groups
/// (`torch.optim.Adam([{"params": ..., "lr": ...}])`), named by path so
/// that the choice can be stored in a checkpoint.
///
/// A parameter belongs to the group when its dotted name is ``path`` or
/// starts with ``path`` followed by a dot: `"layers.1"` takes
/// `"layers.1.weight"` and `"layers.1.inner.bias"`, not `"layers.10.weight"`.
/// The empty path takes every parameter.
public struct LearningRateGroup: Codable, Equatable, Sendable {
  /// The dotted path of the layer whose parameters the group holds.
  public var path: String
  /// The factor applied to the optimizer's learning rate for the group, ≥ 0.
  public var multiplier: Double

  /// The group of the parameters under `path`, trained at `multiplier` times the learning rate.
  /// - Parameters:
  ///   - path: a dotted layer path (`""` for all parameters).
  ///   - multiplier: finite and ≥ 0.
  public init(path: String, multiplier: Double) {
    precondition(
      multiplier.isFinite && multiplier >= 0,
      "LearningRateGroup(path: \"\(path)\", multiplier: \(multiplier)): the multiplier must be finite and ≥ 0")
    self.path = path
    self.multiplier = multiplier
  }

  /// Whether the parameter named `name` belongs to the group.
  public func contains(parameter name: String) -> Bool {
    path.isEmpty || name == path || (name.hasPrefix(path) && name.dropFirst(path.count).first == ".")
  }
}

extension Array where Element == LearningRateGroup {
  /// The multiplier of the first group that holds the parameter `name`,
  /// 1 when none does.
  /// - Complexity: O(count) prefix comparisons.
  public func multiplier(forParameter name: String) -> Double {
    first { $0.contains(parameter: name) }?.multiplier ?? 1
  }
}
