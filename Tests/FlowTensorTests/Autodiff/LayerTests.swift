import FlowTensor
import XCTest
import _TestSupport

/// A dense layer and a two-layer perceptron, as a user of the package writes them.
struct Dense<Scalar: TensorScalar>: Layer {
  var weight: Tensor<Scalar>
  var bias: Tensor<Scalar>

  init(inputs: Int, outputs: Int, generator: inout SeededGenerator) {
    weight = Tensor.randomNormal(
      shape: [inputs, outputs], standardDeviation: Scalar(1 / Double(inputs).squareRoot()), using: &generator)
    bias = Tensor.zeros(shape: [outputs])
  }

  func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { matmul(x, weight) + bias }

  mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("weight", &weight)
    visitor.visit("bias", &bias)
  }
}

struct Perceptron<Scalar: TensorScalar>: Layer {
  var layers: [Dense<Scalar>]
  var head: Dense<Scalar>?

  init(sizes: [Int], seed: UInt64) {
    var generator = SeededGenerator(seed: seed)
    layers = zip(sizes, sizes.dropFirst()).map { Dense(inputs: $0, outputs: $1, generator: &generator) }
    head = Dense(inputs: sizes.last!, outputs: 1, generator: &generator)
  }

  func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    var y = x
    for layer in layers {
      let z = layer(y)
      y = z / (1 + exp(-z))  // SiLU
    }
    return head.map { $0(y) } ?? y
  }

  mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("layers", &layers)
    visitor.visit("head", &head)
  }
}

final class LayerTests: XCTestCase {
  func testParametersHaveStableDottedNames() {
    let model = Perceptron<Float>(sizes: [4, 8, 3], seed: 0)
    XCTAssertEqual(
      model.parameters.map(\.name),
      ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "head.weight", "head.bias"])
    XCTAssertEqual(model.parameterCount, 4 * 8 + 8 + 8 * 3 + 3 + 3 + 1)
  }

  func testLoadParametersChecksNamesAndShapes() throws {
    var model = Perceptron<Double>(sizes: [2, 3], seed: 1)
    var values = model.namedParameters
    values["head.bias"] = Tensor([5])
    try model.loadParameters(values)
    XCTAssertEqual(model.head?.bias.scalars, [5])
    values.removeValue(forKey: "layers.0.bias")
    XCTAssertThrowsError(try model.loadParameters(values)) { error in
      XCTAssertEqual(error as? ParameterError, .missing(name: "layers.0.bias"))
    }
    values["layers.0.bias"] = Tensor([1, 2])
    XCTAssertThrowsError(try model.loadParameters(values)) { error in
      XCTAssertEqual(error as? ParameterError, .shapeMismatch(name: "layers.0.bias", expected: [3], found: [2]))
      XCTAssertEqual("\(error)", "parameter 'layers.0.bias' has shape [2], the layer expects [3]")
    }
    XCTAssertEqual(model.head?.bias.scalars, [5], "a failed load changes nothing")
  }

  func testLayerGradientsAgreeWithTensorGradients() {
    let model = Perceptron<Double>(sizes: [3, 4], seed: 2)
    var generator = SeededGenerator(seed: 3)
    let x = Tensor<Double>.randomNormal(shape: [5, 3], using: &generator)
    let (value, gradients) = valueWithGradient(at: model) { model in (model(x) * model(x)).sum() }
    XCTAssertEqual(Set(gradients.keys), Set(model.parameters.map(\.name)))
    // The same loss as a function of the flat parameter list.
    let names = model.parameters.map(\.name)
    let report = checkVJP(
      of: { values in
        var copy = model
        try! copy.loadParameters(Dictionary(uniqueKeysWithValues: zip(names, values)))
        return (copy(x) * copy(x)).sum()
      }, at: model.parameters.map(\.value))
    XCTAssertTrue(report.passed, "\(report)")
    let (_, flat) = valueWithGradient(at: model.parameters.map(\.value)) { values in
      var copy = model
      try! copy.loadParameters(Dictionary(uniqueKeysWithValues: zip(names, values)))
      return (copy(x) * copy(x)).sum()
    }
    XCTAssertGreaterThan(value.scalar, 0)
    for (name, expected) in zip(names, flat) { assertClose(gradients[name]!, expected, relative: 1e-12) }
  }
}
