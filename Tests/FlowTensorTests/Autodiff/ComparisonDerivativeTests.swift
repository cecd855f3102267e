import FlowTensor
import XCTest
import _TestSupport

/// Derivatives of power, minimum, maximum and selection, and the absence of
/// any derivative on comparison masks (Tensor+Comparison.swift).
final class ComparisonDerivativeTests: XCTestCase {
  typealias Body = ([Tensor<Double>]) -> Tensor<Double>

  /// A binary op at inputs in its smooth domain.
  struct BinaryCase {
    let name: String
    let inputs: [Tensor<Double>]
    let body: Body
  }

  /// The cases, with broadcasting shapes ([3, 1] with [4], a scalar with a
  /// tensor, both ways round). min and max get operands at least 0.05 apart.
  static func binaryCases() -> [BinaryCase] {
    var generator = SeededGenerator(seed: 20)
    func normal(_ shape: [Int]) -> Tensor<Double> { Tensor.randomNormal(shape: shape, using: &generator) }
    func positive(_ shape: [Int]) -> Tensor<Double> { Tensor.randomUniform(shape: shape, in: 0.5..<2, using: &generator) }
    // Values on a grid of step 0.1 offset by 0.05 and 0.0, so every pair differs by at least 0.05.
    func spread(_ shape: [Int], offset: Double) -> Tensor<Double> {
      let count = shape.reduce(1, *)
      let steps = (0..<count).map { _ in Double(Int.random(in: -20...20, using: &generator)) }
      return Tensor(shape: shape, scalars: steps.map { $0 * 0.1 + offset })
    }
    let condition = Tensor<Double>([[1], [0], [1]])
    let wideCondition = Tensor<Double>(shape: [3, 4], scalars: (0..<12).map { Double(($0 * 7) % 3 == 0 ? 1 : 0) })
    return [
      BinaryCase(name: "pow [3, 1] ^ [4]", inputs: [positive([3, 1]), normal([4])], body: { pow($0[0], $0[1]) }),
      BinaryCase(name: "pow [] ^ [3, 4]", inputs: [positive([]), normal([3, 4])], body: { pow($0[0], $0[1]) }),
      BinaryCase(name: "pow [3, 4] ^ []", inputs: [positive([3, 4]), normal([])], body: { pow($0[0], $0[1]) }),
      BinaryCase(name: "pow(x, 2.5)", inputs: [positive([3, 4])], body: { pow($0[0], 2.5) }),
      BinaryCase(name: "pow(x, 3), negative bases", inputs: [normal([3, 4])], body: { pow($0[0], 3) }),
      BinaryCase(name: "pow(x, 0)", inputs: [normal([3, 4])], body: { pow($0[0], 0) }),
      BinaryCase(name: "pow(1.7, y)", inputs: [normal([3, 4])], body: { pow(1.7, $0[0]) }),
      BinaryCase(name: "pow(0.5, y)", inputs: [normal([2, 3])], body: { pow(0.5, $0[0]) }),
      BinaryCase(
        name: "min [3, 1], [4]", inputs: [spread([3, 1], offset: 0.05), spread([4], offset: 0)],
        body: { min($0[0], $0[1]) }),
      BinaryCase(
        name: "max [3, 1], [4]", inputs: [spread([3, 1], offset: 0.05), spread([4], offset: 0)],
        body: { max($0[0], $0[1]) }),
      BinaryCase(
        name: "min [], [3, 4]", inputs: [spread([], offset: 0.05), spread([3, 4], offset: 0)],
        body: { min($0[0], $0[1]) }),
      BinaryCase(
        name: "max [3, 4], []", inputs: [spread([3, 4], offset: 0.05), spread([], offset: 0)],
        body: { max($0[0], $0[1]) }),
      BinaryCase(
        name: "min [0, 1], [3] (empty)", inputs: [normal([0, 1]), normal([3])], body: { min($0[0], $0[1]) }),
      BinaryCase(
        name: "pow [2, 0] ^ [1]", inputs: [positive([2, 0]), normal([1])], body: { pow($0[0], $0[1]) }),
      BinaryCase(name: "min(x, 0.05)", inputs: [spread([3, 4], offset: 0)], body: { min($0[0], 0.05) }),
      BinaryCase(name: "max(0.05, x)", inputs: [spread([3, 4], offset: 0)], body: { max(0.05, $0[0]) }),
      BinaryCase(
        name: "select [3, 1] / [1, 4] / [2, 1, 1]", inputs: [normal([1, 4]), normal([2, 1, 1])],
        body: { select(where: condition, $0[0], else: $0[1]) }),
      BinaryCase(
        name: "select [3, 4] / [3, 4] / []", inputs: [normal([3, 4]), normal([])],
        body: { select(where: wideCondition, $0[0], else: $0[1]) }),
      BinaryCase(
        name: "leaky ReLU by select", inputs: [spread([3, 4], offset: 0.05)],
        body: { select(where: $0[0].elementsGreater(than: 0), $0[0], else: 0.1 * $0[0]) }),
      BinaryCase(
        name: "masked product", inputs: [normal([3, 4]), normal([4])],
        body: { $0[0] * $0[0].elementsLess(than: $0[1]) + $0[1] * $0[0].elementsGreaterOrEqual(to: $0[1]) }),
    ]
  }

