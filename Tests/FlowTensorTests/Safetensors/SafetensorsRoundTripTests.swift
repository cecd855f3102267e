import FlowTensor
import Foundation
import XCTest
import _TestSupport

final class SafetensorsRoundTripTests: XCTestCase {
  /// Writing then reading returns the same tensors, shapes (rank 0, size-0
  /// and size-1 axes) and metadata; reading as the other precision converts.
  func testRoundTripInBothPrecisions() throws {
    let directory = try makeTemporaryDirectory(for: self)
    func check<Scalar: TensorScalar>(_: Scalar.Type, storedAs dataType: SafetensorsDataType) throws {
      var generator = SeededGenerator(seed: 11)
      let tensors: [String: Tensor<Scalar>] = [
        "matrix": Tensor.randomNormal(shape: [3, 5], using: &generator),
        "scalar": Tensor(Scalar(-2.75)),
        "empty": Tensor.zeros(shape: [4, 0, 2]),
        "ones axes": Tensor.randomUniform(shape: [1, 3, 1], in: -1..<1, using: &generator),
        "special": Tensor([.infinity, -.infinity, .nan, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]),
      ]
      let metadata = ["epoch": "3", "empty value": "", "ünïcode": "✓"]
      let url = directory.appendingPathComponent("\(Scalar.self).safetensors")
      try Safetensors.write(tensors, metadata: metadata, to: url)

      let file = try SafetensorsFile(contentsOf: url)
      XCTAssertEqual(file.metadata, metadata)
      XCTAssertEqual(Set(file.names), Set(tensors.keys))
      for (name, expected) in tensors {
        XCTAssertEqual(try file.info(named: name).dataType, dataType)
        let same = try file.tensor(named: name, as: Scalar.self)
        XCTAssertEqual(same.shape, expected.shape, name)
        XCTAssertTrue(zip(same.scalars, expected.scalars).allSatisfy(sameValue), "\(name): \(same) vs \(expected)")
        // The other precision: Float → Double is exact, Double → Float rounds to nearest.
        let asFloat = try file.tensor(named: name, as: Float.self)
        let asDouble = try file.tensor(named: name, as: Double.self)
        XCTAssertTrue(zip(asFloat.scalars, expected.scalars.map { Float($0) }).allSatisfy(sameValue), name)
        XCTAssertTrue(zip(asDouble.scalars, expected.scalars.map { Double($0) }).allSatisfy(sameValue), name)
      }
      let all: [String: Tensor<Scalar>] = file.allTensors()
      XCTAssertEqual(Set(all.keys), Set(tensors.keys))
      XCTAssertEqual(all["matrix"], tensors["matrix"])
    }
    try check(Float.self, storedAs: .float32)
    try check(Double.self, storedAs: .float64)
  }

  /// The exact bytes of a small file, derived by hand: F64 tensors come
  /// first (alignment), names sorted within a dtype, header padded with
  /// spaces to a multiple of 8.
  func testEncodingIsTheDocumentedLayout() {
    let data = Safetensors.encode(
      ["b": .float(Tensor<Float>([1, -2])), "a": .float(Tensor<Float>(0.5)), "c": .double(Tensor<Double>([[3]]))],
      metadata: ["k": "v"])
    let json =
      #"{"__metadata__":{"k":"v"},"c":{"dtype":"F64","shape":[1,1],"data_offsets":[0,8]},"#
      + #""a":{"dtype":"F32","shape":[],"data_offsets":[8,12]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}"#
    let padded = json + String(repeating: " ", count: (8 - json.utf8.count % 8) % 8)
    var expected = withUnsafeBytes(of: UInt64(padded.utf8.count).littleEndian, Array.init) + Array(padded.utf8)
    expected += [0, 0, 0, 0, 0, 0, 0x08, 0x40]  // 3.0 as little-endian binary64
    expected += [0, 0, 0, 0x3F]  // 0.5
    expected += [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0]  // 1, -2
    XCTAssertEqual(Array(data), expected)
    XCTAssertEqual((8 + padded.utf8.count) % 8, 0)
  }

  /// No metadata and no tensors: the header is `{}` padded to 8 bytes.
  func testEmptyFile() throws {
    let data = Safetensors.encode([String: Tensor<Float>]())
    XCTAssertEqual(Array(data), [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))
    let file = try SafetensorsFile(data: data)
    XCTAssertEqual(file.tensors, [])
    XCTAssertEqual(file.metadata, [:])
  }

  /// Names and metadata with quotes, backslashes, control characters and
  /// non-ASCII survive the JSON escaping.
  func testAwkwardNamesRoundTrip() throws {
    let names = ["quote\"d", "back\\slash", "new\nline", "tab\t", "bell\u{07}", "emoji 🦀", "", "a.b.0.c"]
    var tensors: [String: StoredTensor] = [:]
    for (index, name) in names.enumerated() { tensors[name] = .double(Tensor<Double>([Double(index)])) }
    let metadata = ["\u{01}key\"": "value\\\n\u{1F}", "ключ": "значение"]
    let file = try SafetensorsFile(data: Safetensors.encode(tensors, metadata: metadata))
    XCTAssertEqual(file.metadata, metadata)
    for (index, name) in names.enumerated() {
      XCTAssertEqual(try file.tensor(named: name, as: Double.self).scalars, [Double(index)], name)
    }
  }

  func testMissingTensorThrowsNamingIt() throws {
    let file = try SafetensorsFile(data: Safetensors.encode(["present": Tensor<Float>([1])]))
    XCTAssertFalse(file.contains("absent"))
    XCTAssertThrowsError(try file.tensor(named: "absent", as: Float.self)) { error in
      XCTAssertEqual(error as? SafetensorsError, .tensorNotFound(name: "absent"))
      XCTAssertEqual("\(error)", "no tensor named 'absent' in the file")
    }
  }

  /// A `Data` slice that does not start at index 0 reads the same.
  func testReadsFromADataSlice() throws {
    let whole = Safetensors.encode(["x": Tensor<Double>([1, 2, 3])], metadata: ["m": "n"])
    let slice = (Data([9, 9, 9]) + whole + Data([7])).dropFirst(3).dropLast()
    XCTAssertEqual(slice.startIndex, 3)
    let file = try SafetensorsFile(data: slice)
    XCTAssertEqual(file.metadata, ["m": "n"])
    XCTAssertEqual(try file.tensor(named: "x", as: Double.self).scalars, [1, 2, 3])
  }

  func testMixedPrecisionsInOneFile() throws {
    let data = Safetensors.encode(["f": StoredTensor(Tensor<Float>([1.5, 2])), "d": StoredTensor(Tensor<Double>([0.1]))])
    let file = try SafetensorsFile(data: data)
    XCTAssertEqual(try file.info(named: "f").dataType, .float32)
    XCTAssertEqual(try file.info(named: "d").dataType, .float64)
    XCTAssertEqual(try file.tensor(named: "d", as: Double.self).scalars, [0.1])
    XCTAssertEqual(try file.tensor(named: "d", as: Float.self).scalars, [Float(0.1)])
    XCTAssertEqual(try file.tensor(named: "f", as: Double.self).scalars, [1.5, 2])
  }
}
