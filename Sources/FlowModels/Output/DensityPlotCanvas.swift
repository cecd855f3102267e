/// An RGB raster to draw plots into, then encoded by ``PNGImage``: filled
/// rectangles and thick line segments, no text (figures are captioned where
/// they are shown).
struct DensityPlotCanvas {
  /// An 8-bit RGB colour.
  struct Color: Equatable {
    var red: UInt8, green: UInt8, blue: UInt8

    static let white = Color(red: 255, green: 255, blue: 255)
    static let black = Color(red: 0, green: 0, blue: 0)
    static let lightGray = Color(red: 225, green: 225, blue: 225)
    static let gray = Color(red: 150, green: 150, blue: 150)
  }

  let width: Int
  let height: Int
  private(set) var pixels: [UInt8]

  init(width: Int, height: Int, background: Color = .white) {
    precondition(width >= 1 && height >= 1, "DensityPlotCanvas: size \(width)×\(height) must be positive")
    self.width = width
    self.height = height
    pixels = [UInt8](repeating: 0, count: width * height * 3)
    fill(x: 0, y: 0, width: width, height: height, color: background)
  }

  /// The colour at column `x`, row `y` (row 0 at the top).
  func color(x: Int, y: Int) -> Color {
    let offset = (y * width + x) * 3
    return Color(red: pixels[offset], green: pixels[offset + 1], blue: pixels[offset + 2])
  }

  /// Sets one pixel; points outside the canvas are ignored.
  mutating func set(x: Int, y: Int, color: Color) {
    guard x >= 0, x < width, y >= 0, y < height else { return }
    let offset = (y * width + x) * 3
    pixels[offset] = color.red
    pixels[offset + 1] = color.green
    pixels[offset + 2] = color.blue
  }

  /// Fills a rectangle, clipped to the canvas.
  mutating func fill(x: Int, y: Int, width rectangleWidth: Int, height rectangleHeight: Int, color: Color) {
    for row in max(0, y)..<min(height, y + rectangleHeight) {
      for column in max(0, x)..<min(width, x + rectangleWidth) {
        set(x: column, y: row, color: color)
      }
    }
  }

  /// The outline of a rectangle, one pixel wide.
  mutating func frame(x: Int, y: Int, width rectangleWidth: Int, height rectangleHeight: Int, color: Color) {
    fill(x: x, y: y, width: rectangleWidth, height: 1, color: color)
    fill(x: x, y: y + rectangleHeight - 1, width: rectangleWidth, height: 1, color: color)
    fill(x: x, y: y, width: 1, height: rectangleHeight, color: color)
    fill(x: x + rectangleWidth - 1, y: y, width: 1, height: rectangleHeight, color: color)
  }

  /// A segment from (x0, y0) to (x1, y1) in pixel coordinates, `thickness`
  /// pixels wide: square stamps at unit steps along it (a DDA), which
  /// leaves no gaps at any slope.
  mutating func line(from start: (x: Double, y: Double), to end: (x: Double, y: Double), thickness: Int, color: Color) {
    let steps = max(1, Int((max(abs(end.x - start.x), abs(end.y - start.y))).rounded(.up)))
    let low = -(thickness - 1) / 2
    let high = thickness / 2
    for index in 0...steps {
      let t = Double(index) / Double(steps)
      let x = Int((start.x + t * (end.x - start.x)).rounded())
      let y = Int((start.y + t * (end.y - start.y)).rounded())
      for dy in low...high {
        for dx in low...high { set(x: x + dx, y: y + dy, color: color) }
      }
    }
  }

  /// The canvas as an RGB PNG image.
  var image: PNGImage { PNGImage(width: width, height: height, colorType: .rgb, pixels: pixels) }
}
