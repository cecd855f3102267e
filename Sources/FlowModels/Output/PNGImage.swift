import Foundation
import FlowTensor

/// An 8-bit image that encodes itself as a PNG file (W3C PNG specification,
/// 2nd edition): grayscale, RGB or RGBA, non-interlaced.
///
/// Pixels are row-major with interleaved channels: the byte of channel `c`
/// of the pixel in row `y`, column `x` is `pixels[(y * width + x) * channels + c]`.
public struct PNGImage: Equatable, Sendable {
  /// The PNG colour type (specification table 11.1), all at bit depth 8.
  public enum ColorType: UInt8, Sendable, CaseIterable {
    case grayscale = 0
    case rgb = 2
    case rgba = 6

    /// Bytes per pixel.
    public var channels: Int {
      switch self {
      case .grayscale: 1
      case .rgb: 3
      case .rgba: 4
      }
    }
  }

  /// How each scanline is filtered before compression (specification §9).
  public enum FilterStrategy: Sendable {
    /// Filter type 0 on every row.
    case none
    /// Per row, the filter whose output has the smallest sum of absolute
    /// values (bytes read as signed), libpng's default heuristic.
    case minimumSumOfAbsoluteDifferences
  }

  /// The 8-byte PNG signature (specification §5.2).
  public static let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]

  public let width: Int
  public let height: Int
  public let colorType: ColorType
  /// `height * width * colorType.channels` bytes, row-major, channels interleaved.
  public let pixels: [UInt8]

  /// An image from its pixel bytes.
  /// - Parameters:
  ///   - width: columns; precondition: 1 … 2³¹ − 1.
  ///   - height: rows; precondition: 1 … 2³¹ − 1.
  ///   - colorType: the channels per pixel.
  ///   - pixels: precondition: exactly `width * height * colorType.channels` bytes.
  public init(width: Int, height: Int, colorType: ColorType, pixels: [UInt8]) {
    let limit = Int(Int32.max)
    precondition(
      (1...limit).contains(width) && (1...limit).contains(height),
      "PNGImage: width \(width) and height \(height) must both be in 1...\(limit)")
    let (area, overflow) = width.multipliedReportingOverflow(by: height)
    precondition(!overflow, "PNGImage: \(width) × \(height) pixels overflow Int")
    let expected = area.multipliedReportingOverflow(by: colorType.channels)
    precondition(
      !expected.overflow && pixels.count == expected.partialValue,
      "PNGImage: \(width) × \(height) \(colorType) needs \(width) * \(height) * \(colorType.channels) bytes, got \(pixels.count)")
    self.width = width
    self.height = height
    self.colorType = colorType
    self.pixels = pixels
  }

  /// The complete PNG file: signature, IHDR, one IDAT, IEND.
  /// - Parameters:
  ///   - filter: how scanlines are filtered before deflate.
  ///   - compressionLevel: zlib level 0 … 9.
  /// - Returns: the file's bytes.
  /// - Complexity: O(width · height · channels).
  public func data(
    filter: FilterStrategy = .minimumSumOfAbsoluteDifferences, compressionLevel: Int = 6
  ) -> Data {
    var file = PNGImage.signature
    var header: [UInt8] = []
    header.appendBigEndian(UInt32(width))
    header.appendBigEndian(UInt32(height))
    // Bit depth 8, the colour type, compression 0 (deflate), filter method 0
    // (adaptive, five types), interlace 0 (none).
    header += [8, colorType.rawValue, 0, 0, 0]
    PNGImage.appendChunk(type: "IHDR", data: header, to: &file)
    let stream = Deflate.zlibCompress(filteredScanlines(filter), level: compressionLevel)
    PNGImage.appendChunk(type: "IDAT", data: stream, to: &file)
    PNGImage.appendChunk(type: "IEND", data: [], to: &file)
    return Data(file)
  }

  /// Writes the PNG file to `url` atomically: a temporary file in the same
  /// directory renamed over the target, so a reader never sees half a file.
  /// - Throws: the file system's error if the file cannot be written.
  public func write(
    to url: URL, filter: FilterStrategy = .minimumSumOfAbsoluteDifferences, compressionLevel: Int = 6
  ) throws {
    try data(filter: filter, compressionLevel: compressionLevel).write(to: url, options: .atomic)
  }

  /// Appends a chunk: length, type, data, and the CRC-32 of type and data
  /// (specification §5.3).
  static func appendChunk(type: String, data: [UInt8], to file: inout [UInt8]) {
    let typeBytes = Array(type.utf8)
    precondition(typeBytes.count == 4, "PNGImage: chunk type \(type) is not 4 bytes")
    file.appendBigEndian(UInt32(data.count))
    file += typeBytes
    file += data
    file.appendBigEndian(Deflate.crc32(data, initial: Deflate.crc32(typeBytes)))
  }

  /// The scanlines as IDAT compresses them: each row preceded by its filter
  /// type byte.
  func filteredScanlines(_ strategy: FilterStrategy) -> [UInt8] {
    let rowBytes = width * colorType.channels
    let bytesPerPixel = colorType.channels
    var output = [UInt8]()
    output.reserveCapacity(height * (rowBytes + 1))
    let zeroRow = [UInt8](repeating: 0, count: rowBytes)
    var candidate = [UInt8](repeating: 0, count: rowBytes)
    var best = [UInt8](repeating: 0, count: rowBytes)
    pixels.withUnsafeBufferPointer { all in
      for y in 0..<height {
        let row = UnsafeBufferPointer(rebasing: all[(y * rowBytes)..<((y + 1) * rowBytes)])
        zeroRow.withUnsafeBufferPointer { zeros in
          let above = y == 0 ? zeros : UnsafeBufferPointer(rebasing: all[((y - 1) * rowBytes)..<(y * rowBytes)])
          switch strategy {
          case .none:
            output.append(0)
            output += row
          case .minimumSumOfAbsoluteDifferences:
            var bestType: UInt8 = 0
            var bestCost = Int.max
            for type in PNGFilter.allCases {
              PNGFilter.apply(type, row: row, above: above, bytesPerPixel: bytesPerPixel, into: &candidate)
              let cost = PNGFilter.cost(candidate)
              if cost < bestCost {
                bestCost = cost
                bestType = type.rawValue
                swap(&best, &candidate)
              }
            }
            output.append(bestType)
            output += best
          }
        }
      }
    }
    return output
  }
}

