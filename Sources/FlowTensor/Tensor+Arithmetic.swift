/// The four arithmetic operators with NumPy broadcasting, and their scalar
/// and compound-assignment forms.
extension Tensor {
  /// Elementwise sum after broadcasting.
  /// - Complexity: O(n) in the result's size.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
    let value = zip(lhs, rhs, operation: "add") { chunk in chunk.apply { $0 + $1 } }
    guard lhs.autodiff != nil || rhs.autodiff != nil else { return value }
    let (lhsShape, rhsShape) = (lhs.shape, rhs.shape)
    return value.derived(
      from: lhs, rhs, operation: "add",
      pullback: { ($0.unbroadcast(to: lhsShape), $0.unbroadcast(to: rhsShape)) },
      tangent: { a, b, output, da, db in
        sumOfTangents(da.map { ($0, a) }, db.map { ($0, b) }, output: output)
      })
  }

  /// Elementwise difference after broadcasting.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
    let value = zip(lhs, rhs, operation: "subtract") { chunk in chunk.apply { $0 - $1 } }
    guard lhs.autodiff != nil || rhs.autodiff != nil else { return value }
    let (lhsShape, rhsShape) = (lhs.shape, rhs.shape)
    return value.derived(
      from: lhs, rhs, operation: "subtract",
      pullback: { ($0.unbroadcast(to: lhsShape), (-$0).unbroadcast(to: rhsShape)) },
      tangent: { a, b, output, da, db in
        sumOfTangents(da.map { ($0, a) }, db.map { (-$0, b) }, output: output)
      })
  }

  /// Elementwise product after broadcasting.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
    let value = zip(lhs, rhs, operation: "multiply") { chunk in chunk.apply { $0 * $1 } }
    guard lhs.autodiff != nil || rhs.autodiff != nil else { return value }
    let (a, b) = (lhs.detached, rhs.detached)
    let (needA, needB) = (lhs.requiresGradient, rhs.requiresGradient)
    return value.derived(
      from: lhs, rhs, operation: "multiply",
      pullback: { cotangent in
        (needA ? (cotangent * b).unbroadcast(to: a.shape) : nil,
         needB ? (cotangent * a).unbroadcast(to: b.shape) : nil)
      },
      tangent: { a, b, output, da, db in
        // d(a·b) = da·b + a·db; each product broadcasts to the output.
        sumOfTangents(
          da.map { (alignTangent($0, primalRank: a.rank, toRank: output.rank) * b, output) },
          db.map { (a * alignTangent($0, primalRank: b.rank, toRank: output.rank), output) },
          output: output)
      })
  }

  /// Elementwise quotient after broadcasting.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
    let value = zip(lhs, rhs, operation: "divide") { chunk in chunk.apply { $0 / $1 } }
    guard lhs.autodiff != nil || rhs.autodiff != nil else { return value }
    let (b, quotient) = (rhs.detached, value)
    let (needA, needB) = (lhs.requiresGradient, rhs.requiresGradient)
    let lhsShape = lhs.shape
    return value.derived(
      from: lhs, rhs, operation: "divide",
      pullback: { cotangent in
        let scaled = cotangent / b
        return (needA ? scaled.unbroadcast(to: lhsShape) : nil,
                needB ? (-(scaled * quotient)).unbroadcast(to: b.shape) : nil)
      },
      tangent: { a, b, output, da, db in
        // d(a/b) = da/b − (a/b)·db/b.
        sumOfTangents(
          da.map { (alignTangent($0, primalRank: a.rank, toRank: output.rank) / b, output) },
          db.map { (-(output * alignTangent($0, primalRank: b.rank, toRank: output.rank)) / b, output) },
          output: output)
      })
  }

  /// Negation of every scalar.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public static prefix func - (operand: Tensor) -> Tensor {
    let value = operand.map { chunk in chunk.apply { -$0 } }
    guard operand.autodiff != nil else { return value }
    return value.derived(from: operand, operation: "negate", pullback: { -$0 }, tangent: { _, _, tangent in -tangent })
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
