import Foundation

extension TrainingCurve {
  /// Line colours, one per series in order (cycled), distinguishable in
  /// colour-blind palettes (Okabe and Ito, "Color Universal Design", 2008).
  static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]

  /// The chart as a standalone SVG document: title, axes with labelled
  /// ticks and grid lines, one polyline per run of finite points (a lone
  /// point is a dot), and a legend.
  /// - Parameters:
  ///   - width: pixels; precondition: ≥ 200.
  ///   - height: pixels; precondition: ≥ 150.
  /// - Returns: UTF-8 SVG 1.1 text.
  /// - Complexity: O(total points).
  public func svg(width: Int = 720, height: Int = 432) -> String {
    precondition(
      width >= 200 && height >= 150, "TrainingCurve.svg: \(width) × \(height) is smaller than 200 × 150")
    let finite = series.flatMap(\.points).filter { $0.step.isFinite && $0.value.isFinite }
    let horizontal = ChartAxis(covering: finite.map(\.step))
    let vertical = ChartAxis(covering: finite.map(\.value))
    let (left, right, top, bottom) = (72.0, Double(width) - 24, 40.0, Double(height) - 52)
    func x(_ step: Double) -> Double { left + horizontal.fraction(step) * (right - left) }
    func y(_ value: Double) -> Double { bottom - vertical.fraction(value) * (bottom - top) }

    var svg = """
      <?xml version="1.0" encoding="UTF-8"?>
      <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(width)" height="\(height)" \
      viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="12">
      <rect width="\(width)" height="\(height)" fill="white"/>
      <text class="title" x="\(format(Double(width) / 2))" y="24" text-anchor="middle" \
      font-size="15">\(escaped(title))</text>

      """
    svg += "<g class=\"grid\" stroke=\"#e0e0e0\" stroke-width=\"1\">\n"
    for tick in horizontal.ticks {
      svg += "<line x1=\"\(format(x(tick)))\" y1=\"\(format(top))\" x2=\"\(format(x(tick)))\" y2=\"\(format(bottom))\"/>\n"
    }
    for tick in vertical.ticks {
      svg += "<line x1=\"\(format(left))\" y1=\"\(format(y(tick)))\" x2=\"\(format(right))\" y2=\"\(format(y(tick)))\"/>\n"
    }
    svg += "</g>\n<g class=\"axes\" stroke=\"black\" stroke-width=\"1\">\n"
    svg += "<line x1=\"\(format(left))\" y1=\"\(format(bottom))\" x2=\"\(format(right))\" y2=\"\(format(bottom))\"/>\n"
    svg += "<line x1=\"\(format(left))\" y1=\"\(format(top))\" x2=\"\(format(left))\" y2=\"\(format(bottom))\"/>\n"
    for tick in horizontal.ticks {
      svg += "<line x1=\"\(format(x(tick)))\" y1=\"\(format(bottom))\" x2=\"\(format(x(tick)))\" y2=\"\(format(bottom + 5))\"/>\n"
    }
    for tick in vertical.ticks {
      svg += "<line x1=\"\(format(left - 5))\" y1=\"\(format(y(tick)))\" x2=\"\(format(left))\" y2=\"\(format(y(tick)))\"/>\n"
    }
    svg += "</g>\n<g class=\"tick-labels\" fill=\"black\">\n"
    for tick in horizontal.ticks {
      svg += "<text x=\"\(format(x(tick)))\" y=\"\(format(bottom + 19))\" text-anchor=\"middle\">\(horizontal.label(tick))</text>\n"
    }
    for tick in vertical.ticks {
      svg += "<text x=\"\(format(left - 8))\" y=\"\(format(y(tick) + 4))\" text-anchor=\"end\">\(vertical.label(tick))</text>\n"
    }
    svg += "</g>\n"
    svg += "<text class=\"axis-label\" x=\"\(format((left + right) / 2))\" y=\"\(format(Double(height) - 10))\" text-anchor=\"middle\">\(escaped(horizontalLabel))</text>\n"
    let middle = format((top + bottom) / 2)
    svg += "<text class=\"axis-label\" x=\"16\" y=\"\(middle)\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(middle))\">\(escaped(verticalLabel))</text>\n"
    if finite.isEmpty {
      svg += "<text class=\"no-data\" x=\"\(format((left + right) / 2))\" y=\"\(middle)\" text-anchor=\"middle\" fill=\"#808080\">no data</text>\n"
    }

    for (index, line) in series.enumerated() {
      let color = TrainingCurve.palette[index % TrainingCurve.palette.count]
      svg += "<g class=\"series\" stroke=\"\(color)\" fill=\"\(color)\">\n"
      for run in TrainingCurve.finiteRuns(line.points) {
        if run.count == 1 {
          svg += "<circle cx=\"\(format(x(run[0].step)))\" cy=\"\(format(y(run[0].value)))\" r=\"3\"/>\n"
        } else {
          let points = run.map { "\(format(x($0.step))),\(format(y($0.value)))" }.joined(separator: " ")
          svg += "<polyline fill=\"none\" stroke-width=\"2\" points=\"\(points)\"/>\n"
        }
      }
      svg += "</g>\n"
    }

    svg += "<g class=\"legend\">\n"
    if !series.isEmpty {
      // A white backing keeps the names readable where a line passes under them.
      let legendHeight = format(Double(series.count) * 18 + 8)
      svg += "<rect x=\"\(format(right - 188))\" y=\"\(format(top + 1))\" width=\"186\" height=\"\(legendHeight)\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#c0c0c0\"/>\n"
    }
    for (index, line) in series.enumerated() {
      let color = TrainingCurve.palette[index % TrainingCurve.palette.count]
      let rowY = top + 14 + Double(index) * 18
      let legendLeft = right - 180
      svg += "<line x1=\"\(format(legendLeft))\" y1=\"\(format(rowY))\" x2=\"\(format(legendLeft + 24))\" y2=\"\(format(rowY))\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
      svg += "<text x=\"\(format(legendLeft + 30))\" y=\"\(format(rowY + 4))\">\(escaped(line.name))</text>\n"
    }
    svg += "</g>\n</svg>\n"
    return svg
  }

  /// The maximal runs of consecutive points whose step and value are finite.
  static func finiteRuns(_ points: [Point]) -> [[Point]] {
    var runs: [[Point]] = []
    var current: [Point] = []
    for point in points {
      if point.step.isFinite && point.value.isFinite {
        current.append(point)
      } else if !current.isEmpty {
        runs.append(current)
        current = []
      }
    }
    if !current.isEmpty { runs.append(current) }
    return runs
  }
}

/// A coordinate with two decimals: exact enough for a screen, short in the file.
private func format(_ value: Double) -> String { String(format: "%.2f", value) }

/// `text` with the five XML special characters replaced by entities.
private func escaped(_ text: String) -> String {
  var result = ""
  for character in text {
    switch character {
    case "&": result += "&amp;"
    case "<": result += "&lt;"
    case ">": result += "&gt;"
    case "\"": result += "&quot;"
    case "'": result += "&apos;"
    default: result.append(character)
    }
  }
  return result
}
