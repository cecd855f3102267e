import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// Files written by the Python `safetensors` package read here, and files
/// written here read in Python (see Fixtures/make_safetensors_fixtures.py).
final class SafetensorsInteropTests: XCTestCase {
  /// The tensors of Fixtures/safetensors_swift.safetensors, restated in the
  /// Python script as SWIFT_TENSORS.
  static func swiftFixtureTensors() -> [String: StoredTensor] {
    [
      "weight": .float(Tensor([[-1, -0.5, 0], [0.5, 1, 1.5]])),
      "bias": .double(Tensor([1.0 / 3.0, -2.5, 1e-300])),
      "scale": .double(Tensor(Double.pi)),
      "empty": .float(Tensor.zeros(shape: [0, 2])),
      "special": .float(Tensor([.infinity, -.infinity, .nan, -0.0])),
    ]
  }

  static let swiftFixtureMetadata = ["format": "flowtensor", "step": "7", "note": "quote \" and ✓"]

  private struct ExpectedFile: Decodable {
    let metadata: [String: String]
    let tensors: [String: FixtureTensor]
  }

  private struct ExpectedTypes: Decodable {
    struct Entry: Decodable { let dtype: String }
    let tensors: [String: Entry]
  }

  /// Compares a file's tensors with expected values, exactly: as Double, and
  /// as Float (rounded from the Double, which is exact but for F64).
  private func assertMatches(
    _ file: SafetensorsFile, _ expected: [String: FixtureTensor], types: [String: String],
    source: String, line: UInt = #line
  ) throws {
    XCTAssertEqual(Set(file.names), Set(expected.keys), source, line: line)
    for (name, tensor) in expected {
      XCTAssertEqual(try file.info(named: name).dataType.rawValue, types[name], "\(source) \(name)", line: line)
      let asDouble = try file.tensor(named: name, as: Double.self)
      let asFloat = try file.tensor(named: name, as: Float.self)
      XCTAssertEqual(asDouble.shape, tensor.shape, "\(source) \(name)", line: line)
      XCTAssertEqual(asFloat.shape, tensor.shape, "\(source) \(name)", line: line)
      XCTAssertEqual(asDouble.scalarCount, tensor.values.count, "\(source) \(name)", line: line)
      for (index, value) in tensor.values.enumerated() where index < asDouble.scalarCount {
        XCTAssertTrue(sameValue(asDouble.scalars[index], value), "\(source) \(name)[\(index)]: \(asDouble.scalars[index]) vs \(value)", line: line)
        XCTAssertTrue(sameValue(asFloat.scalars[index], Float(value)), "\(source) \(name)[\(index)] as Float", line: line)
      }
    }
  }

  /// Fixtures/safetensors_python.safetensors, written by safetensors.numpy.save_file
  /// with F32, F64, F16 and BF16 tensors, reads with the values the script recorded.
  func testReadsTheFileWrittenByPython() throws {
    let url = fixturesDirectory.appendingPathComponent("safetensors_python.safetensors")
    let file = try SafetensorsFile(contentsOf: url)
    let expected = try loadFixture(ExpectedFile.self, named: "safetensors_python.json")
    let types = try loadFixture(ExpectedTypes.self, named: "safetensors_python.json").tensors.mapValues(\.dtype)
    XCTAssertEqual(file.metadata, expected.metadata)
    XCTAssertEqual(Set(types.values), ["F16", "BF16", "F32", "F64"])
    XCTAssertTrue(expected.tensors.values.contains { $0.shape == [] })
    XCTAssertTrue(expected.tensors.values.contains { $0.shape.contains(0) })
    try assertMatches(file, expected.tensors, types: types, source: "python fixture")
  }

  /// Fixtures/safetensors_swift.safetensors (verified in Python by the
  /// script) is exactly what the encoder produces today.
  func testEncoderReproducesTheCommittedSwiftFixture() throws {
    let url = fixturesDirectory.appendingPathComponent("safetensors_swift.safetensors")
    let committed = try Data(contentsOf: url)
    XCTAssertEqual(Safetensors.encode(Self.swiftFixtureTensors(), metadata: Self.swiftFixtureMetadata), committed)
    let file = try SafetensorsFile(data: committed)
    XCTAssertEqual(file.metadata, Self.swiftFixtureMetadata)
    XCTAssertEqual(try file.tensor(named: "bias", as: Double.self).scalars, [1.0 / 3.0, -2.5, 1e-300])
  }

