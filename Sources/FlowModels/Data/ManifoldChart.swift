import FlowTensor

/// A regular grid of points on a manifold in its angular coordinates, for
/// pictures of a density along it: the angle of a circle, or (polar angle,
/// azimuth) of a sphere as an equirectangular map.
///
/// Unlike a ``ManifoldQuadrature`` it carries no weights: its nodes are laid
/// out for the eye (equally spaced angles), not for integration.
public struct ManifoldChart: Codable, Equatable, Sendable {
  /// `[n]` for a curve, `[rows, columns]` for a surface.
  public var gridShape: [Int]
  /// The coordinate values along each grid axis (radians): `coordinates[a]`
  /// has `gridShape[a]` entries.
  public var coordinates: [[Double]]
  /// The points in the ambient space, row-major over the grid (the last axis
  /// varies fastest).
  public var points: [[Double]]

  /// - Parameters:
  ///   - gridShape: one or two positive sizes.
  ///   - coordinates: one array per axis of the matching size.
  ///   - points: the product of the sizes.
  public init(gridShape: [Int], coordinates: [[Double]], points: [[Double]]) {
    precondition(
      (1...2).contains(gridShape.count) && gridShape.allSatisfy { $0 >= 1 },
      "ManifoldChart: grid shape \(gridShape) must be one or two positive sizes")
    precondition(
      coordinates.map(\.count) == gridShape,
      "ManifoldChart: coordinate counts \(coordinates.map(\.count)) do not match the grid shape \(gridShape)")
    precondition(
      points.count == gridShape.reduce(1, *),
      "ManifoldChart: \(points.count) points for a grid of shape \(gridShape)")
    self.gridShape = gridShape
    self.coordinates = coordinates
    self.points = points
  }

  /// The points as a tensor `[nodes, D]`.
  public func pointTensor<Scalar: TensorScalar>(_: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
    Tensor(shape: [points.count, points.first?.count ?? 0], scalars: points.flatMap { $0.map { Scalar($0) } })
  }

  /// `count` midpoints (i + ½)·span/count of [0, span).
  static func midpoints(count: Int, span: Double) -> [Double] {
    (0..<count).map { (Double($0) + 0.5) * span / Double(count) }
  }
}

extension VonMisesCircle {
  /// `resolution` equally spaced angles θ (midpoints of [0, 2π)), the points (cos θ, sin θ).
  public func chart(resolution: Int) -> ManifoldChart {
    precondition(resolution >= 1, "VonMisesCircle.chart: resolution \(resolution) must be at least 1")
    let angles = ManifoldChart.midpoints(count: resolution, span: 2 * Double.pi)
    return ManifoldChart(
      gridShape: [resolution], coordinates: [angles], points: angles.map { [Double.cos($0), Double.sin($0)] })
  }
}

extension VonMisesFisherMixture {
  /// An equirectangular grid: `resolution` polar angles θ (rows, midpoints
  /// of [0, π], north pole first) by 2·`resolution` azimuths φ (columns,
  /// midpoints of [0, 2π)), the point (sin θ cos φ, sin θ sin φ, cos θ).
  public func chart(resolution: Int) -> ManifoldChart {
    precondition(resolution >= 1, "VonMisesFisherMixture.chart: resolution \(resolution) must be at least 1")
    let polar = ManifoldChart.midpoints(count: resolution, span: Double.pi)
    let azimuth = ManifoldChart.midpoints(count: 2 * resolution, span: 2 * Double.pi)
    var points: [[Double]] = []
    points.reserveCapacity(polar.count * azimuth.count)
    for theta in polar {
      for phi in azimuth {
        points.append([Double.sin(theta) * Double.cos(phi), Double.sin(theta) * Double.sin(phi), Double.cos(theta)])
      }
    }
    return ManifoldChart(gridShape: [resolution, 2 * resolution], coordinates: [polar, azimuth], points: points)
  }
}
