import FlowTensor

/// A collection of training items that a ``Trainer`` draws batches from by
/// index: images, sequences, points.
public protocol TrainingDataset {
  /// The number of items.
  var count: Int { get }
  /// The first `count` items (all of them when `count` is larger), in order.
  func prefix(_ count: Int) -> Self
}

/// A model that ``Trainer`` can fit: a loss on a batch, an evaluation on a
/// held-out set, and a configuration to store in checkpoints.
///
/// The loss is the quantity minimised and the one reported, in the unit
/// named by ``metricName`` (bits/dim for image flows); it takes a seeded
/// generator for its random draws (dequantisation noise, Hutchinson
/// probes) so that a run is reproducible and resumable.
public protocol TrainableModel: Layer {
  /// The data the model learns from.
  associatedtype Dataset: TrainingDataset

  /// The model's name in checkpoints and on the command line, e.g. `"cdflow"`.
  static var modelName: String { get }
  /// The unit of the loss and the evaluation, e.g. `"bits/dim"`.
  static var metricName: String { get }
  /// The short key of that unit in machine-readable output, e.g. `"bpd"`
  /// (keys `train_bpd`, `test_bpd`).
  static var metricKey: String { get }

  /// The architecture as JSON, stored in the checkpoint's metadata.
  var configurationJSON: String { get }
  /// A model of the architecture `configurationJSON` describes, at its
  /// initial parameters.
  /// - Throws: when the text is not a valid configuration.
  init(configurationJSON: String) throws

  /// Whether the data-dependent initialisation has run (or the parameters
  /// were loaded from a checkpoint).
  var isPrepared: Bool { get set }

  /// The data-dependent initialisation from the first training batch; sets
  /// ``isPrepared``.
  /// - Parameters:
  ///   - batch: indices into `dataset`.
  mutating func prepare(on batch: [Int], of dataset: Dataset, using generator: inout SeededGenerator)

  /// The training loss on the items `batch` of `dataset`, averaged over
  /// the batch, in ``metricName``.
  /// - Returns: rank 0, differentiable in the parameters.
  func loss(on batch: [Int], of dataset: Dataset, using generator: inout SeededGenerator) -> Tensor<Scalar>

  /// The mean per-item loss over all of `dataset`, without recording a graph.
  /// - Parameters:
  ///   - batchSize: items per forward pass.
  /// - Returns: in ``metricName``.
  func evaluate(on dataset: Dataset, batchSize: Int, using generator: inout SeededGenerator) -> Double
}
