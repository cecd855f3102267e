import FlowLayers
import FlowTensor

extension RectangularFlow {
  /// Compares the learned density with a known one on its manifold, by
  /// quadrature (see ``ManifoldDensityComparison``): log p is evaluated at
  /// the quadrature nodes by the exact estimator, without recording.
  /// - Parameters:
  ///   - truth: the data's distribution; its ambient size must be D.
  ///   - resolution: passed to ``ManifoldDistribution/quadrature(resolution:)``.
  ///   - chunkSize: nodes per pass, ≥ 1 (bounds the memory of the d tangents).
  /// - Returns: KL and total variation against the truth, and the learned mass on its manifold.
  /// - Throws: what ``logProbability(_:)`` throws.
  public func compareDensity<Truth: ManifoldDistribution>(
    with truth: Truth, resolution: Int, chunkSize: Int = 1024
  ) throws -> ManifoldDensityComparison {
    precondition(
      truth.ambientSize == ambientSize,
      "RectangularFlow.compareDensity: the truth lives in R^\(truth.ambientSize), the model in R^\(ambientSize)")
    precondition(chunkSize >= 1, "RectangularFlow.compareDensity: chunk size \(chunkSize) must be at least 1")
    let quadrature = truth.quadrature(resolution: resolution)
    let learned = try logDensities(at: quadrature, chunkSize: chunkSize)
    return ManifoldDensityComparison(
      learnedLogDensity: learned, trueLogDensity: quadrature.points.map { truth.logDensity(at: $0) },
      quadrature: quadrature)
  }

  /// log p at each node of a quadrature (for plots of the learned density
  /// along a manifold), by the exact estimator, without recording.
  /// - Parameters:
  ///   - quadrature: nodes in R^D.
  ///   - chunkSize: nodes per pass, ≥ 1.
  /// - Returns: one log-density per node, in their order.
  /// - Throws: what ``logProbability(_:)`` throws.
  public func logDensities(at quadrature: ManifoldQuadrature, chunkSize: Int = 1024) throws -> [Double] {
    try logDensities(atPoints: quadrature.points, chunkSize: chunkSize)
  }

  /// log p at each point, by the exact estimator, without recording, in
  /// chunks of `chunkSize` points (which bound the memory of the d tangents).
  /// - Parameters:
  ///   - points: points of R^D.
  ///   - chunkSize: points per pass, ≥ 1.
  /// - Returns: one log-density per point, in their order.
  /// - Throws: what ``logProbability(_:)`` throws.
  public func logDensities(atPoints points: [[Double]], chunkSize: Int = 1024) throws -> [Double] {
    precondition(chunkSize >= 1, "RectangularFlow.logDensities: chunk size \(chunkSize) must be at least 1")
    precondition(
      points.allSatisfy { $0.count == ambientSize },
      "RectangularFlow.logDensities: every point needs \(ambientSize) coordinates")
    var learned: [Double] = []
    learned.reserveCapacity(points.count)
    try withoutRecording {
      var start = 0
      while start < points.count {
        let end = min(start + chunkSize, points.count)
        let chunk = Tensor<Scalar>(
          shape: [end - start, ambientSize], scalars: points[start..<end].flatMap { $0.map { Scalar($0) } })
        learned += try logProbability(chunk).scalars.map { Double($0) }
        start = end
      }
    }
    return learned
  }
}
