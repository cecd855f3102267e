import FlowTensor
import XCTest
import _TestSupport

/// Reverse- and forward-mode derivatives of the shape ops (reshape,
/// squeeze, expand, transpose, broadcast, concatenate, split, slices,
/// flips, padding, gathers and scatter-adds), against central differences.
/// `checkJVP` also compares a batch of two tangents against two single
/// passes, which exercises each rule's batch-axis shift.
final class ShapeDerivativeTests: XCTestCase {
  typealias Body = ([Tensor<Double>]) -> Tensor<Double>

  private struct Case {
    let name: String
    let shapes: [[Int]]
    let body: Body
    init(_ name: String, _ shapes: [[Int]], _ body: @escaping Body) {
      (self.name, self.shapes, self.body) = (name, shapes, body)
    }
  }

  private func random(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
    var generator = SeededGenerator(seed: seed)
    return Tensor.randomNormal(shape: shape, using: &generator)
  }

  private func inputs(of testCase: Case, seed: UInt64) -> [Tensor<Double>] {
    testCase.shapes.enumerated().map { random($1, seed: seed + UInt64($0)) }
  }

  /// Both modes of every case, and reverse-over-forward: the gradient of
  /// the JVP of the case composed after x ↦ x², whose tangent 2x·v carries
  /// a graph node into the shape rule's own tangent computation.
  private func run(_ cases: [Case], file: StaticString = #filePath, line: UInt = #line) {
    for testCase in cases {
      let point = inputs(of: testCase, seed: 10)
      let reverse = checkVJP(of: testCase.body, at: point)
      XCTAssertTrue(reverse.passed, "\(testCase.name): \(reverse)", file: file, line: line)
      let forward = checkJVP(of: testCase.body, at: point)
      XCTAssertTrue(forward.passed, "\(testCase.name): \(forward)", file: file, line: line)
      let directions = inputs(of: testCase, seed: 20)
      let squared: Body = { p in testCase.body(p.map { $0 * $0 }) }
      let secondOrder = checkVJP(of: { p in jvp(of: squared, at: p, along: directions).tangent }, at: point)
      XCTAssertTrue(secondOrder.passed, "\(testCase.name), reverse over forward: \(secondOrder)", file: file, line: line)
    }
  }

  func testReshapeSqueezeAndExpand() {
    run([
      Case("reshaped(to: [3, -1])", [[2, 3, 2]]) { $0[0].reshaped(to: [3, -1]) },
      Case("squeezingShape(at: 1)", [[2, 1, 3, 1]]) { $0[0].squeezingShape(at: 1) },
      Case("squeezingShape(at: -1, 1)", [[2, 1, 3, 1]]) { $0[0].squeezingShape(at: -1, 1) },
      Case("squeezingShape(at: []) (all)", [[2, 1, 3, 1]]) { $0[0].squeezingShape(at: []) },
      Case("expandingShape(at: 0)", [[2, 3]]) { $0[0].expandingShape(at: 0) },
      Case("expandingShape(at: -1)", [[2, 3]]) { $0[0].expandingShape(at: -1) },
      Case("expandingShape(at: [1, 3])", [[2, 3]]) { $0[0].expandingShape(at: [1, 3]) },
    ])
  }

  func testTransposeAndBroadcast() {
    run([
      Case("transposed(permutation: [2, 0, 1])", [[2, 3, 4]]) { $0[0].transposed(permutation: [2, 0, 1]) },
      Case("transposed(permutation: [1, 2, 0]) with a size-1 axis", [[3, 1, 2]]) {
        $0[0].transposed(permutation: [1, 2, 0])
      },
      Case("transposed(permutation:) identity", [[2, 3]]) { $0[0].transposed(permutation: [0, 1]) },
      Case("transposed()", [[2, 3, 4]]) { $0[0].transposed() },
      Case("transposed() of a large matrix (tiled path)", [[20, 17]]) { $0[0].transposed() },
      Case("broadcast [3] → [2, 3]", [[3]]) { $0[0].broadcast(to: [2, 3]) },
      Case("broadcast [2, 1, 3] → [4, 2, 5, 3]", [[2, 1, 3]]) { $0[0].broadcast(to: [4, 2, 5, 3]) },
      Case("broadcast [1] → [2, 3]", [[1]]) { $0[0].broadcast(to: [2, 3]) },
      Case("broadcast of a scalar", [[]]) { $0[0].broadcast(to: [3, 2]) },
      Case("broadcast to its own shape", [[2, 3]]) { $0[0].broadcast(to: [2, 3]) },
    ])
  }

