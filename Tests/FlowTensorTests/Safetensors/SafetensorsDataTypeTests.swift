@testable import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// The 16-bit widenings, against hand-derived values and, for binary16,
/// against Swift's own `Float16` over all 65 536 bit patterns.
final class SafetensorsDataTypeTests: XCTestCase {
  func testFloat16HandDerivedValues() {
    let cases: [(UInt16, Float)] = [
      (0x0000, 0), (0x3C00, 1), (0xC000, -2), (0x3555, 0x1.554p-2),
      (0x0001, 0x1p-24),  // smallest subnormal
      (0x0002, 0x1p-23), (0x0003, 0x1.8p-23),
      (0x0200, 0x1p-15),  // the top fraction bit alone
      (0x03FF, 0x1.ff8p-15),  // largest subnormal, 1023·2⁻²⁴
      (0x0400, 0x1p-14),  // smallest normal
      (0x7BFF, 65504),  // largest finite
      (0x7C00, .infinity), (0xFC00, -.infinity), (0x8001, -0x1p-24),
    ]
    for (bits, expected) in cases {
      XCTAssertEqual(HalfPrecision.float(fromFloat16: bits), expected, "0x\(String(bits, radix: 16))")
    }
    let negativeZero = HalfPrecision.float(fromFloat16: 0x8000)
    XCTAssertTrue(negativeZero == 0 && negativeZero.sign == .minus)
    // NaNs stay NaN with their payload moved up and their sign kept.
    XCTAssertEqual(HalfPrecision.float(fromFloat16: 0x7E00).bitPattern, 0x7FC0_0000)
    XCTAssertEqual(HalfPrecision.float(fromFloat16: 0x7C01).bitPattern, 0x7F80_2000)
    XCTAssertEqual(HalfPrecision.float(fromFloat16: 0xFE00).bitPattern, 0xFFC0_0000)
  }

  func testBFloat16HandDerivedValues() {
    let cases: [(UInt16, Float)] = [
      (0x0000, 0), (0x3F80, 1), (0xBFC0, -1.5), (0x4049, 3.140625),
      (0x0001, 0x1p-133),  // smallest subnormal
      (0x007F, 0x1.fcp-127),  // largest subnormal
      (0x0080, 0x1p-126),  // smallest normal
      (0x7F7F, 0x1.fep127),  // largest finite
      (0x7F80, .infinity), (0xFF80, -.infinity),
    ]
    for (bits, expected) in cases {
      XCTAssertEqual(HalfPrecision.float(fromBFloat16: bits), expected, "0x\(String(bits, radix: 16))")
    }
    XCTAssertEqual(HalfPrecision.float(fromBFloat16: 0x8000).sign, .minus)
    XCTAssertEqual(HalfPrecision.float(fromBFloat16: 0x7FC1).bitPattern, 0x7FC1_0000)
  }

  #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    /// Every binary16 pattern, read from a file as Float and as Double,
    /// equals Swift's `Float16` widened (NaN for NaN, with the same sign).
    func testEveryFloat16PatternThroughAFile() throws {
      let bits = (0...UInt16.max).map { $0 }
      let bytes = bits.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
      let header = #"{"all":{"dtype":"F16","shape":[256,256],"data_offsets":[0,131072]}}"#
      let file = try SafetensorsFile(data: safetensorsFile(header: header, data: bytes))
      let asFloat = try file.tensor(named: "all", as: Float.self).scalars
      let asDouble = try file.tensor(named: "all", as: Double.self).scalars
      var mismatches = 0
      for (index, pattern) in bits.enumerated() {
        let reference = Float16(bitPattern: pattern)
        let matches = sameValue(asFloat[index], Float(reference)) && sameValue(asDouble[index], Double(reference))
          && asFloat[index].sign == Float(reference).sign
        if !matches {
          mismatches += 1
          if mismatches < 5 { XCTFail("0x\(String(pattern, radix: 16)): \(asFloat[index]), \(asDouble[index]) vs \(reference)") }
        }
      }
      XCTAssertEqual(mismatches, 0)
    }
  #endif

  /// Every bfloat16 pattern read from a file equals the binary32 whose upper
  /// half it is (the definition of bfloat16), as Float and as Double.
  func testEveryBFloat16PatternThroughAFile() throws {
    let bits = (0...UInt16.max).map { $0 }
    let bytes = bits.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    let header = #"{"all":{"dtype":"BF16","shape":[65536],"data_offsets":[0,131072]}}"#
    let file = try SafetensorsFile(data: safetensorsFile(header: header, data: bytes))
    let asFloat = try file.tensor(named: "all", as: Float.self).scalars
    let asDouble = try file.tensor(named: "all", as: Double.self).scalars
    for (index, pattern) in bits.enumerated() {
      let reference = Float(bitPattern: UInt32(pattern) << 16)
      guard sameValue(asFloat[index], reference), sameValue(asDouble[index], Double(reference)) else {
        return XCTFail("0x\(String(pattern, radix: 16)): \(asFloat[index]), \(asDouble[index]) vs \(reference)")
      }
    }
  }

  func testByteCounts() {
    XCTAssertEqual(SafetensorsDataType.allCases.map(\.byteCount), [2, 2, 4, 8])
    XCTAssertEqual(SafetensorsDataType.allCases.map(\.rawValue), ["F16", "BF16", "F32", "F64"])
  }
}
