import FlowTensor
import XCTest
import _TestSupport

/// Derivatives of the unary elementwise ops (Tensor+Math.swift) and of the
/// normal-distribution ops (NormalDistribution.swift).
final class MathDerivativeTests: XCTestCase {
  /// One unary op and where to test it: a function producing inputs in
  /// its smooth domain (away from kinks and poles).
  struct UnaryCase {
    let name: String
    let function: (Tensor<Double>) -> Tensor<Double>
    let input: (inout SeededGenerator, [Int]) -> Tensor<Double>
  }

  static func normal(scale: Double) -> (inout SeededGenerator, [Int]) -> Tensor<Double> {
    { generator, shape in Tensor.randomNormal(shape: shape, standardDeviation: scale, using: &generator) }
  }

  static func uniform(_ range: Range<Double>) -> (inout SeededGenerator, [Int]) -> Tensor<Double> {
    { generator, shape in Tensor.randomUniform(shape: shape, in: range, using: &generator) }
  }

  /// Magnitudes in [0.2, 2) with random signs: away from the kink at 0.
  static func awayFromZero(_ generator: inout SeededGenerator, _ shape: [Int]) -> Tensor<Double> {
    Tensor.randomUniform(shape: shape, in: 0.2..<2, using: &generator)
      * Tensor.randomRademacher(shape: shape, using: &generator)
  }

  static let unaryCases: [UnaryCase] = [
    UnaryCase(name: "abs", function: { abs($0) }, input: awayFromZero),
    UnaryCase(name: "exp", function: { exp($0) }, input: normal(scale: 1)),
    UnaryCase(name: "log", function: { log($0) }, input: uniform(0.5..<3)),
    UnaryCase(name: "log1p", function: { log1p($0) }, input: uniform(-0.5..<2)),
    UnaryCase(name: "expm1", function: { expm1($0) }, input: normal(scale: 1)),
    UnaryCase(name: "sqrt", function: { sqrt($0) }, input: uniform(0.5..<3)),
    UnaryCase(name: "rsqrt", function: { rsqrt($0) }, input: uniform(0.5..<3)),
    UnaryCase(name: "square", function: { square($0) }, input: normal(scale: 1)),
    UnaryCase(name: "tanh", function: { tanh($0) }, input: normal(scale: 2)),
    UnaryCase(name: "sigmoid", function: { sigmoid($0) }, input: normal(scale: 3)),
    UnaryCase(name: "softplus", function: { softplus($0) }, input: normal(scale: 3)),
    UnaryCase(name: "logSigmoid", function: { logSigmoid($0) }, input: normal(scale: 3)),
    UnaryCase(name: "relu", function: { relu($0) }, input: awayFromZero),
    UnaryCase(name: "gelu", function: { gelu($0) }, input: normal(scale: 2)),
    UnaryCase(name: "gelu(approximate:)", function: { gelu($0, approximate: true) }, input: normal(scale: 2)),
    UnaryCase(name: "erf", function: { erf($0) }, input: normal(scale: 1)),
    UnaryCase(name: "erfc", function: { erfc($0) }, input: normal(scale: 1)),
    UnaryCase(name: "sin", function: { sin($0) }, input: normal(scale: 3)),
    UnaryCase(name: "cos", function: { cos($0) }, input: normal(scale: 3)),
    UnaryCase(name: "normalCDF", function: { normalCDF($0) }, input: normal(scale: 2)),
    UnaryCase(name: "logNormalCDF", function: { logNormalCDF($0) }, input: normal(scale: 3)),
    // Both regimes of the slope φ/Φ: the series below −30, exp(log φ − log Φ) above.
    UnaryCase(name: "logNormalCDF (lower tail)", function: { logNormalCDF($0) }, input: uniform(-40 ..< -20)),
    UnaryCase(name: "inverseNormalCDF", function: { inverseNormalCDF($0) }, input: uniform(0.05..<0.95)),
  ]