  /// Writes a file here and, when python3 has safetensors, loads it with
  /// safetensors.numpy.load_file and compares every value exactly; the Swift
  /// round trip runs in any case.
  func testPythonReadsWhatThisPackageWrites() throws {
    let directory = try makeTemporaryDirectory(for: self)
    let url = directory.appendingPathComponent("from-swift.safetensors")
    var generator = SeededGenerator(seed: 5)
    let tensors: [String: StoredTensor] = [
      "layers.0.weight": .float(Tensor.randomNormal(shape: [3, 4], using: &generator)),
      "layers.0.bias": .double(Tensor.randomNormal(shape: [4], using: &generator)),
      "scalar": .double(Tensor(-0.0)),
      "empty": .float(Tensor.zeros(shape: [0, 3])),
      "column": .float(Tensor([[Float.leastNonzeroMagnitude], [.greatestFiniteMagnitude], [.nan]])),
      "extremes": .double(Tensor([Double.leastNonzeroMagnitude, -.greatestFiniteMagnitude, -.infinity])),
    ]
    let metadata = ["written by": "FlowTensor", "ü": "✓"]
    try Safetensors.write(tensors, metadata: metadata, to: url)

    var expected: [String: FixtureTensor] = [:]
    var types: [String: String] = [:]
    for (name, tensor) in tensors {
      let values: [Double]
      switch tensor {
      case let .float(t): values = t.scalars.map(Double.init)
      case let .double(t): values = t.scalars
      }
      expected[name] = try fixtureTensor(shape: tensor.shape, values: values)
      types[name] = tensor.dataType.rawValue
    }
    let file = try SafetensorsFile(contentsOf: url)
    XCTAssertEqual(file.metadata, metadata)
    try assertMatches(file, expected, types: types, source: "Swift round trip")

    guard let python = Python.withSafetensors() else {
      note("python3 with safetensors is unavailable: only the Swift round trip ran")
      return
    }
    let script = """
      import json, math, sys
      from safetensors import safe_open
      from safetensors.numpy import load_file
      def encode(v):
          v = float(v)
          if math.isnan(v): return "nan"
          if math.isinf(v): return "inf" if v > 0 else "-inf"
          return v
      tensors = load_file(sys.argv[1])
      with safe_open(sys.argv[1], framework="np") as f:
          metadata = f.metadata() or {}
      names = {"float32": "F32", "float64": "F64"}
      print(json.dumps({
          "metadata": metadata,
          "tensors": {k: {"dtype": names[str(a.dtype)], "shape": list(a.shape),
                          "values": [encode(x) for x in a.astype("float64").ravel()]} for k, a in tensors.items()}}))
      """
    let output = try python.run(["-c", script, url.path])
    let loaded = try JSONDecoder().decode(ExpectedFile.self, from: output)
    let loadedTypes = try JSONDecoder().decode(ExpectedTypes.self, from: output).tensors.mapValues(\.dtype)
    XCTAssertEqual(loaded.metadata, metadata)
    XCTAssertEqual(loadedTypes, types)
    XCTAssertEqual(Set(loaded.tensors.keys), Set(expected.keys))
    for (name, tensor) in expected {
      guard let fromPython = loaded.tensors[name] else { continue }
      XCTAssertEqual(fromPython.shape, tensor.shape, name)
      XCTAssertTrue(
        fromPython.values.count == tensor.values.count && zip(fromPython.values, tensor.values).allSatisfy(sameValue),
        "\(name): Python read \(fromPython.values), wrote \(tensor.values)")
    }
  }

  /// The fixture script's own check of the Swift-written fixture, when
  /// python3 has safetensors.
  func testPythonScriptVerifiesTheSwiftFixture() throws {
    let script = fixturesDirectory.appendingPathComponent("make_safetensors_fixtures.py")
    XCTAssertTrue(FileManager.default.fileExists(atPath: script.path))
    guard let python = Python.withSafetensors(modules: ["safetensors.numpy", "ml_dtypes"]) else {
      note("python3 with safetensors and ml_dtypes is unavailable: the script did not run")
      return
    }
    let output = String(decoding: try python.run([script.path, "--verify-only"]), as: UTF8.self)
    XCTAssertTrue(output.contains("values and metadata exact"), output)
  }

  private func fixtureTensor(shape: [Int], values: [Double]) throws -> FixtureTensor {
    let encoded = values.map { value -> String in
      value.isNaN ? "\"nan\"" : value.isInfinite ? (value > 0 ? "\"inf\"" : "\"-inf\"") : "\(value)"
    }
    let json = "{\"shape\": \(shape), \"values\": [\(encoded.joined(separator: ", "))]}"
    return try JSONDecoder().decode(FixtureTensor.self, from: Data(json.utf8))
  }
}

/// Runs `python3` found on the PATH.
private struct Python {
  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  /// A runner when `python3` starts and imports `modules`, else nil.
  static func withSafetensors(modules: [String] = ["safetensors.numpy"]) -> Python? {
    let python = Python()
    let imports = modules.map { "import \($0)" }.joined(separator: "; ")
    return (try? python.run(["-c", imports])) != nil ? python : nil
  }

  /// The standard output of `python3 arguments…`.
  /// - Throws: ``Failure`` when it cannot start or exits non-zero (with its standard error).
  func run(_ arguments: [String]) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // Read before waiting, so a full pipe cannot block the child.
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw Failure(description: "python3 exited with \(process.terminationStatus): \(errorText)")
    }
    return data
  }
}
