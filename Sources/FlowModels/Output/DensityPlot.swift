import Foundation

/// PNG pictures of true against learned densities on a manifold, from
/// ``ManifoldDensityFigure``s: curves along the circle, equirectangular
/// heat maps of the sphere. The images carry no text; the layout is fixed
/// so that a caption can describe it.
public enum DensityPlot {
  /// The colours of successive learned curves (seeds): the first five of
  /// matplotlib's "tab10" cycle.
  static let curveColors: [DensityPlotCanvas.Color] = [
    .init(red: 31, green: 119, blue: 180), .init(red: 255, green: 127, blue: 14),
    .init(red: 44, green: 160, blue: 44), .init(red: 214, green: 39, blue: 40),
    .init(red: 148, green: 103, blue: 189),
  ]

  /// Anchors of the viridis colour map (van der Walt & Smith, matplotlib
  /// 2.0) at 0, ¼, ½, ¾, 1, interpolated linearly between.
  static let viridis: [(Double, Double, Double)] = [
    (68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37),
  ]

  /// Pixels of blank margin around and between panels.
  static let margin = 8

  /// One panel per group: a curve picture when the figures' charts are
  /// curves, a row of heat maps when they are surfaces.
  /// - Parameters:
  ///   - groups: non-empty groups of figures on the same chart (e.g. one
  ///     group per estimator, one figure per seed).
  /// - Returns: ``curves(_:panelWidth:panelHeight:)`` or ``heatMaps(_:cellSize:)``.
  public static func image(of groups: [[ManifoldDensityFigure]]) -> PNGImage {
    let first = checkedFirst(groups, operation: "DensityPlot.image")
    return first.chart.gridShape.count == 1 ? curves(groups) : heatMaps(groups)
  }

  /// The density figure of a comparison: one group per estimator, in the
  /// order of the runs, one figure per seed.
  public static func image(of comparison: RectangularComparisonResult) -> PNGImage {
    var estimators: [RectangularFlowEstimator] = []
    for run in comparison.runs where !estimators.contains(run.settings.objective.estimator) {
      estimators.append(run.settings.objective.estimator)
    }
    return image(of: estimators.map { comparison.runs(of: $0).map(\.figure) })
  }

  /// Panels side by side, one per group, over the angle θ ∈ [0, 2π)
  /// (horizontal) and the density (vertical, from 0 at the bottom): the
  /// true density as a thick black curve, each figure's learned density as a
  /// coloured curve (blue, orange, green, red, purple for figures 1–5, then
  /// again), light vertical lines at θ = π/2, π, 3π/2. Every panel has the
  /// same vertical scale: 1.1 × the largest density plotted, learned values
  /// above 3 × the true maximum clipped.
  /// - Parameters:
  ///   - groups: non-empty groups of figures on the same one-dimensional chart.
  ///   - panelWidth, panelHeight: pixels of each panel's plotting area, ≥ 16.
  public static func curves(
    _ groups: [[ManifoldDensityFigure]], panelWidth: Int = 360, panelHeight: Int = 240
  ) -> PNGImage {
    let first = checkedFirst(groups, operation: "DensityPlot.curves")
    precondition(first.chart.gridShape.count == 1, "DensityPlot.curves: the chart \(first.chart.gridShape) is not a curve")
    precondition(panelWidth >= 16 && panelHeight >= 16, "DensityPlot.curves: panel \(panelWidth)×\(panelHeight) is too small")
    let truth = first.trueLogDensity.map { Double.exp($0) }
    let trueMaximum = truth.max() ?? 1
    let clip = 3 * trueMaximum
    var largest = trueMaximum
    for figure in groups.joined() {
      largest = max(largest, figure.learnedLogDensity.map { min(clip, Double.exp($0)) }.filter(\.isFinite).max() ?? 0)
    }
    let top = 1.1 * largest
    var canvas = DensityPlotCanvas(
      width: groups.count * (panelWidth + margin) + margin, height: panelHeight + 2 * margin)
    for (panel, group) in groups.enumerated() {
      let left = margin + panel * (panelWidth + margin)
      let angles = group.first?.chart.coordinates[0] ?? first.chart.coordinates[0]
      func x(_ angle: Double) -> Double { Double(left) + angle / (2 * Double.pi) * Double(panelWidth - 1) }
      func y(_ density: Double) -> Double {
        Double(margin) + (1 - min(density, top) / top) * Double(panelHeight - 1)
      }
      for quarter in 1...3 {
        canvas.line(
          from: (x(Double(quarter) * Double.pi / 2), Double(margin)),
          to: (x(Double(quarter) * Double.pi / 2), Double(margin + panelHeight - 1)), thickness: 1,
          color: .lightGray)
      }
      drawCurve(angles: angles, values: truth, thickness: 3, color: .black, into: &canvas, x: x, y: y)
      for (index, figure) in group.enumerated() {
        precondition(
          figure.chart == first.chart, "DensityPlot.curves: figure \(index) of panel \(panel) is on another chart")
        let learned = figure.learnedLogDensity.map { value -> Double in
          let density = Double.exp(value)
          return density.isFinite ? min(clip, density) : clip
        }
        drawCurve(
          angles: angles, values: learned, thickness: 2, color: curveColors[index % curveColors.count],
          into: &canvas, x: x, y: y)
      }
      canvas.frame(x: left - 1, y: margin - 1, width: panelWidth + 2, height: panelHeight + 2, color: .gray)
    }
    return canvas.image
  }

