import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// Thousands of seeded corruptions of valid files: every read either
/// succeeds, with every tensor then readable, or throws a ``SafetensorsError``.
/// A crash fails the whole run.
final class SafetensorsFuzzTests: XCTestCase {
  private enum Mutation: CaseIterable {
    case flipBytes, truncate, rewriteHeaderLength, jsonCharacter, digit, insertOrDelete
  }

  func testCorruptedFilesNeverCrash() throws {
    let bases = [
      try Data(contentsOf: fixturesDirectory.appendingPathComponent("safetensors_python.safetensors")),
      Safetensors.encode(SafetensorsInteropTests.swiftFixtureTensors(), metadata: ["a": "b"]),
    ]
    var generator = SeededGenerator(seed: 2024)
    var successes = 0
    var errorKinds: [String: Int] = [:]
    let jsonCharacters = Array(#"{}[]",:-.0123456789eE tn\"#.utf8)

    for iteration in 0..<20000 {
      let base = bases[iteration % bases.count]
      var bytes = Array(base)
      let headerEnd = 8 + Int(bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
      let mutation = Mutation.allCases.randomElement(using: &generator)!
      switch mutation {
      case .flipBytes:
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
          // Mostly in the header, where the checks are.
          let range = Bool.random(using: &generator) ? 0..<headerEnd : 0..<bytes.count
          bytes[Int.random(in: range, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
        }
      case .truncate:
        bytes.removeLast(Int.random(in: 1...bytes.count, using: &generator))
      case .rewriteHeaderLength:
        let length: UInt64
        switch Int.random(in: 0..<3, using: &generator) {
        case 0: length = UInt64.random(in: .min ... .max, using: &generator)
        case 1: length = UInt64(max(0, headerEnd - 8 + Int.random(in: -16...16, using: &generator)))
        default: length = UInt64.random(in: 0...UInt64(bytes.count), using: &generator)
        }
        withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
      case .jsonCharacter:
        for _ in 0..<Int.random(in: 1...3, using: &generator) {
          bytes[Int.random(in: 8..<headerEnd, using: &generator)] = jsonCharacters.randomElement(using: &generator)!
        }
      case .digit:
        // Shapes and offsets: a digit for another.
        let digits = (8..<headerEnd).filter { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[$0]) }
        bytes[digits.randomElement(using: &generator)!] = UInt8.random(in: 0x30...0x39, using: &generator)
      case .insertOrDelete:
        let position = Int.random(in: 8..<headerEnd, using: &generator)
        if Bool.random(using: &generator) {
          bytes.remove(at: position)
        } else {
          bytes.insert(jsonCharacters.randomElement(using: &generator)!, at: position)
        }
      }

      do {
        let file = try SafetensorsFile(data: Data(bytes))
        successes += 1
        for info in file.tensors {
          XCTAssertEqual(info.byteRange.count, info.scalarCount * info.dataType.byteCount)
          XCTAssertEqual(try file.tensor(named: info.name, as: Float.self).shape, info.shape)
          XCTAssertEqual(try file.tensor(named: info.name, as: Double.self).scalarCount, info.scalarCount)
        }
        XCTAssertFalse(file.summary().isEmpty)
      } catch let error as SafetensorsError {
        let kind = Mirror(reflecting: error).children.first?.label ?? "\(error)"
        errorKinds[kind, default: 0] += 1
        XCTAssertFalse(error.description.isEmpty)
      } catch {
        XCTFail("iteration \(iteration) (\(mutation)): an error that is not a SafetensorsError: \(error)")
      }
    }
    // The corruptions reach many different checks, and some leave a valid file.
    XCTAssertGreaterThan(successes, 500)
    XCTAssertGreaterThanOrEqual(errorKinds.count, 12, "\(errorKinds)")
    print("fuzz: \(successes) valid, errors \(errorKinds.sorted { $0.key < $1.key })")
  }
}
