import FlowTensor
import Foundation
import XCTest
import _TestSupport

private struct StoredDense<Scalar: TensorScalar>: Layer {
  var weight: Tensor<Scalar>
  var bias: Tensor<Scalar>
  mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("weight", &weight)
    visitor.visit("bias", &bias)
  }
}

private struct Network<Scalar: TensorScalar>: Layer {
  var layers: [StoredDense<Scalar>]
  var scale: Tensor<Scalar>
  mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("layers", &layers)
    visitor.visit("scale", &scale)
  }

  init(seed: UInt64) {
    var generator = SeededGenerator(seed: seed)
    layers = [[4, 3], [3, 2]].map { shape in
      StoredDense(
        weight: Tensor.randomNormal(shape: shape, using: &generator),
        bias: Tensor.randomNormal(shape: [shape[1]], using: &generator))
    }
    scale = Tensor.randomNormal(shape: [], using: &generator)
  }
}

final class LayerSafetensorsTests: XCTestCase {
  func testSaveThenLoadRestoresEveryParameter() throws {
    let directory = try makeTemporaryDirectory(for: self)
    func check<Scalar: TensorScalar>(_: Scalar.Type) throws {
      let url = directory.appendingPathComponent("network-\(Scalar.self).safetensors")
      let trained = Network<Scalar>(seed: 1)
      try trained.save(to: url, metadata: ["step": "42"])

      let file = try SafetensorsFile(contentsOf: url)
      XCTAssertEqual(
        Set(file.names), ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "scale"])
      XCTAssertEqual(try file.info(named: "layers.0.weight").dataType, Scalar.self == Float.self ? .float32 : .float64)

      var fresh = Network<Scalar>(seed: 2)
      XCTAssertNotEqual(fresh.namedParameters["scale"], trained.namedParameters["scale"])
      let metadata = try fresh.loadParameters(from: url)
      XCTAssertEqual(metadata, ["step": "42"])
      for (name, value) in trained.parameters {
        XCTAssertEqual(fresh.namedParameters[name], value, name)
      }
    }
    try check(Float.self)
    try check(Double.self)
  }

  /// A Float checkpoint loads into a Double model exactly, and a Double one
  /// into a Float model rounded to nearest.
  func testLoadingConvertsPrecision() throws {
    let directory = try makeTemporaryDirectory(for: self)
    let url = directory.appendingPathComponent("float.safetensors")
    let single = Network<Float>(seed: 3)
    try single.save(to: url)
    var double = Network<Double>(seed: 4)
    try double.loadParameters(from: url)
    for (name, value) in single.parameters {
      XCTAssertEqual(double.namedParameters[name]!.scalars, value.scalars.map(Double.init), name)
    }

    try double.save(to: url)
    var back = Network<Float>(seed: 5)
    try back.loadParameters(from: url)
    XCTAssertEqual(back.namedParameters["layers.1.weight"], single.namedParameters["layers.1.weight"])
  }

  /// A checkpoint lacking a parameter, or holding another shape, throws and
  /// leaves the layer as it was.
  func testMismatchedCheckpointThrowsAndChangesNothing() throws {
    let directory = try makeTemporaryDirectory(for: self)
    let url = directory.appendingPathComponent("partial.safetensors")
    let original = Network<Double>(seed: 6)

    var parameters = original.namedParameters
    parameters["scale"] = nil
    try Safetensors.write(parameters, to: url)
    var layer = original
    layer.scale = Tensor(7)
    let before = layer.parameters.map(\.value)
    XCTAssertThrowsError(try layer.loadParameters(from: url)) { error in
      XCTAssertEqual(error as? ParameterError, .missing(name: "scale"))
    }
    XCTAssertEqual(layer.parameters.map(\.value), before)

    parameters = original.namedParameters
    parameters["layers.0.bias"] = Tensor.zeros(shape: [4])
    parameters["unrelated"] = Tensor.ones(shape: [2])  // ignored
    try Safetensors.write(parameters, to: url)
    XCTAssertThrowsError(try layer.loadParameters(from: url)) { error in
      XCTAssertEqual(error as? ParameterError, .shapeMismatch(name: "layers.0.bias", expected: [3], found: [4]))
    }
    XCTAssertEqual(layer.parameters.map(\.value), before)

    XCTAssertThrowsError(try layer.loadParameters(from: directory.appendingPathComponent("absent.safetensors"))) {
      error in
      guard case .cannotRead? = error as? SafetensorsError else { return XCTFail("\(error)") }
    }
  }
}
