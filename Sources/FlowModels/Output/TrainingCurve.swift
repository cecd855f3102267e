import Foundation

/// Named series of (step, value) points — "train bits/dim", "test bits/dim" —
/// drawn as an SVG line chart with axes, ticks and a legend.
///
/// Non-finite points are kept as recorded but not drawn: they break the
/// line, so a diverged evaluation shows as a gap rather than a spike.
public struct TrainingCurve: Equatable, Sendable {
  /// One recorded value.
  public struct Point: Equatable, Sendable {
    public var step: Double
    public var value: Double

    public init(step: Double, value: Double) {
      self.step = step
      self.value = value
    }
  }

  /// A named line.
  public struct Series: Equatable, Sendable {
    public var name: String
    public var points: [Point]

    public init(name: String, points: [Point] = []) {
      self.name = name
      self.points = points
    }
  }

  /// The heading above the chart.
  public var title: String
  /// The label under the horizontal axis.
  public var horizontalLabel: String
  /// The label beside the vertical axis.
  public var verticalLabel: String
  /// The lines, drawn and listed in the legend in this order.
  public var series: [Series]

  public init(
    title: String = "Training", horizontalLabel: String = "step", verticalLabel: String = "bits/dim",
    series: [Series] = []
  ) {
    self.title = title
    self.horizontalLabel = horizontalLabel
    self.verticalLabel = verticalLabel
    self.series = series
  }

  /// Records `value` at `step` in the series called `name`, adding the
  /// series after the existing ones on first use.
  public mutating func append(step: Double, value: Double, to name: String) {
    if let index = series.firstIndex(where: { $0.name == name }) {
      series[index].points.append(Point(step: step, value: value))
    } else {
      series.append(Series(name: name, points: [Point(step: step, value: value)]))
    }
  }

  /// Writes ``svg(width:height:)`` to `url` atomically (temporary file, then rename).
  /// - Throws: the file system's error if the file cannot be written.
  public func write(to url: URL, width: Int = 720, height: Int = 432) throws {
    try Data(svg(width: width, height: height).utf8).write(to: url, options: .atomic)
  }
}
