import Foundation
import NormalizingFlows

/// Where `flows train rectangular --dataset` points: a synthetic manifold
/// (points drawn once from the run's seed) or images (`fashion-mnist`,
/// `mnist`, or a directory of IDX files, as for `flows train cdflow`).
enum RectangularDataSource: Equatable {
  case manifold(ManifoldDataset)
  case images(DatasetSource)

  /// Reads `--dataset`'s value: `circle`, `sphere`, else an image source.
  init(_ text: String) {
    if let manifold = ManifoldDataset(rawValue: text.lowercased()) {
      self = .manifold(manifold)
    } else {
      self = .images(DatasetSource(text))
    }
  }

  /// The stable text stored in checkpoints, which ``init(_:)`` reads back.
  var specification: String {
    switch self {
    case .manifold(let manifold): return manifold.rawValue
    case .images(let source): return source.specification
    }
  }

  /// The training and test sets: for a manifold, `trainCount` then
  /// `testCount` points from one generator seeded with `seed` (as
  /// ``runRectangularExperiment(_:as:)`` draws them); for images the first
  /// `trainCount` training and `testCount` test images.
  /// - Throws: `DatasetError` when image files cannot be read.
  func load(trainCount: Int, testCount: Int, seed: UInt64) throws -> (
    training: RectangularTrainingSet, test: RectangularTrainingSet
  ) {
    switch self {
    case .manifold(let manifold):
      var generator = SeededGenerator(seed: seed)
      let training = RectangularTrainingSet.sampling(manifold, count: trainCount, using: &generator)
      let test = RectangularTrainingSet.sampling(manifold, count: testCount, using: &generator)
      return (training, test)
    case .images(let source):
      let training = try source.load(.train)
      let test = try source.load(.test)
      return (
        RectangularTrainingSet(.images(training)).prefix(trainCount), RectangularTrainingSet(.images(test)).prefix(testCount)
      )
    }
  }
}