  func testEveryBinaryOpPassesVJPAndJVPChecks() {
    for binary in Self.binaryCases() {
      let reverse = checkVJP(of: binary.body, at: binary.inputs)
      XCTAssertTrue(reverse.passed, "\(binary.name): \(reverse)")
      let forward = checkJVP(of: binary.body, at: binary.inputs)
      XCTAssertTrue(forward.passed, "\(binary.name): \(forward)")
    }
  }

  /// The tangent rules are recorded ops: reverse mode through a JVP, with
  /// respect to the inputs and the directions, against central differences.
  func testTangentRulesDifferentiateInReverseMode() {
    var generator = SeededGenerator(seed: 21)
    for binary in Self.binaryCases() {
      let directions = binary.inputs.map { Tensor<Double>.randomNormal(shape: $0.shape, using: &generator) }
      let count = binary.inputs.count
      let report = checkVJP(
        of: { p in jvp(of: binary.body, at: Array(p[..<count]), along: Array(p[count...])).tangent },
        at: binary.inputs + directions)
      XCTAssertTrue(report.passed, "\(binary.name): \(report)")
    }
  }

  /// (reverse, forward) derivatives of a two-input op with respect to each
  /// input, at a point; forward mode along one unit direction at a time.
  func partials<Scalar: TensorScalar>(
    _ f: ([Tensor<Scalar>]) -> Tensor<Scalar>, at inputs: [Tensor<Scalar>]
  ) -> [(reverse: Tensor<Scalar>, forward: Tensor<Scalar>)] {
    let reverse = valueWithGradient(at: inputs) { f($0).sum() }.gradients
    return inputs.indices.map { index in
      let directions = inputs.indices.map {
        $0 == index ? Tensor<Scalar>.ones(shape: inputs[$0].shape) : Tensor<Scalar>.zeros(shape: inputs[$0].shape)
      }
      return (reverse[index], jvp(of: { f($0).sum() }, at: inputs, along: directions).tangent)
    }
  }