  func testConcatenateAndSplit() {
    let constant = random([2, 2], seed: 99)
    run([
      Case("concatenating three along -1, one of size 0", [[2, 3], [2, 1], [2, 0]]) {
        Tensor(concatenating: $0, alongAxis: -1)
      },
      Case("concatenating along 0", [[1, 3], [3, 3]]) { Tensor(concatenating: $0, alongAxis: 0) },
      Case("concatenating with a constant piece", [[2, 3], [2, 1]]) {
        Tensor(concatenating: [$0[0], constant, $0[1]], alongAxis: 1)
      },
      Case("concatenating a tensor with itself", [[2, 2]]) {
        Tensor(concatenating: [$0[0], $0[0] * 2], alongAxis: 0)
      },
      Case("concatenating one piece", [[2, 3]]) { Tensor(concatenating: [$0[0]], alongAxis: 1) },
      Case("split(sizes: [1, 0, 2], alongAxis: -1), pieces reordered", [[2, 3]]) {
        let pieces = $0[0].split(sizes: [1, 0, 2], alongAxis: -1)
        return Tensor(concatenating: [pieces[2], pieces[1], pieces[0] * 3], alongAxis: 1)
      },
      Case("split(count: 2, alongAxis: 0), pieces combined", [[4, 3]]) {
        let pieces = $0[0].split(count: 2, alongAxis: 0)
        return pieces[1] - pieces[0] * pieces[0]
      },
      Case("split, one piece used", [[3, 4]]) { $0[0].split(sizes: [1, 3], alongAxis: 1)[1] },
    ])
  }

  func testSlicesFlipsAndPadding() {
    run([
      Case("sliced(alongAxis: 0, from: 1, to: 5, by: 2)", [[6, 3]]) {
        $0[0].sliced(alongAxis: 0, from: 1, to: 5, by: 2)
      },
      Case("sliced(alongAxis: -1, by: -1)", [[2, 4]]) { $0[0].sliced(alongAxis: -1, by: -1) },
      Case("sliced(alongAxis: 1, from: -1, by: -2)", [[2, 5, 2]]) { $0[0].sliced(alongAxis: 1, from: -1, by: -2) },
      Case("sliced(alongAxis: 0, from: -100, to: 100, by: 3) (clamped)", [[7, 2]]) {
        $0[0].sliced(alongAxis: 0, from: -100, to: 100, by: 3)
      },
      Case("sliced(alongAxis: 0, from: 10, to: 20) (empty)", [[3, 2]]) {
        $0[0].sliced(alongAxis: 0, from: 10, to: 20)
      },
      Case("sliced(alongAxis: 1) of a size-1 axis", [[3, 1]]) { $0[0].sliced(alongAxis: 1, from: 0, to: 1) },
      Case("sliced(lowerBounds:upperBounds:strides:)", [[5, 4, 3]]) {
        $0[0].sliced(lowerBounds: [1, -1, 0], upperBounds: [5, -5, 3], strides: [2, -1, 1])
      },
      Case("sliced(lowerBounds:upperBounds:) with unit strides", [[4, 3]]) {
        $0[0].sliced(lowerBounds: [1, 0], upperBounds: [3, -1])
      },
      Case("reversed(alongAxes: [0, -1])", [[2, 3, 2]]) { $0[0].reversed(alongAxes: [0, -1]) },
      Case("reversed(alongAxes: [])", [[2, 3]]) { $0[0].reversed(alongAxes: []) },
      Case("padded(with: [(1, 2), (0, 1)], value: 3)", [[2, 3]]) {
        $0[0].padded(with: [(1, 2), (0, 1)], value: 3)
      },
      Case("padded(with: [(0, 0), (2, 0), (1, 1)])", [[2, 1, 2]]) {
        $0[0].padded(with: [(0, 0), (2, 0), (1, 1)])
      },
    ])
  }

