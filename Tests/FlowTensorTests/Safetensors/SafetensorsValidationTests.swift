import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// Malformed files, each built by hand to break one rule, and the typed
/// error each must raise.
final class SafetensorsValidationTests: XCTestCase {
  private func assertThrows(
    _ data: Data, _ expected: SafetensorsError, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertThrowsError(try SafetensorsFile(data: data), file: file, line: line) { error in
      XCTAssertEqual(error as? SafetensorsError, expected, file: file, line: line)
    }
  }

  /// The reason of an `.invalidJSON`, or a failure.
  private func jsonFailure(_ data: Data, file: StaticString = #filePath, line: UInt = #line) -> (Int, String)? {
    do {
      _ = try SafetensorsFile(data: data)
      XCTFail("no error", file: file, line: line)
    } catch let SafetensorsError.invalidJSON(offset, reason) {
      return (offset, reason)
    } catch {
      XCTFail("\(error)", file: file, line: line)
    }
    return nil
  }

  private let f32x2 = #""dtype":"F32","shape":[2]"#
  private let eightBytes: [UInt8] = [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40]

  func testValidHandWrittenFileReads() throws {
    // Whitespace, an ignored extra field, metadata, a zero-size tensor at the end.
    let header = """
       { "__metadata__" : {"a": "b"}, "x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "extra": [1, {"y": null}]},
        "z": {"shape": [0, 5], "dtype": "BF16", "data_offsets": [8, 8]} }\t
      """
    let file = try SafetensorsFile(data: safetensorsFile(header: header, data: eightBytes))
    XCTAssertEqual(file.metadata, ["a": "b"])
    XCTAssertEqual(try file.tensor(named: "x", as: Float.self).scalars, [1, 2])
    XCTAssertEqual(try file.tensor(named: "z", as: Double.self).shape, [0, 5])
    XCTAssertEqual(try SafetensorsFile(data: safetensorsFile(header: #"{"__metadata__":null}"#)).metadata, [:])
  }

  func testTruncatedFiles() throws {
    assertThrows(Data([1, 0, 0]), .truncatedHeaderLength(fileSize: 3))
    assertThrows(Data(), .truncatedHeaderLength(fileSize: 0))
    assertThrows(safetensorsFile(header: "{}", declaredLength: 100), .truncatedHeader(headerLength: 100, available: 2))
    // A valid file cut inside its data.
    let whole = Safetensors.encode(["a": Tensor<Float>([1, 2, 3])])
    let cut = whole.prefix(whole.count - 4)
    assertThrows(cut, .dataOffsetsOutOfRange(tensor: "a", begin: 0, end: 12, dataSize: 8))
    // Cut inside the header.
    assertThrows(whole.prefix(20), .truncatedHeader(headerLength: UInt64(whole.count - 20), available: 12))
  }

  func testAbsurdHeaderLengths() {
    assertThrows(
      safetensorsFile(header: "{}", declaredLength: 1 << 40),
      .headerTooLarge(headerLength: 1 << 40, limit: 100_000_000))
    assertThrows(
      safetensorsFile(header: "{}", declaredLength: .max), .headerTooLarge(headerLength: .max, limit: 100_000_000))
    assertThrows(
      safetensorsFile(header: "{}", declaredLength: 100_000_000),
      .truncatedHeader(headerLength: 100_000_000, available: 2))
  }

  func testInvalidUTF8AndJSON() {
    var bytes = Array(safetensorsFile(header: #"{"x":"ab"}"#))
    bytes[14] = 0xFF
    assertThrows(Data(bytes), .invalidUTF8)
    assertThrows(safetensorsFile(header: ""), .invalidJSON(offset: 0, reason: "unexpected end of the header"))
    XCTAssertEqual(jsonFailure(safetensorsFile(header: #"{"a": }"#))?.0, 6)
    XCTAssertEqual(jsonFailure(safetensorsFile(header: #"{"a": 1} x"#))?.1, "unexpected text after the JSON value")
    XCTAssertEqual(jsonFailure(safetensorsFile(header: #"{"a": tru}"#))?.1, "unknown literal")
    XCTAssertEqual(jsonFailure(safetensorsFile(header: #"{"a": 01}"#))?.1, "expected ',' or '}' in an object")
    XCTAssertEqual(jsonFailure(safetensorsFile(header: #"{"a": "\ud800"}"#))?.1, "lone leading surrogate \\ud800")
    XCTAssertEqual(jsonFailure(safetensorsFile(header: #"{"a": "\udc00"}"#))?.1, "lone trailing surrogate \\udc00")
    XCTAssertEqual(jsonFailure(safetensorsFile(header: "{\"a\": \"x\ny\"}"))?.1, "control character 0xa in a string")
    XCTAssertEqual(jsonFailure(safetensorsFile(header: #"{"a": "\q"}"#))?.1, "unknown escape '\\q'")
    XCTAssertEqual(jsonFailure(safetensorsFile(header: #"{"a": -}"#))?.1, "expected a digit")
    XCTAssertEqual(jsonFailure(safetensorsFile(header: #"{"a": 1.}"#))?.1, "expected a digit after '.'")
    // Deep nesting throws instead of overflowing the stack.
    let deep = #"{"a": "# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
    XCTAssertEqual(jsonFailure(safetensorsFile(header: deep))?.1, "nesting deeper than 64 levels")
    // A duplicate key inside an entry.
    XCTAssertEqual(
      jsonFailure(safetensorsFile(header: #"{"a": {"dtype": "F32", "dtype": "F64"}}"#))?.1, #"duplicate key "dtype""#)
  }

  func testHeaderStructure() {
    assertThrows(safetensorsFile(header: "[1, 2]"), .headerNotAnObject)
    assertThrows(safetensorsFile(header: #""text""#), .headerNotAnObject)
    assertThrows(safetensorsFile(header: #"{"w": 3}"#), .entryNotAnObject(tensor: "w"))
    assertThrows(
      safetensorsFile(header: #"{"w": {"shape": [], "data_offsets": [0, 0]}}"#), .missingField(tensor: "w", field: "dtype"))
    assertThrows(
      safetensorsFile(header: #"{"w": {"dtype": "F32", "data_offsets": [0, 0]}}"#),
      .missingField(tensor: "w", field: "shape"))
    assertThrows(
      safetensorsFile(header: #"{"w": {"dtype": "F32", "shape": [0]}}"#), .missingField(tensor: "w", field: "data_offsets"))
    let entry = #"{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#
    assertThrows(safetensorsFile(header: "{\"w\":\(entry),\"w\":\(entry)}", data: eightBytes), .duplicateName("w"))
  }

  func testMetadata() {
    assertThrows(
      safetensorsFile(header: #"{"__metadata__": {"a": 1}}"#),
      .invalidMetadata(reason: "the value of 'a' is 1, not a string"))
    assertThrows(
      safetensorsFile(header: #"{"__metadata__": ["a"]}"#),
      .invalidMetadata(reason: "expected an object of strings, found an array"))
    assertThrows(
      safetensorsFile(header: #"{"__metadata__": {}, "__metadata__": {}}"#), .invalidMetadata(reason: "given twice"))
  }

  func testDataTypes() {
    for dtype in ["I64", "F8_E4M3", "f32", "BOOL", ""] {
      assertThrows(
        safetensorsFile(header: #"{"w": {"dtype": "\#(dtype)", "shape": [], "data_offsets": [0, 8]}}"#, data: eightBytes),
        .unsupportedDataType(tensor: "w", dataType: dtype))
    }
    assertThrows(
      safetensorsFile(header: #"{"w": {"dtype": 4, "shape": [], "data_offsets": [0, 4]}}"#),
      .unsupportedDataType(tensor: "w", dataType: "4"))
  }

  func testShapes() {
    func shaped(_ shape: String) -> Data {
      safetensorsFile(header: #"{"w": {"dtype": "F32", "shape": \#(shape), "data_offsets": [0, 8]}}"#, data: eightBytes)
    }
    let suffix = "not a non-negative integer below 2⁶³"
    assertThrows(shaped("[-2]"), .invalidShape(tensor: "w", reason: "size 0 is -2, \(suffix)"))
    assertThrows(shaped("[1, 2.0]"), .invalidShape(tensor: "w", reason: "size 1 is 2.0, \(suffix)"))
    assertThrows(shaped("[2e0]"), .invalidShape(tensor: "w", reason: "size 0 is 2e0, \(suffix)"))
    assertThrows(shaped(#"["2"]"#), .invalidShape(tensor: "w", reason: "size 0 is the string \"2\", \(suffix)"))
    assertThrows(
      shaped("[99999999999999999999]"), .invalidShape(tensor: "w", reason: "size 0 is 99999999999999999999, \(suffix)"))
    assertThrows(shaped("2"), .invalidShape(tensor: "w", reason: "expected an array, found 2"))
    assertThrows(shaped("[4611686018427387904, 4]"), .shapeOverflow(tensor: "w", shape: [1 << 62, 4]))
    // 2⁶⁰ scalars fit in Int, their 2⁶² bytes too; 2⁶² scalars of 4 bytes do not.
    assertThrows(shaped("[4611686018427387904]"), .shapeOverflow(tensor: "w", shape: [1 << 62]))
    // Zero scalars, but the strides of such a tensor would overflow.
    assertThrows(shaped("[0, 4611686018427387904, 4]"), .shapeOverflow(tensor: "w", shape: [0, 1 << 62, 4]))
    assertThrows(
      shaped("[1152921504606846976]"),
      .byteCountMismatch(tensor: "w", shape: [1 << 60], dataType: "F32", expected: 1 << 62, found: 8))
  }

  func testDataOffsets() {
    func offsets(_ offsets: String, shape: String = "[2]", data: [UInt8]? = nil) -> Data {
      safetensorsFile(
        header: #"{"w": {"dtype": "F32", "shape": \#(shape), "data_offsets": \#(offsets)}}"#, data: data ?? eightBytes)
    }
    let twoIntegers = "not two non-negative integers below 2⁶³"
    assertThrows(offsets("[0]"), .invalidDataOffsets(tensor: "w", reason: "expected an array [begin, end], found an array"))
    assertThrows(offsets("8"), .invalidDataOffsets(tensor: "w", reason: "expected an array [begin, end], found 8"))
    assertThrows(offsets("[-1, 7]"), .invalidDataOffsets(tensor: "w", reason: "[-1, 7] are \(twoIntegers)"))
    assertThrows(offsets("[0, 8.0]"), .invalidDataOffsets(tensor: "w", reason: "[0, 8.0] are \(twoIntegers)"))
    assertThrows(offsets("[8, 0]"), .invalidDataOffsets(tensor: "w", reason: "begin 8 is after end 0"))
    assertThrows(
      offsets("[0, 12]"), .byteCountMismatch(tensor: "w", shape: [2], dataType: "F32", expected: 8, found: 12))
    assertThrows(offsets("[4, 12]"), .dataOffsetsOutOfRange(tensor: "w", begin: 4, end: 12, dataSize: 8))
    assertThrows(
      offsets("[9223372036854775799, 9223372036854775807]"),
      .dataOffsetsOutOfRange(tensor: "w", begin: .max - 8, end: .max, dataSize: 8))
  }

  func testCoverageOfTheData() {
    func file(_ entries: [(String, Int, Int)], dataSize: Int) -> Data {
      let members = entries.map { name, begin, end in
        #""\#(name)":{"dtype":"BF16","shape":[\#((end - begin) / 2)],"data_offsets":[\#(begin),\#(end)]}"#
      }
      return safetensorsFile(header: "{" + members.joined(separator: ",") + "}", data: Array(repeating: 0, count: dataSize))
    }
    assertThrows(file([("a", 0, 4)], dataSize: 6), .uncoveredData(begin: 4, end: 6))  // trailing bytes
    assertThrows(file([("a", 2, 6)], dataSize: 6), .uncoveredData(begin: 0, end: 2))  // a gap at the start
    assertThrows(file([("b", 6, 8), ("a", 0, 4)], dataSize: 8), .uncoveredData(begin: 4, end: 6))
    assertThrows(file([("a", 0, 6), ("b", 4, 8)], dataSize: 8), .overlappingTensors("a", "b"))
    assertThrows(file([("a", 0, 4), ("b", 0, 4)], dataSize: 4), .overlappingTensors("a", "b"))
    // A zero-size tensor inside another's bytes overlaps it; at a boundary it does not.
    assertThrows(file([("a", 0, 4), ("z", 2, 2)], dataSize: 4), .overlappingTensors("a", "z"))
    XCTAssertNoThrow(try SafetensorsFile(data: file([("z", 0, 0), ("a", 0, 4), ("y", 4, 4), ("b", 4, 6)], dataSize: 6)))
    XCTAssertNoThrow(try SafetensorsFile(data: file([], dataSize: 0)))
    assertThrows(file([], dataSize: 1), .uncoveredData(begin: 0, end: 1))
  }

  func testUnreadableFile() {
    let url = URL(fileURLWithPath: "/nonexistent-directory-\(UUID().uuidString)/x.safetensors")
    XCTAssertThrowsError(try SafetensorsFile(contentsOf: url)) { error in
      XCTAssertEqual(error as? SafetensorsError, .cannotRead(path: url.path, reason: "No such file or directory"))
    }
  }

  /// The messages name the problem and the tensor.
  func testDescriptions() {
    let cases: [(SafetensorsError, String)] = [
      (.truncatedHeaderLength(fileSize: 3), "truncated file: 3 bytes, fewer than the 8 bytes of the header length"),
      (.headerTooLarge(headerLength: 1 << 40, limit: 100_000_000),
       "header length 1099511627776 exceeds the limit of 100000000 bytes"),
      (.unsupportedDataType(tensor: "w", dataType: "I64"),
       "tensor 'w': unknown or unsupported dtype 'I64' (F16, BF16, F32 and F64 are read)"),
      (.byteCountMismatch(tensor: "w", shape: [2, 3], dataType: "F32", expected: 24, found: 20),
       "tensor 'w': shape [2, 3] of F32 needs 24 bytes, data_offsets span 20"),
      (.dataOffsetsOutOfRange(tensor: "w", begin: 0, end: 12, dataSize: 8),
       "tensor 'w': data_offsets [0, 12] reach past the 8 bytes of data (truncated file?)"),
      (.overlappingTensors("a", "b"), "tensors 'a' and 'b' overlap in the data"),
      (.uncoveredData(begin: 4, end: 6), "data bytes [4, 6) belong to no tensor"),
      (.duplicateName("w"), "the header names tensor 'w' twice"),
      (.invalidJSON(offset: 6, reason: "unexpected character '}'"),
       "the header is not valid JSON: unexpected character '}' at byte 6"),
    ]
    for (error, message) in cases { XCTAssertEqual(error.description, message) }
  }
}