  /// Equirectangular heat maps, one row per group: first the true density,
  /// then each figure's learned density, polar angle 0 (north pole) at the
  /// top, azimuth 0 at the left; every map on one viridis scale from 0 to
  /// the largest true density (larger learned values saturate).
  /// - Parameters:
  ///   - groups: non-empty groups of figures on the same two-dimensional chart.
  ///   - cellSize: pixels per grid cell, ≥ 1.
  public static func heatMaps(_ groups: [[ManifoldDensityFigure]], cellSize: Int = 4) -> PNGImage {
    let first = checkedFirst(groups, operation: "DensityPlot.heatMaps")
    precondition(first.chart.gridShape.count == 2, "DensityPlot.heatMaps: the chart \(first.chart.gridShape) is not a surface")
    precondition(cellSize >= 1, "DensityPlot.heatMaps: cell size \(cellSize) must be at least 1")
    let rows = first.chart.gridShape[0]
    let columns = first.chart.gridShape[1]
    let mapWidth = columns * cellSize
    let mapHeight = rows * cellSize
    let truth = first.trueLogDensity.map { Double.exp($0) }
    let scale = truth.max() ?? 1
    let mapsPerRow = 1 + (groups.map(\.count).max() ?? 0)
    var canvas = DensityPlotCanvas(
      width: mapsPerRow * (mapWidth + margin) + margin, height: groups.count * (mapHeight + margin) + margin)
    func drawMap(_ densities: [Double], column: Int, row: Int) {
      let left = margin + column * (mapWidth + margin)
      let top = margin + row * (mapHeight + margin)
      for gridRow in 0..<rows {
        for gridColumn in 0..<columns {
          canvas.fill(
            x: left + gridColumn * cellSize, y: top + gridRow * cellSize, width: cellSize, height: cellSize,
            color: colorMap(densities[gridRow * columns + gridColumn] / scale))
        }
      }
    }
    for (row, group) in groups.enumerated() {
      drawMap(truth, column: 0, row: row)
      for (index, figure) in group.enumerated() {
        precondition(figure.chart == first.chart, "DensityPlot.heatMaps: figure \(index) of row \(row) is on another chart")
        drawMap(figure.learnedLogDensity.map { Double.exp($0) }, column: index + 1, row: row)
      }
    }
    return canvas.image
  }

  /// The viridis colour of `fraction` ∈ [0, 1] (clamped; NaN as 1).
  static func colorMap(_ fraction: Double) -> DensityPlotCanvas.Color {
    let clamped = fraction.isNaN ? 1 : min(1, max(0, fraction))
    let position = clamped * Double(viridis.count - 1)
    let lower = min(viridis.count - 2, Int(position))
    let t = position - Double(lower)
    let (a, b) = (viridis[lower], viridis[lower + 1])
    func channel(_ x: Double, _ y: Double) -> UInt8 { UInt8((x + t * (y - x)).rounded()) }
    return DensityPlotCanvas.Color(red: channel(a.0, b.0), green: channel(a.1, b.1), blue: channel(a.2, b.2))
  }

  private static func drawCurve(
    angles: [Double], values: [Double], thickness: Int, color: DensityPlotCanvas.Color,
    into canvas: inout DensityPlotCanvas, x: (Double) -> Double, y: (Double) -> Double
  ) {
    for index in 1..<max(1, angles.count) {
      canvas.line(
        from: (x(angles[index - 1]), y(values[index - 1])), to: (x(angles[index]), y(values[index])),
        thickness: thickness, color: color)
    }
  }

  private static func checkedFirst(_ groups: [[ManifoldDensityFigure]], operation: String) -> ManifoldDensityFigure {
    guard let first = groups.first(where: { !$0.isEmpty })?.first else {
      preconditionFailure("\(operation): no figures")
    }
    return first
  }
}
