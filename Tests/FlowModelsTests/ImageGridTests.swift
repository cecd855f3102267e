import FlowModels
import FlowTensor
import XCTest
import _TestSupport

final class ImageGridTests: XCTestCase {
  /// Five 2×3 grayscale tiles, value 10k + 3y + x, padding 1: ⌈√5⌉ = 3
  /// columns, 2 rows, 3·(3 + 1) + 1 = 13 by 2·(2 + 1) + 1 = 7 pixels; tile
  /// k's corner is (1 + 4·(k mod 3), 1 + 3·⌊k/3⌋); the sixth slot is border.
  private func checkLayout<Scalar: TensorScalar>(_: Scalar.Type) {
    var values: [Scalar] = []
    for k in 0..<5 { for y in 0..<2 { for x in 0..<3 { values.append(Scalar(10 * k + 3 * y + x)) } } }
    let images = Tensor<Scalar>(shape: [5, 1, 2, 3], scalars: values)
    let grid = ImageGrid(images: images, padding: 1, range: .bytes, paddingValue: 200)
    XCTAssertEqual(grid.columns, 3)
    XCTAssertEqual(grid.rows, 2)
    XCTAssertEqual(grid.image.width, 13)
    XCTAssertEqual(grid.image.height, 7)
    XCTAssertEqual(grid.image.colorType, .grayscale)
    XCTAssertTrue(grid.origin(ofTile: 0) == (1, 1))
    XCTAssertTrue(grid.origin(ofTile: 2) == (9, 1))
    XCTAssertTrue(grid.origin(ofTile: 4) == (5, 4))
    var expected = [UInt8](repeating: 200, count: 13 * 7)
    for k in 0..<5 {
      let (left, top) = (1 + 4 * (k % 3), 1 + 3 * (k / 3))
      for y in 0..<2 { for x in 0..<3 { expected[(top + y) * 13 + left + x] = UInt8(10 * k + 3 * y + x) } }
    }
    XCTAssertEqual(grid.image.pixels, expected)
    // The first row and column are border, as is the unused sixth tile.
    XCTAssertEqual(Array(grid.image.pixels[0..<13]), Array(repeating: 200, count: 13))
    XCTAssertEqual(grid.image.pixels[4 * 13 + 9], 200)
  }

  func testLayoutAndPadding() {
    checkLayout(Float.self)
    checkLayout(Double.self)
  }

  private func checkConversion<Scalar: TensorScalar>(_: Scalar.Type) {
    // 0.25 · 255 = 63.75 → 64; 0.5 · 255 = 127.5 → 128; 0.002 · 255 = 0.51 → 1.
    let unit: [Scalar] = [-0.5, 0, 0.25, 0.5, 1, 1.5, .nan, 0.002, .infinity, -.infinity]
    let unitGrid = ImageGrid(
      images: Tensor(shape: [1, 1, 1, unit.count], scalars: unit), padding: 0, range: .unitInterval)
    XCTAssertEqual(unitGrid.image.pixels, [0, 0, 64, 128, 255, 255, 0, 1, 255, 0])
    let bytes: [Scalar] = [-3, 0, 12.4, 12.6, 254.5, 300, .nan, 255]
    let byteGrid = ImageGrid(
      images: Tensor(shape: [1, 1, 1, bytes.count], scalars: bytes), padding: 0, range: .bytes)
    XCTAssertEqual(byteGrid.image.pixels, [0, 0, 12, 13, 255, 255, 0, 255])
  }

  func testValueConversionClampsAndZeroesNaN() {
    checkConversion(Float.self)
    checkConversion(Double.self)
  }

  private func checkRGB<Scalar: TensorScalar>(_: Scalar.Type) throws {
    // Two 1×2 RGB images, channel planes [R, G, B] in the tensor, interleaved in the PNG.
    let values: [Scalar] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    let grid = ImageGrid(
      images: Tensor(shape: [2, 3, 1, 2], scalars: values), columns: 1, padding: 1, range: .bytes,
      paddingValue: 0)
    XCTAssertEqual(grid.image.colorType, .rgb)
    XCTAssertEqual(grid.image.width, 4)
    XCTAssertEqual(grid.image.height, 5)
    var expected = [UInt8](repeating: 0, count: 4 * 5 * 3)
    // Row 1: image 0 at columns 1, 2; row 3: image 1.
    expected.replaceSubrange((1 * 4 + 1) * 3..<(1 * 4 + 3) * 3, with: [1, 3, 5, 2, 4, 6])
    expected.replaceSubrange((3 * 4 + 1) * 3..<(3 * 4 + 3) * 3, with: [7, 9, 11, 8, 10, 12])
    XCTAssertEqual(grid.image.pixels, expected)
    let decoded = try PNGReferenceDecoding.decode(grid.image.data())
    XCTAssertEqual(decoded.pixels, expected)
    XCTAssertEqual(decoded.colorType, 2)
  }

  func testRGBTilesInterleaveChannelsAndDecode() throws {
    try checkRGB(Float.self)
    try checkRGB(Double.self)
  }

  func testSampleSizedGridDecodes() throws {
    var generator = SeededGenerator(seed: 42)
    let images = Tensor<Float>.randomUniform(shape: [10, 1, 28, 28], using: &generator)
    let grid = ImageGrid(images: images)
    XCTAssertEqual(grid.columns, 4)
    XCTAssertEqual(grid.rows, 3)
    XCTAssertEqual(grid.image.width, 4 * 30 + 2)
    XCTAssertEqual(grid.image.height, 3 * 30 + 2)
    let decoded = try PNGReferenceDecoding.decode(grid.image.data())
    XCTAssertEqual(decoded.pixels, grid.image.pixels)
    let (x, y) = grid.origin(ofTile: 9)
    XCTAssertEqual(x, 2 + 30)
    XCTAssertEqual(y, 2 + 60)
    let corner = Double(images[9, 0, 0, 0])
    XCTAssertEqual(Int(decoded.pixels[y * decoded.width + x]), Int((corner * 255).rounded()))
  }
}
