import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// The listing `flows inspect` prints.
final class SafetensorsSummaryTests: XCTestCase {
  func testSummaryListsTensorsInDataOrderThenMetadata() throws {
    let data = Safetensors.encode(
      [
        "weight": .float(Tensor<Float>([[0, 1, 2], [3, 4, 5]])),
        "bias": .double(Tensor<Double>([1, 0.5])),
        "empty": .float(Tensor<Float>.zeros(shape: [0])),
      ],
      metadata: ["name": "test", "epoch": "3"])
    let expected = """
      3 tensors, 40 bytes of data

      name    dtype  shape   sum   mean
      bias    F64    [2]     1.5   0.75
      empty   F32    [0]     0.0   nan
      weight  F32    [2, 3]  15.0  2.5

      metadata:
        epoch: 3
        name: test
      """
    XCTAssertEqual(try SafetensorsFile(data: data).summary(), expected)
  }

  func testSummaryOfAnEmptyFile() throws {
    let file = try SafetensorsFile(data: Safetensors.encode([String: Tensor<Double>]()))
    XCTAssertEqual(file.summary(), "0 tensors, 0 bytes of data\n\nmetadata: none")
  }

  /// Sums and means in Double of 16-bit tensors, from the Python fixture:
  /// f16_scalar is −7.25; bf16_column is bf16(0.1) + bf16(−0) + bf16(−3e-39).
  func testStatisticsOfHalfPrecisionTensors() throws {
    let file = try SafetensorsFile(contentsOf: fixturesDirectory.appendingPathComponent("safetensors_python.safetensors"))
    let scalar = try file.statistics(of: "f16_scalar")
    XCTAssertEqual(scalar.sum, -7.25)
    XCTAssertEqual(scalar.mean, -7.25)
    let column = try file.statistics(of: "bf16_column")
    let values = try file.tensor(named: "bf16_column", as: Double.self).scalars
    XCTAssertEqual(values[0], 0x1.9ap-4)  // 0.1 rounded to 8 significant bits
    XCTAssertEqual(column.sum, values.reduce(0, +))
    XCTAssertEqual(column.mean, values.reduce(0, +) / 3)
    XCTAssertTrue(try file.statistics(of: "f16_empty").mean.isNaN)
    XCTAssertEqual(try file.statistics(of: "f16_empty").sum, 0)
    XCTAssertTrue(try file.statistics(of: "f16_values").sum.isNaN)  // holds NaN and ±inf
    XCTAssertTrue(file.summary().contains("bf16_values  BF16   [2, 4]     nan"), file.summary())
    XCTAssertFalse(file.summary().contains("-nan"), file.summary())
  }
}
