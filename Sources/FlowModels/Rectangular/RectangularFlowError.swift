/// A rectangular flow's density could not be computed from this data.
public enum RectangularFlowError: Error, Equatable, CustomStringConvertible {
  /// JᵀJ of sample `sample` holds a NaN or an infinity (the map overflowed
  /// there), which no jitter repairs.
  case nonFiniteGramMatrix(sample: Int)

  public var description: String {
    switch self {
    case .nonFiniteGramMatrix(let sample):
      return "the Gram matrix JᵀJ of sample \(sample) is not finite"
    }
  }
}
