/// The four arithmetic operators with NumPy broadcasting, and their scalar
/// and compound-assignment forms.
extension Tensor {
  /// Elementwise sum after broadcasting.
  /// - Complexity: O(n) in the result's size.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
    zip(lhs, rhs, operation: "add") { chunk in chunk.apply { $0 + $1 } }
  }

  /// Elementwise difference after broadcasting.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
    zip(lhs, rhs, operation: "subtract") { chunk in chunk.apply { $0 - $1 } }
  }

  /// Elementwise product after broadcasting.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
    zip(lhs, rhs, operation: "multiply") { chunk in chunk.apply { $0 * $1 } }
  }

  /// Elementwise quotient after broadcasting.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
    zip(lhs, rhs, operation: "divide") { chunk in chunk.apply { $0 / $1 } }
  }

  /// Negation of every scalar.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static prefix func - (operand: Tensor) -> Tensor {
    operand.map { chunk in chunk.apply { -$0 } }
  }

  public static func + (lhs: Tensor, rhs: Scalar) -> Tensor { lhs + Tensor(rhs) }
  public static func + (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) + rhs }
  public static func - (lhs: Tensor, rhs: Scalar) -> Tensor { lhs - Tensor(rhs) }
  public static func - (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) - rhs }
  public static func * (lhs: Tensor, rhs: Scalar) -> Tensor { lhs * Tensor(rhs) }
  public static func * (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) * rhs }
  public static func / (lhs: Tensor, rhs: Scalar) -> Tensor { lhs / Tensor(rhs) }
  public static func / (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) / rhs }

  public static func += (lhs: inout Tensor, rhs: Tensor) { lhs = lhs + rhs }
  public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs - rhs }
  public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs * rhs }
  public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs / rhs }
  public static func += (lhs: inout Tensor, rhs: Scalar) { lhs = lhs + rhs }
  public static func -= (lhs: inout Tensor, rhs: Scalar) { lhs = lhs - rhs }
  public static func *= (lhs: inout Tensor, rhs: Scalar) { lhs = lhs * rhs }
  public static func /= (lhs: inout Tensor, rhs: Scalar) { lhs = lhs / rhs }
}
