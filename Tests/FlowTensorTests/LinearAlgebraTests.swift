import FlowTensor
import XCTest
import _TestSupport

/// Helpers shared by the `LinearAlgebra*Tests`: fixtures, and plain loops
/// for the matrix products and slices that check results independently of
/// LAPACK (and of the package's own matmul).
enum LinearAlgebraTesting {
  /// The named tensors of a `lapack_*.json` fixture.
  static func fixtures(_ name: String) throws -> [String: FixtureTensor] {
    try Fixtures.load([String: FixtureTensor].self, named: name)
  }

  /// The tensor `key` of `fixtures`, in the requested precision.
  static func tensor<Scalar: TensorScalar>(
    _ fixtures: [String: FixtureTensor], _ key: String, as _: Scalar.Type = Scalar.self,
    file: StaticString = #filePath, line: UInt = #line
  ) throws -> Tensor<Scalar> {
    let fixture = try XCTUnwrap(fixtures[key], "fixture has no \(key)", file: file, line: line)
    return fixture.tensor(Scalar.self)
  }

  /// The product of `[m, k]` and `[k, n]` matrices, accumulated in `Double`.
  static func product<Scalar: TensorScalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0], "product: \(a.shape) × \(b.shape)")
    let (m, inner, n) = (a.shape[0], a.shape[1], b.shape[1])
    var result = [Scalar]()
    for row in 0..<m {
      for column in 0..<n {
        var sum = 0.0
        for index in 0..<inner { sum += Double(a[row, index]) * Double(b[index, column]) }
        result.append(Scalar(sum))
      }
    }
    return Tensor(shape: [m, n], scalars: result)
  }

  /// The transpose of a matrix.
  static func transpose<Scalar: TensorScalar>(_ a: Tensor<Scalar>) -> Tensor<Scalar> {
    let (m, n) = (a.shape[0], a.shape[1])
    var result = [Scalar]()
    for column in 0..<n {
      for row in 0..<m { result.append(a[row, column]) }
    }
    return Tensor(shape: [n, m], scalars: result)
  }

  /// Matrix `index` (row-major over the batch axes) of a `[..., m, n]` batch.
  static func matrix<Scalar: TensorScalar>(_ batch: Tensor<Scalar>, at index: Int) -> Tensor<Scalar> {
    slice(batch, at: index, trailingAxes: 2)
  }

  /// Vector `index` of a `[..., n]` batch.
  static func vector<Scalar: TensorScalar>(_ batch: Tensor<Scalar>, at index: Int) -> Tensor<Scalar> {
    slice(batch, at: index, trailingAxes: 1)
  }

  /// Element `index` of the batch axes of a tensor whose last
  /// `trailingAxes` axes form one item; a rank-0 tensor for 0.
  static func slice<Scalar: TensorScalar>(
    _ batch: Tensor<Scalar>, at index: Int, trailingAxes: Int
  ) -> Tensor<Scalar> {
    let itemShape = Array(batch.shape.suffix(trailingAxes))
    let size = itemShape.reduce(1, *)
    return Tensor(shape: itemShape, scalars: Array(batch.scalars[(index * size)..<((index + 1) * size)]))
  }

  /// The number of matrices in a `[..., m, n]` batch.
  static func batchCount<Scalar: TensorScalar>(_ batch: Tensor<Scalar>) -> Int {
    batch.shape.dropLast(2).reduce(1, *)
  }

  /// Stacks equally shaped tensors along a new leading axis.
  static func stack<Scalar: TensorScalar>(_ items: [Tensor<Scalar>]) -> Tensor<Scalar> {
    Tensor(shape: [items.count] + items[0].shape, scalars: items.flatMap { $0.scalars })
  }

  /// The triangle of a square matrix that a triangular routine reads: the
  /// rest zeroed, and the diagonal set to ones for a unit diagonal.
  static func triangle<Scalar: TensorScalar>(
    _ a: Tensor<Scalar>, lower: Bool, unitDiagonal: Bool = false
  ) -> Tensor<Scalar> {
    let n = a.shape[0]
    var result = a
    for row in 0..<n {
      for column in 0..<n {
        if row == column && unitDiagonal { result[row, column] = 1 }
        if lower ? column > row : column < row { result[row, column] = 0 }
      }
    }
    return result
  }

  /// The error a throwing call throws, failing the test if it returns or
  /// throws something else.
  static func error<Result>(
    _ call: @autoclosure () throws -> Result, file: StaticString = #filePath, line: UInt = #line
  ) -> LinearAlgebraError? {
    do {
      _ = try call()
      XCTFail("no error was thrown", file: file, line: line)
    } catch let error as LinearAlgebraError {
      return error
    } catch {
      XCTFail("unexpected error \(error)", file: file, line: line)
    }
    return nil
  }
}

/// The helpers themselves: the checks above are only as good as they are.
final class LinearAlgebraTests: XCTestCase {
  func testProductTransposeAndTriangleOnHandValues() {
    let a = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
    let b = Tensor<Double>([[1, 0], [0, 1], [1, 1]])
    XCTAssertEqual(LinearAlgebraTesting.product(a, b), Tensor([[4, 5], [10, 11]]))
    XCTAssertEqual(LinearAlgebraTesting.transpose(a), Tensor([[1, 4], [2, 5], [3, 6]]))
    let square = Tensor<Double>([[1, 2], [3, 4]])
    XCTAssertEqual(LinearAlgebraTesting.triangle(square, lower: true), Tensor([[1, 0], [3, 4]]))
    XCTAssertEqual(LinearAlgebraTesting.triangle(square, lower: false, unitDiagonal: true), Tensor([[1, 2], [0, 1]]))
    let batch = Tensor<Double>(shape: [2, 1, 2], scalars: [1, 2, 3, 4])
    XCTAssertEqual(LinearAlgebraTesting.matrix(batch, at: 1), Tensor([[3, 4]]))
    XCTAssertEqual(LinearAlgebraTesting.stack([Tensor<Double>([1, 2]), Tensor([3, 4])]).shape, [2, 2])
  }
}
