import FlowModels
import FlowTensor
import XCTest
import _TestSupport

final class ManifoldChartTests: XCTestCase {
  /// The circle's chart: equally spaced midpoint angles, the points on the
  /// unit circle at those angles.
  func testCircleChartIsEquallySpacedOnTheCircle() {
    let chart = VonMisesCircle().chart(resolution: 8)
    XCTAssertEqual(chart.gridShape, [8])
    XCTAssertEqual(chart.points.count, 8)
    for (index, angle) in chart.coordinates[0].enumerated() {
      XCTAssertEqual(angle, (Double(index) + 0.5) * Double.pi / 4, accuracy: 1e-15)
      XCTAssertEqual(chart.points[index][0], Double.cos(angle), accuracy: 1e-15)
      XCTAssertEqual(chart.points[index][1], Double.sin(angle), accuracy: 1e-15)
    }
    let single = VonMisesCircle().chart(resolution: 1)
    XCTAssertEqual(single.coordinates, [[Double.pi]])
    XCTAssertEqual(single.points[0][0], -1, accuracy: 1e-15)
  }

  /// The sphere's chart: `resolution` polar rows by 2·`resolution` azimuth
  /// columns, row-major, unit points matching their angles, north pole first.
  func testSphereChartIsEquirectangular() {
    let chart = VonMisesFisherMixture.threeComponents.chart(resolution: 3)
    XCTAssertEqual(chart.gridShape, [3, 6])
    XCTAssertEqual(chart.points.count, 18)
    let polar = chart.coordinates[0]
    let azimuth = chart.coordinates[1]
    XCTAssertEqual(polar.count, 3)
    XCTAssertEqual(azimuth.count, 6)
    XCTAssertEqual(polar[0], Double.pi / 6, accuracy: 1e-15)
    XCTAssertEqual(azimuth[5], 11 * Double.pi / 6, accuracy: 1e-15)
    for row in 0..<3 {
      for column in 0..<6 {
        let point = chart.points[row * 6 + column]
        XCTAssertEqual(point.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-14)
        XCTAssertEqual(point[2], Double.cos(polar[row]), accuracy: 1e-15)
        XCTAssertEqual(Double.atan2(y: point[1], x: point[0]), Double.atan2(y: Double.sin(azimuth[column]), x: Double.cos(azimuth[column])), accuracy: 1e-14)
      }
    }
    let tensor: Tensor<Float> = chart.pointTensor()
    XCTAssertEqual(tensor.shape, [18, 3])
    XCTAssertEqual(Double(tensor[17, 2]), Double.cos(5 * Double.pi / 6), accuracy: 1e-6)
  }

  /// The true densities on the charts: the circle's peaks at μ = π/2 with
  /// e^κ/(2π I₀(κ)); the sphere's equirectangular grid integrates to about 1
  /// with the area weights sin θ·Δθ·Δφ.
  func testTrueDensitiesOnTheCharts() {
    let circle = VonMisesCircle()
    let chart = circle.chart(resolution: 4)
    // Angles π/4, 3π/4, …: the two nearest μ = π/2 carry equal density.
    let values = chart.points.map { circle.logDensity(at: $0) }
    XCTAssertEqual(values[0], values[1], accuracy: 1e-12)
    XCTAssertEqual(values[2], values[3], accuracy: 1e-12)
    XCTAssertGreaterThan(values[0], values[2])
    let sphere = VonMisesFisherMixture.threeComponents
    let grid = sphere.chart(resolution: 64)
    let area = (Double.pi / 64) * (2 * Double.pi / 128)
    var integral = 0.0
    for (index, point) in grid.points.enumerated() {
      integral += Double.exp(sphere.logDensity(at: point)) * Double.sin(grid.coordinates[0][index / 128]) * area
    }
    XCTAssertEqual(integral, 1, accuracy: 2e-3)
  }
}
