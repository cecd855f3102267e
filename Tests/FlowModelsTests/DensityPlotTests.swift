import FlowTensor
import XCTest
import _TestSupport

@testable import FlowModels

final class DensityPlotTests: XCTestCase {
  private func rgb(_ image: PNGImage, x: Int, y: Int) -> [UInt8] {
    let offset = (y * image.width + x) * 3
    return Array(image.pixels[offset..<(offset + 3)])
  }

  private func circleFigure(learnedShift: Double) -> ManifoldDensityFigure {
    let circle = VonMisesCircle()
    let chart = circle.chart(resolution: 64)
    let truth = chart.points.map { circle.logDensity(at: $0) }
    return ManifoldDensityFigure(chart: chart, trueLogDensity: truth, learnedLogDensity: truth.map { $0 + learnedShift })
  }

  /// The viridis map at its anchors and half way between two of them; out
  /// of range and NaN clamp.
  func testColorMapInterpolatesTheViridisAnchors() {
    XCTAssertEqual(DensityPlot.colorMap(0), .init(red: 68, green: 1, blue: 84))
    XCTAssertEqual(DensityPlot.colorMap(0.5), .init(red: 33, green: 145, blue: 140))
    XCTAssertEqual(DensityPlot.colorMap(1), .init(red: 253, green: 231, blue: 37))
    // Half way between the anchors at 0 and ¼: (68+59)/2 = 63.5 → 64, (1+82)/2 = 41.5 → 42, (84+139)/2 = 111.5 → 112.
    XCTAssertEqual(DensityPlot.colorMap(0.125), .init(red: 64, green: 42, blue: 112))
    XCTAssertEqual(DensityPlot.colorMap(-3), DensityPlot.colorMap(0))
    XCTAssertEqual(DensityPlot.colorMap(7), DensityPlot.colorMap(1))
    XCTAssertEqual(DensityPlot.colorMap(.nan), DensityPlot.colorMap(1))
  }

  /// Curves: one panel per group of the requested size; the true curve is
  /// black at the peak θ = π/2 where it reaches 1/1.1 of the height, the
  /// first learned curve (here half the truth, so drawn below it) blue.
  func testCurvesDrawTruthAndLearnedDensities() {
    let half = circleFigure(learnedShift: Double.log(0.5))
    let image = DensityPlot.curves([[half], [half, half]], panelWidth: 200, panelHeight: 110)
    let margin = DensityPlot.margin
    XCTAssertEqual(image.width, 2 * (200 + margin) + margin)
    XCTAssertEqual(image.height, 110 + 2 * margin)
    XCTAssertEqual(image.colorType, .rgb)
    // Peak of the truth: x at θ = π/2 (a quarter of 199 px), y at 1 − 1/1.1 of 109 px.
    let peakX = margin + Int((199.0 / 4).rounded())
    let peakY = margin + Int(((1 - 1 / 1.1) * 109).rounded())
    XCTAssertEqual(rgb(image, x: peakX + 1, y: peakY), [0, 0, 0])
    // The learned curve at half the height of the truth's peak.
    let learnedY = margin + Int(((1 - 0.5 / 1.1) * 109).rounded())
    XCTAssertEqual(rgb(image, x: peakX + 1, y: learnedY), [31, 119, 180])
    // Background inside the panel, far from both curves (near the top right).
    XCTAssertEqual(rgb(image, x: margin + 190, y: margin + 2), [255, 255, 255])
    // The second panel repeats the drawing.
    let secondLeft = margin + 200 + margin
    XCTAssertEqual(rgb(image, x: secondLeft + 199 / 4 + 1, y: peakY), [0, 0, 0])
  }

  /// Heat maps: a row per group, the truth first, each cell the viridis
  /// colour of its density over the largest true density.
  func testHeatMapsColourEachCell() {
    let sphere = VonMisesFisherMixture.threeComponents
    let chart = sphere.chart(resolution: 4)
    let truth = chart.points.map { sphere.logDensity(at: $0) }
    let uniform = [Double](repeating: -Double.log(4 * Double.pi), count: truth.count)
    let figure = ManifoldDensityFigure(chart: chart, trueLogDensity: truth, learnedLogDensity: uniform)
    let image = DensityPlot.heatMaps([[figure, figure], [figure]], cellSize: 3)
    let margin = DensityPlot.margin
    let (mapWidth, mapHeight) = (8 * 3, 4 * 3)
    XCTAssertEqual(image.width, 3 * (mapWidth + margin) + margin)
    XCTAssertEqual(image.height, 2 * (mapHeight + margin) + margin)
    let scale = truth.map { Double.exp($0) }.max()!
    for (row, column) in [(0, 0), (1, 5), (3, 7)] {
      let expected = DensityPlot.colorMap(Double.exp(truth[row * 8 + column]) / scale)
      XCTAssertEqual(
        rgb(image, x: margin + column * 3 + 1, y: margin + row * 3 + 2), [expected.red, expected.green, expected.blue])
      let learned = DensityPlot.colorMap(1 / (4 * Double.pi) / scale)
      let left = margin + (mapWidth + margin) + column * 3
      XCTAssertEqual(rgb(image, x: left, y: margin + row * 3), [learned.red, learned.green, learned.blue])
    }
    // The second row has one learned map; the third slot stays background.
    let top = margin + mapHeight + margin
    XCTAssertEqual(rgb(image, x: margin + 2 * (mapWidth + margin) + 1, y: top + 1), [255, 255, 255])
    // ``DensityPlot/image(of:)`` chooses heat maps for a surface and curves for a curve.
    XCTAssertEqual(DensityPlot.image(of: [[figure]]), DensityPlot.heatMaps([[figure]]))
    let circle = circleFigure(learnedShift: 0)
    XCTAssertEqual(DensityPlot.image(of: [[circle]]), DensityPlot.curves([[circle]]))
  }

  /// Lines leave no gaps: a steep segment covers every row between its ends.
  func testCanvasLinesAreConnected() {
    var canvas = DensityPlotCanvas(width: 20, height: 40)
    canvas.line(from: (2, 1), to: (7, 38), thickness: 1, color: .black)
    for y in 1...38 {
      XCTAssertTrue((0..<20).contains { canvas.color(x: $0, y: y) == .black }, "row \(y)")
    }
    XCTAssertEqual(canvas.color(x: 2, y: 1), .black)
    XCTAssertEqual(canvas.color(x: 7, y: 38), .black)
    XCTAssertEqual(canvas.color(x: 19, y: 0), .white)
  }
}