  func testGatherAndScatterAdd() {
    let elementIndices = IndexTensor(shape: [2, 4, 2], indices: [2, 0, 2, 2, 1, 1, 0, 2, 0, 0, 1, 2, 2, 2, 2, 1])
    let rowIndices = IndexTensor(shape: [2, 2], indices: [1, 1, 0, 1])
    let baseConstant = random([3, 2], seed: 98)
    let valuesConstant = random([2, 4, 2], seed: 97)
    run([
      Case("gathering(atIndices: [2, 0, 2, 2], alongAxis: 1)", [[2, 3, 2]]) {
        $0[0].gathering(atIndices: [2, 0, 2, 2], alongAxis: 1)
      },
      Case("gathering(atIndices: [1, 1], alongAxis: 0)", [[3, 2]]) { $0[0].gathering(atIndices: [1, 1], alongAxis: 0) },
      Case("gathering(atIndices: [0, 2, 0], alongAxis: -1)", [[2, 3]]) {
        $0[0].gathering(atIndices: [0, 2, 0], alongAxis: -1)
      },
      Case("gathering(atIndices: [], alongAxis: 0)", [[2, 3]]) { $0[0].gathering(atIndices: [], alongAxis: 0) },
      Case("gathering(indices:alongAxis: 2), repeated indices", [[2, 4, 3]]) {
        $0[0].gathering(indices: elementIndices, alongAxis: 2)
      },
      Case("gathering(indices:alongAxis: 0), indices smaller than the input", [[2, 3]]) {
        $0[0].gathering(indices: rowIndices, alongAxis: 0)
      },
      Case("scatteringAdd(_:atIndices: [1, 1, 0, 2], alongAxis: 0), base and values", [[3, 2], [4, 2]]) {
        $0[0].scatteringAdd($0[1], atIndices: [1, 1, 0, 2], alongAxis: 0)
      },
      Case("scatteringAdd(_:atIndices:alongAxis: -1), values only", [[2, 4, 2]]) {
        Tensor.zeros(shape: [2, 4, 3]).scatteringAdd($0[0], atIndices: [2, 2], alongAxis: -1)
      },
      Case("scatteringAdd(_:atIndices:alongAxis: 0), base only", [[3, 2]]) {
        $0[0].scatteringAdd(baseConstant.gathering(atIndices: [0, 0], alongAxis: 0), atIndices: [2, 2], alongAxis: 0)
      },
      Case("scatteringAdd(_:indices:alongAxis: 2), base and values", [[2, 4, 3], [2, 4, 2]]) {
        $0[0].scatteringAdd($0[1], indices: elementIndices, alongAxis: 2)
      },
      Case("scatteringAdd(_:indices:alongAxis: 2), base only", [[2, 5, 3]]) {
        $0[0].scatteringAdd(valuesConstant, indices: elementIndices, alongAxis: 2)
      },
      Case("scatteringAdd(_:indices:alongAxis: 0), values only", [[2, 2]]) {
        baseConstant.scatteringAdd($0[0], indices: rowIndices, alongAxis: 0)
      },
    ])
  }

  /// The pullbacks by hand: a negative-step slice puts the cotangent back
  /// at the positions it read, a gather with repeats adds them up.
  func testPullbacksByHand() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let x = Tensor<Scalar>([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]])
      let (_, slicePullback) = vjp(of: { $0.sliced(alongAxis: 1, from: -1, by: -2) }, at: x)
      assertClose(
        slicePullback(Tensor([[1, 2, 3], [4, 5, 6]])),
        Tensor([[3, 0, 2, 0, 1], [6, 0, 5, 0, 4]]), absolute: 0)
      let (_, gatherPullback) = vjp(of: { $0.gathering(atIndices: [4, 0, 4], alongAxis: 1) }, at: x)
      assertClose(
        gatherPullback(Tensor([[1, 2, 3], [4, 5, 6]])),
        Tensor([[2, 0, 0, 0, 4], [5, 0, 0, 0, 10]]), absolute: 0)
      let (_, padPullback) = vjp(of: { $0.padded(with: [(1, 0), (0, 1)], value: 7) }, at: x)
      let cotangent = Tensor<Scalar>.arange(to: 18).reshaped(to: [3, 6])
      assertClose(padPullback(cotangent), Tensor([[6, 7, 8, 9, 10], [12, 13, 14, 15, 16]]), absolute: 0)
      let (_, broadcastPullback) = vjp(of: { $0.broadcast(to: [3, 2, 5]) }, at: x)
      assertClose(broadcastPullback(Tensor.ones(shape: [3, 2, 5])), Tensor.full(3, shape: [2, 5]), absolute: 0)
    }
    check(Float.self)
    check(Double.self)
  }
}
