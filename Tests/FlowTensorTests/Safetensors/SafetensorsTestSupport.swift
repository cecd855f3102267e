import Foundation
import XCTest

/// The bytes of a safetensors file with the given header text and data; the
/// header length written is the header's UTF-8 size unless `declaredLength`
/// overrides it (to test lying lengths).
func safetensorsFile(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
  let headerBytes = Array(header.utf8)
  let length = declaredLength ?? UInt64(headerBytes.count)
  return Data(withUnsafeBytes(of: length.littleEndian, Array.init) + headerBytes + data)
}

/// A fresh empty directory, removed when the test ends.
func makeTemporaryDirectory(for testCase: XCTestCase) throws -> URL {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("flowtensor-safetensors-\(UUID().uuidString)", isDirectory: true)
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  testCase.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
  return url
}

/// Bit-for-bit equality that treats NaN as equal to NaN and tells −0 from +0.
func sameValue<Scalar: BinaryFloatingPoint>(_ a: Scalar, _ b: Scalar) -> Bool {
  (a.isNaN && b.isNaN) || (a == b && a.sign == b.sign)
}

/// `Tests/FlowTensorTests/Fixtures`, one level above this folder.
let fixturesDirectory = URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("Fixtures")

/// Decodes the JSON fixture `name`.
func loadFixture<Value: Decodable>(_ type: Value.Type, named name: String) throws -> Value {
  try JSONDecoder().decode(Value.self, from: Data(contentsOf: fixturesDirectory.appendingPathComponent(name)))
}

/// Records in the test log that an optional sub-check did not run
/// (swift-corelibs-xctest has no `XCTContext` activities).
func note(_ message: String) {
  print("note: \(message)")
}
