import FlowTensor

/// A batch of images tiled into one picture, row by row, with a border of
/// `padding` pixels around and between the tiles (as torchvision's
/// `make_grid`), ready to save as a PNG: the sample grids of `flows sample`.
public struct ImageGrid: Equatable, Sendable {
  /// How tensor values map to pixel bytes.
  public enum PixelRange: Sendable {
    /// Values in [0, 1]: pixel = round(255 · clamp(value)).
    case unitInterval
    /// Values already in 0 … 255: pixel = round(clamp(value)).
    case bytes
  }

  /// Tiles per row.
  public let columns: Int
  /// Rows of tiles.
  public let rows: Int
  /// Pixels of border around and between tiles.
  public let padding: Int
  /// Height and width of one tile.
  public let tileHeight: Int, tileWidth: Int
  /// The tiled picture: grayscale for one channel, RGB for three.
  public let image: PNGImage

  /// Tiles `images` into one picture.
  /// - Parameters:
  ///   - images: `[count, channels, height, width]`, channels 1 or 3; count,
  ///     height and width ≥ 1 (preconditions). Values outside the range are
  ///     clamped; NaN becomes 0.
  ///   - columns: tiles per row; `nil` means ⌈√count⌉. Precondition: ≥ 1.
  ///   - padding: border in pixels; precondition: ≥ 0.
  ///   - range: how values map to bytes.
  ///   - paddingValue: the byte of the border and of empty tiles in the last row.
  /// - Complexity: O(count · channels · height · width).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public init<Scalar: TensorScalar>(
    images: Tensor<Scalar>, columns: Int? = nil, padding: Int = 2, range: PixelRange = .unitInterval,
    paddingValue: UInt8 = 255
  ) {
    let shape = images.shape
    precondition(
      shape.count == 4 && (shape[1] == 1 || shape[1] == 3),
      "ImageGrid: images \(shape) must be [count, channels (1 or 3), height, width]")
    let (count, channels, height, width) = (shape[0], shape[1], shape[2], shape[3])
    precondition(count >= 1 && height >= 1 && width >= 1, "ImageGrid: images \(shape) has no pixels")
    precondition(padding >= 0, "ImageGrid: padding \(padding) is negative")
    let columns = columns ?? ImageGrid.defaultColumns(count: count)
    precondition(columns >= 1, "ImageGrid: columns \(columns) must be at least 1")
    let rows = (count + columns - 1) / columns
    let gridWidth = columns * (width + padding) + padding
    let gridHeight = rows * (height + padding) + padding
    var pixels = [UInt8](repeating: paddingValue, count: gridWidth * gridHeight * channels)
    let scale: Scalar = range == .unitInterval ? 255 : 1
    images.withUnsafeBufferPointer { values in
      for index in 0..<count {
        let left = padding + (index % columns) * (width + padding)
        let top = padding + (index / columns) * (height + padding)
        for channel in 0..<channels {
          let plane = (index * channels + channel) * height * width
          for y in 0..<height {
            for x in 0..<width {
              let destination = ((top + y) * gridWidth + left + x) * channels + channel
              pixels[destination] = ImageGrid.byte(values[plane + y * width + x] * scale)
            }
          }
        }
      }
    }
    self.columns = columns
    self.rows = rows
    self.padding = padding
    self.tileHeight = height
    self.tileWidth = width
    self.image = PNGImage(
      width: gridWidth, height: gridHeight, colorType: channels == 1 ? .grayscale : .rgb, pixels: pixels)
  }

  /// The column and row (in pixels) of the top-left corner of tile `index`.
  public func origin(ofTile index: Int) -> (x: Int, y: Int) {
    (padding + (index % columns) * (tileWidth + padding), padding + (index / columns) * (tileHeight + padding))
  }

  /// ⌈√count⌉ columns: a square grid, or one row short of square.
  static func defaultColumns(count: Int) -> Int {
    var columns = 1
    while columns * columns < count { columns += 1 }
    return columns
  }

  /// A value in 0 … 255 (clamped, NaN → 0) rounded to the nearest byte.
  @inline(__always)
  static func byte<Scalar: TensorScalar>(_ value: Scalar) -> UInt8 {
    guard value > 0 else { return 0 }  // also NaN
    guard value < 255 else { return 255 }
    return UInt8((value + Scalar(0.5)).rounded(.down))
  }
}