  func testEveryUnaryOpPassesVJPAndJVPChecks() {
    var generator = SeededGenerator(seed: 10)
    for unary in Self.unaryCases {
      for shape in [[3, 4], [], [2, 1, 3]] {
        let x = unary.input(&generator, shape)
        let reverse = checkVJP(of: { unary.function($0[0]) }, at: [x])
        XCTAssertTrue(reverse.passed, "\(unary.name) \(shape): \(reverse)")
        let forward = checkJVP(of: { unary.function($0[0]) }, at: [x])
        XCTAssertTrue(forward.passed, "\(unary.name) \(shape): \(forward)")
      }
    }
  }

  /// Every tangent rule is built from recorded ops: the reverse-mode
  /// derivative of a tangent matches central differences of that tangent.
  func testEveryUnaryTangentRuleDifferentiatesInReverseMode() {
    var generator = SeededGenerator(seed: 11)
    for unary in Self.unaryCases {
      let x = unary.input(&generator, [5])
      let direction = Tensor<Double>.randomNormal(shape: [5], using: &generator)
      // (x, v) ↦ f′(x)·v, differentiated with respect to both.
      let report = checkVJP(
        of: { p in jvp(of: unary.function, at: p[0], along: p[1]).tangent }, at: [x, direction])
      XCTAssertTrue(report.passed, "\(unary.name): \(report)")
    }
  }

  /// The gradient with respect to a of Σ (∂/∂x f(a·x))², reverse mode
  /// around forward mode, against central differences of the same loss.
  func testReverseOverForwardOfTanhAndSoftplus() {
    var generator = SeededGenerator(seed: 12)
    let x = Tensor<Double>.randomNormal(shape: [4], using: &generator)
    let point = Tensor<Double>.randomUniform(shape: [4], in: 0.5..<1.5, using: &generator)
    let functions: [(String, (Tensor<Double>) -> Tensor<Double>)] = [("tanh", { tanh($0) }), ("softplus", { softplus($0) })]
    for (name, f) in functions {
      func loss(_ a: Tensor<Double>) -> Tensor<Double> {
        let derivative = jvp(of: { x in f(a * x) }, at: x, along: Tensor.ones(shape: x.shape)).tangent
        return (derivative * derivative).sum()
      }
      let (value, gradient) = valueWithGradient(at: point, in: loss)
      XCTAssertEqual(value.scalar, loss(point).scalar, "\(name)")
      let step = 1e-6
      var numeric = [Double]()
      for element in 0..<point.scalarCount {
        var plus = point.scalars
        var minus = point.scalars
        plus[element] += step
        minus[element] -= step
        numeric.append(
          (loss(Tensor(plus)).scalar - loss(Tensor(minus)).scalar) / (2 * step))
      }
      assertClose(gradient, Tensor(numeric), absolute: 1e-7, relative: 1e-6, name)
      // By hand for tanh: with s = sech²(a x), L = Σ a² s² and
      // ds/da = −2 x tanh(a x) s, so dL/da = 2 a s² − 4 a² x tanh(a x) s².
      if name == "tanh" {
        let a = point
        let u = a * x
        let s = 1 - square(tanh(u))
        assertClose(gradient, 2 * a * s * s - 4 * a * a * x * tanh(u) * s * s, absolute: 1e-12, relative: 1e-10)
      }
    }
  }