/// The five scanline filters of PNG filter method 0 (specification §9.2).
enum PNGFilter: UInt8, CaseIterable {
  case none = 0, sub, up, average, paeth

  /// Filters `row` given the unfiltered row `above` (zeros for the first row).
  static func apply(
    _ filter: PNGFilter, row: UnsafeBufferPointer<UInt8>, above: UnsafeBufferPointer<UInt8>,
    bytesPerPixel: Int, into output: inout [UInt8]
  ) {
    for i in 0..<row.count {
      let x = row[i]
      let a = i >= bytesPerPixel ? row[i - bytesPerPixel] : 0
      let b = above[i]
      let c = i >= bytesPerPixel ? above[i - bytesPerPixel] : 0
      let predictor: UInt8
      switch filter {
      case .none: predictor = 0
      case .sub: predictor = a
      case .up: predictor = b
      case .average: predictor = UInt8((Int(a) + Int(b)) / 2)
      case .paeth: predictor = paethPredictor(a, b, c)
      }
      output[i] = x &- predictor
    }
  }

  /// The Paeth predictor (specification §9.4): whichever of left, above and
  /// upper-left is closest to left + above − upper-left, ties in that order.
  static func paethPredictor(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
    let p = Int(a) + Int(b) - Int(c)
    let pa = abs(p - Int(a))
    let pb = abs(p - Int(b))
    let pc = abs(p - Int(c))
    if pa <= pb && pa <= pc { return a }
    if pb <= pc { return b }
    return c
  }

  /// libpng's heuristic cost: the sum of the filtered bytes read as signed.
  static func cost(_ bytes: [UInt8]) -> Int {
    var total = 0
    for byte in bytes { total += abs(Int(Int8(bitPattern: byte))) }
    return total
  }
}

extension Array where Element == UInt8 {
  /// Appends `value` most significant byte first, as PNG stores integers.
  fileprivate mutating func appendBigEndian(_ value: UInt32) {
    append(UInt8(truncatingIfNeeded: value >> 24))
    append(UInt8(truncatingIfNeeded: value >> 16))
    append(UInt8(truncatingIfNeeded: value >> 8))
    append(UInt8(truncatingIfNeeded: value))
  }
}