  func testPowerDerivativesByHand() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      // Elementwise at (a, b): (2, 3), (−2, 3), (0, 0), (0, 2), (1, 0.5).
      let a = Tensor<Scalar>([2, -2, 0, 0, 1])
      let b = Tensor<Scalar>([3, 3, 0, 2, 0.5])
      let expectedBase = Tensor<Scalar>([12, 12, 0, 0, 0.5])  // b·a^(b−1), 0 where b = 0
      // aᵇ·log a; 0 where aᵇ = 0 < b, but 1·log 0 = −∞ at 0⁰.
      let expectedExponent = Tensor<Scalar>([8 * Scalar.log(2), .nan, -.infinity, 0, 0])
      let reverse = valueWithGradient(at: [a, b]) { pow($0[0], $0[1]).sum() }.gradients
      assertClose(reverse[0], expectedBase, relative: tolerance, "∂/∂base, reverse")
      assertClose(reverse[1], expectedExponent, relative: tolerance, "∂/∂exponent, reverse")
      // One input at a time: a zero direction for the other would still
      // meet the −∞ and NaN partials above (0·∞ = NaN).
      let ones = Tensor<Scalar>.ones(shape: [5])
      let zeros = Tensor<Scalar>.zeros(shape: [5])
      let forwardBase = jvp(of: { pow($0, b) }, at: a, along: ones).tangent
      let forwardExponent = jvp(of: { pow(a, $0) }, at: b, along: ones).tangent
      assertClose(forwardBase, expectedBase, relative: tolerance, "∂/∂base, forward")
      assertClose(forwardExponent, expectedExponent, relative: tolerance, "∂/∂exponent, forward")
      // The scalar forms agree with the tensor form.
      let scalarExponent = valueWithGradient(at: a) { pow($0, 3).sum() }.gradient
      assertClose(scalarExponent, Tensor([12, 12, 0, 0, 3]), relative: tolerance, "pow(x, 3)")
      let zeroExponent = jvp(of: { pow($0, 0) }, at: a, along: ones).tangent
      assertClose(zeroExponent, zeros, "pow(x, 0)")
      let scalarBase = valueWithGradient(at: Tensor<Scalar>([3, 0, -1])) { pow(0, $0).sum() }.gradient
      // 0^y: 0 for y > 0 (by convention), 1·log 0 = −∞ at y = 0, ∞·(−∞) below.
      assertClose(scalarBase, Tensor([0, -.infinity, -.infinity]), "pow(0, y)")
      let twoBase = jvp(of: { pow(2, $0) }, at: Tensor<Scalar>([3]), along: Tensor<Scalar>([1])).tangent
      assertClose(twoBase, Tensor([8 * Scalar.log(2)]), relative: tolerance, "pow(2, y)")
    }
    check(Float.self, tolerance: 1e-6)
    check(Double.self, tolerance: 1e-15)
  }

  func testMinimumAndMaximumDerivativesByHand() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      // Ties split ½/½, so min(x, x) and max(x, x) have derivative 1.
      let x = Tensor<Scalar>([-1, 0, 2])
      XCTAssertEqual(valueWithGradient(at: x) { min($0, $0).sum() }.gradient.scalars, [1, 1, 1])
      XCTAssertEqual(jvp(of: { max($0, $0) }, at: x, along: Tensor([1, 2, 3])).tangent.scalars, [1, 2, 3])
      // max(x, 0) at −1, 0, 2: 0, ½ (tie), 1; min the other way round.
      XCTAssertEqual(valueWithGradient(at: x) { max($0, 0).sum() }.gradient.scalars, [0, 0.5, 1])
      XCTAssertEqual(valueWithGradient(at: x) { min($0, 0).sum() }.gradient.scalars, [1, 0.5, 0])
      // Broadcast [2, 1] against [3]: each gradient sums over the other's axis.
      let a = Tensor<Scalar>([[0], [5]])
      let b = Tensor<Scalar>([-1, 0, 1])
      for (name, f, expectedA, expectedB) in [
        ("max", { max($0[0], $0[1]) } as ([Tensor<Scalar>]) -> Tensor<Scalar>, [1.5, 3], [0, 0.5, 1]),
        ("min", { min($0[0], $0[1]) }, [1.5, 0], [2, 1.5, 1]),
      ] as [(String, ([Tensor<Scalar>]) -> Tensor<Scalar>, [Scalar], [Scalar])] {
        let results = partials(f, at: [a, b])
        XCTAssertEqual(results[0].reverse.scalars, expectedA, "\(name) ∂/∂a reverse")
        XCTAssertEqual(results[1].reverse.scalars, expectedB, "\(name) ∂/∂b reverse")
        XCTAssertEqual(results[0].forward.scalar, expectedA.reduce(0, +), "\(name) ∂/∂a forward")
        XCTAssertEqual(results[1].forward.scalar, expectedB.reduce(0, +), "\(name) ∂/∂b forward")
      }
      // A NaN operand is the one selected: it gets the gradient.
      let withNaN = valueWithGradient(at: [Tensor<Scalar>([.nan, 1]), Tensor<Scalar>([1, .nan])]) {
        max($0[0], $0[1]).sum()
      }.gradients
      XCTAssertEqual(withNaN[0].scalars, [1, 0])
      XCTAssertEqual(withNaN[1].scalars, [0, 1])
    }
    check(Float.self)
    check(Double.self)
  }

  func testSelectionDerivativesByHand() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let condition = Tensor<Scalar>([[1], [0], [1]])  // [3, 1]
      let a = Tensor<Scalar>([1, 2, 3, 4])  // [4]
      let b = Tensor<Scalar>(7)  // []
      // The condition is an input too: it must get a zero gradient.
      let gradients = valueWithGradient(at: [condition, a, b]) { select(where: $0[0], $0[1], else: $0[2]).sum() }
        .gradients
      XCTAssertEqual(gradients[0].scalars, [0, 0, 0], "condition")
      XCTAssertEqual(gradients[1].scalars, [2, 2, 2, 2], "a: two rows take it")
      XCTAssertEqual(gradients[2].scalars, [4], "b: one row of four")
      // Forward mode with batched directions ([2, ...]), the condition's
      // own tangent ignored: batch 0 moves a, batch 1 moves b.
      let tangent = jvp(
        of: { select(where: $0[0], $0[1], else: $0[2]) }, at: [condition, a, b],
        along: [
          Tensor(repeating: 100, shape: [2, 3, 1]),
          Tensor(shape: [2, 4], scalars: [1, 1, 1, 1, 0, 0, 0, 0]),
          Tensor([0, 1]),
        ]
      ).tangent
      XCTAssertEqual(tangent.shape, [2, 3, 4])
      XCTAssertEqual(
        tangent.scalars,
        [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1] + [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0])
      // A NaN tangent in the branch not taken stays out of the result.
      let guarded = jvp(
        of: { select(where: condition, $0[0], else: $0[1]) }, at: [a, b],
        along: [Tensor.ones(shape: [4]), Tensor(.nan)]
      ).tangent
      XCTAssertEqual(guarded.scalars[0..<4], [1, 1, 1, 1])
      XCTAssertTrue(guarded.scalars[4..<8].allSatisfy(\.isNaN))
    }
    check(Float.self)
    check(Double.self)
  }

  /// Masks carry no autodiff state even from operands that require
  /// gradients or carry tangents, and multiplying by one passes the mask on
  /// as the gradient.
  func testComparisonMasksCarryNoDerivative() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let x = Tensor<Scalar>([-1, 0, 2]).requiringGradient()
      let y = Tensor<Scalar>([0, 0, 0]).requiringGradient()
      let masks: [(String, Tensor<Scalar>)] = [
        ("elementsEqual", x.elementsEqual(y)),
        ("elementsLess", x.elementsLess(than: y)),
        ("elementsLessOrEqual", x.elementsLessOrEqual(to: y)),
        ("elementsGreater", x.elementsGreater(than: y)),
        ("elementsGreaterOrEqual", x.elementsGreaterOrEqual(to: y)),
        ("elementsEqual scalar", x.elementsEqual(0)),
        ("elementsLess scalar", x.elementsLess(than: 0)),
        ("elementsLessOrEqual scalar", x.elementsLessOrEqual(to: 0)),
        ("elementsGreater scalar", x.elementsGreater(than: 0)),
        ("elementsGreaterOrEqual scalar", x.elementsGreaterOrEqual(to: 0)),
      ]
      for (name, mask) in masks {
        XCTAssertTrue(x.requiresGradient)
        XCTAssertFalse(mask.requiresGradient, name)
        XCTAssertNil(mask.tangent, name)
      }
      XCTAssertEqual(masks[3].1.scalars, [0, 0, 1])
      // Inside forward mode, too: a mask of a dual tensor has no tangent.
      _ = jvp(of: { x in
        let mask = x.elementsGreater(than: 0)
        XCTAssertNotNil(x.tangent)
        XCTAssertNil(mask.tangent)
        return x * mask
      }, at: Tensor<Scalar>([-1, 2]), along: Tensor<Scalar>([1, 1]))
      let gradient = valueWithGradient(at: Tensor<Scalar>([-1, 0, 2])) { ($0 * $0.elementsGreater(than: 0)).sum() }
        .gradient
      XCTAssertEqual(gradient.scalars, [0, 0, 1])
    }
    check(Float.self)
    check(Double.self)
  }
}