  /// Hand-derived derivatives at chosen points, through both modes.
  func testDerivativesAtChosenPoints() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      func derivatives(
        _ f: (Tensor<Scalar>) -> Tensor<Scalar>, at points: [Scalar]
      ) -> (reverse: Tensor<Scalar>, forward: Tensor<Scalar>) {
        let x = Tensor(points)
        let reverse = valueWithGradient(at: x) { f($0).sum() }.gradient
        let forward = jvp(of: f, at: x, along: Tensor.ones(shape: x.shape)).tangent
        return (reverse, forward)
      }
      let cases: [(String, (Tensor<Scalar>) -> Tensor<Scalar>, [Scalar], [Scalar])] = [
        ("relu", { relu($0) }, [-1, 0, 1], [0, 0, 1]),
        ("abs", { abs($0) }, [-2, 0, 3], [-1, 0, 1]),
        ("sigmoid", { sigmoid($0) }, [0], [0.25]),
        ("tanh", { tanh($0) }, [0], [1]),
        ("softplus", { softplus($0) }, [0], [0.5]),
        ("logSigmoid", { logSigmoid($0) }, [0], [0.5]),
        ("gelu", { gelu($0) }, [0], [0.5]),
        ("gelu(approximate:)", { gelu($0, approximate: true) }, [0], [0.5]),
        ("square", { square($0) }, [-1.5], [-3]),
        ("sqrt", { sqrt($0) }, [4], [0.25]),
        ("rsqrt", { rsqrt($0) }, [4], [-1.0 / 16]),
        ("log", { log($0) }, [0.5], [2]),
        ("sin", { sin($0) }, [0], [1]),
        ("cos", { cos($0) }, [0], [0]),
        ("normalCDF", { normalCDF($0) }, [0], [0.3989422804014327]),
        ("inverseNormalCDF", { inverseNormalCDF($0) }, [0.5], [2.5066282746310002]),
        // mpmath (40 digits): 1/npdf(√2·erfinv(2p − 1)) for p = 0.001 and 0.3.
        ("inverseNormalCDF", { inverseNormalCDF($0) }, [0.001, 0.3], [296.99235158923113, 2.8761036592642923]),
        // mpmath: ncdf(1) + npdf(1).
        ("gelu", { gelu($0) }, [1], [1.0833154705876863]),
        // mpmath: npdf(x)/ncdf(x) at −40, −10, −1, 0, 3: finite and exact
        // far below where φ and Φ underflow in Float.
        ("logNormalCDF", { logNormalCDF($0) }, [-40, -10, -1, 0, 3],
         [40.024968847207264, 10.098093233962512, 1.5251352761609812, 0.7978845608028654, 0.004437839042125664]),
        // Tails, to relative precision: σ′(40) and tanh′(30) (mpmath
        // e⁻⁴⁰/(1 + e⁻⁴⁰)² and 4e⁻⁶⁰/(1 + e⁻⁶⁰)²), where 1 − σ² and
        // 1 − tanh² would round to 0.
        ("sigmoid", { sigmoid($0) }, [40, -40], [4.248354255291589e-18, 4.248354255291589e-18]),
        ("tanh", { tanh($0) }, [30], [3.502604305078608e-26]),
      ]
      for (name, f, points, expected) in cases {
        let (reverse, forward) = derivatives(f, at: points)
        let expected = Tensor(expected)
        assertClose(reverse, expected, relative: tolerance, "\(name) reverse at \(points)")
        assertClose(forward, expected, relative: tolerance, "\(name) forward at \(points)")
      }
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-13)
  }

  /// Reverse mode through several ops at once, with a value reused and a
  /// non-trivially permuted input.
  func testCompositeOfMathOpsPassesChecks() {
    var generator = SeededGenerator(seed: 13)
    let x = Tensor<Double>.randomNormal(shape: [4, 3], using: &generator).transposed()
    let body: ([Tensor<Double>]) -> Tensor<Double> = { p in
      let y = tanh(p[0]) * softplus(p[0])
      return (logNormalCDF(y) + sqrt(square(y) + 1)).sum(alongAxes: [1])
    }
    let reverse = checkVJP(of: body, at: [x])
    XCTAssertTrue(reverse.passed, "\(reverse)")
    let forward = checkJVP(of: body, at: [x])
    XCTAssertTrue(forward.passed, "\(forward)")
  }

  /// Size-0 operands: empty results, empty gradients and tangents.
  func testEmptyTensorsHaveEmptyDerivatives() {
    let x = Tensor<Double>.zeros(shape: [0, 3])
    for unary in Self.unaryCases {
      let gradient = valueWithGradient(at: x) { unary.function($0).sum() }.gradient
      XCTAssertEqual(gradient.shape, [0, 3], unary.name)
      let tangent = jvp(of: unary.function, at: x, along: Tensor.zeros(shape: [2, 0, 3])).tangent
      XCTAssertEqual(tangent.shape, [2, 0, 3], unary.name)
    }
  }
}
