import FlowTensor

/// Where a run of batches stands: the epoch, and the next batch within it.
public struct BatchPosition: Codable, Equatable, Hashable, Sendable, Comparable {
  /// The epoch, from 0.
  public var epoch: Int
  /// The next batch within the epoch, from 0.
  public var batch: Int

  public init(epoch: Int = 0, batch: Int = 0) {
    self.epoch = epoch
    self.batch = batch
  }

  public static func < (lhs: BatchPosition, rhs: BatchPosition) -> Bool {
    (lhs.epoch, lhs.batch) < (rhs.epoch, rhs.batch)
  }
}

/// Seeded shuffled mini-batches, epoch after epoch, resumable.
///
/// Epoch `e` visits the items in the Fisher–Yates permutation drawn from
/// `SeededGenerator(seed: seed, epoch: e)`, so the order depends only on
/// `(seed, epoch)` and is the same on every machine. The sampler's state is
/// its configuration and `position`; encode it in a checkpoint and a
/// decoded copy continues with exactly the batches the original would
/// have produced.
///
/// ```swift
/// var sampler = BatchSampler(count: dataset.count, batchSize: 64, seed: 1)
/// let (images, labels) = dataset.batch(sampler.next(), as: Float.self)
/// ```
public struct BatchSampler: Codable, Equatable, Sendable {
  /// The number of items sampled from.
  public let count: Int
  /// Items per batch.
  public let batchSize: Int
  /// Fixes every epoch's order.
  public let seed: UInt64
  /// Whether an epoch's final, smaller batch is skipped.
  public let dropLast: Bool
  /// The next batch to produce.
  public private(set) var position: BatchPosition

  /// The cached order of `cachedEpoch`; recomputed on demand, not encoded.
  private var cachedOrder: [Int] = []
  private var cachedEpoch = -1

  /// A sampler at `position`.
  ///
  /// - Parameters:
  ///   - count: items to sample from. Precondition: at least one batch per
  ///     epoch (`count ≥ batchSize` when `dropLast`, `count ≥ 1` otherwise).
  ///   - batchSize: items per batch. Precondition: positive.
  ///   - seed: fixes the order of every epoch.
  ///   - dropLast: skip each epoch's final partial batch, so every batch
  ///     has `batchSize` items.
  ///   - position: where to start. Precondition: `batch` is below
  ///     `batchesPerEpoch`.
  public init(
    count: Int, batchSize: Int, seed: UInt64, dropLast: Bool = true, position: BatchPosition = BatchPosition()
  ) {
    precondition(batchSize > 0, "BatchSampler: batch size \(batchSize) must be positive")
    precondition(count >= (dropLast ? batchSize : 1),
      "BatchSampler: \(count) items make no \(dropLast ? "full " : "")batch of \(batchSize)")
    self.count = count
    self.batchSize = batchSize
    self.seed = seed
    self.dropLast = dropLast
    self.position = position
    precondition(position.epoch >= 0 && (0..<batchesPerEpoch).contains(position.batch),
      "BatchSampler: position \(position) outside \(batchesPerEpoch) batches per epoch")
  }

  /// Batches in each epoch.
  public var batchesPerEpoch: Int {
    dropLast ? count / batchSize : (count + batchSize - 1) / batchSize
  }

  /// The item indices of the batch at `position`, then advances (into the
  /// next epoch after the last batch).
  ///
  /// - Returns: `batchSize` indices (fewer for a final partial batch).
  /// - Complexity: O(batchSize), plus O(count) at the start of an epoch.
  public mutating func next() -> [Int] {
    if cachedEpoch != position.epoch {
      cachedOrder = BatchSampler.permutation(count: count, seed: seed, epoch: position.epoch)
      cachedEpoch = position.epoch
    }
    let start = position.batch * batchSize
    let end = min(start + batchSize, count)
    let indices = Array(cachedOrder[start..<end])
    position.batch += 1
    if position.batch == batchesPerEpoch {
      position = BatchPosition(epoch: position.epoch + 1, batch: 0)
    }
    return indices
  }

  /// The order in which epoch `epoch` visits `0..<count`: a Fisher–Yates
  /// shuffle (Knuth, TAOCP vol. 2, Algorithm 3.4.2P) driven by a
  /// generator seeded from `(seed, epoch)`.
  ///
  /// - Returns: a permutation of `0..<count`.
  /// - Complexity: O(count).
  public static func permutation(count: Int, seed: UInt64, epoch: Int) -> [Int] {
    var generator = SeededGenerator(seed: seed, epoch: epoch)
    var order = Array(0..<count)
    var index = count - 1
    while index > 0 {
      let other = Int(generator.uniform(below: UInt64(index + 1)))
      order.swapAt(index, other)
      index -= 1
    }
    return order
  }

  private enum CodingKeys: String, CodingKey { case count, batchSize, seed, dropLast, position }

  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let count = try container.decode(Int.self, forKey: .count)
    let batchSize = try container.decode(Int.self, forKey: .batchSize)
    let dropLast = try container.decode(Bool.self, forKey: .dropLast)
    let position = try container.decode(BatchPosition.self, forKey: .position)
    let batches = batchSize > 0 ? (dropLast ? count / batchSize : (count + batchSize - 1) / batchSize) : 0
    guard batchSize > 0, batches > 0, position.epoch >= 0, (0..<batches).contains(position.batch) else {
      throw DecodingError.dataCorrupted(.init(
        codingPath: decoder.codingPath,
        debugDescription: "BatchSampler: \(count) items, batch size \(batchSize), position \(position) are inconsistent"))
    }
    self.init(
      count: count, batchSize: batchSize, seed: try container.decode(UInt64.self, forKey: .seed),
      dropLast: dropLast, position: position)
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(count, forKey: .count)
    try container.encode(batchSize, forKey: .batchSize)
    try container.encode(seed, forKey: .seed)
    try container.encode(dropLast, forKey: .dropLast)
    try container.encode(position, forKey: .position)
  }

  public static func == (lhs: BatchSampler, rhs: BatchSampler) -> Bool {
    (lhs.count, lhs.batchSize, lhs.seed, lhs.dropLast, lhs.position)
      == (rhs.count, rhs.batchSize, rhs.seed, rhs.dropLast, rhs.position)
  }
}

extension SeededGenerator {
  /// A generator for one epoch of a seeded run: the epoch is mixed into the
  /// seed with the golden-ratio increment, and SplitMix64 seeding spreads
  /// neighbouring seeds apart.
  init(seed: UInt64, epoch: Int) {
    self.init(seed: seed &+ UInt64(truncatingIfNeeded: epoch) &* 0x9E37_79B9_7F4A_7C15)
  }

  /// A uniform integer in `0..<bound` by Lemire's multiply-and-reject
  /// ("Fast random integer generation in an interval", 2019), written out
  /// so the result does not depend on the standard library's version.
  mutating func uniform(below bound: UInt64) -> UInt64 {
    precondition(bound > 0, "uniform(below:): bound must be positive")
    var product = next().multipliedFullWidth(by: bound)
    if product.low < bound {
      let threshold = (0 &- bound) % bound
      while product.low < threshold {
        product = next().multipliedFullWidth(by: bound)
      }
    }
    return product.high
  }
}

extension ImageDataset {
  /// The next mini-batch of `sampler` as a tensor of raw pixel values
  /// 0…255; advances the sampler.
  ///
  /// - Parameters:
  ///   - sampler: a sampler over this dataset. Precondition:
  ///     `sampler.count == count`.
  ///   - scalarType: the tensor's scalar type.
  /// - Returns: `images`: `[batch, 1, rows, columns]`; `labels`: one per
  ///   image.
  /// - Complexity: O(batchSize × imageSize), plus O(count) per new epoch.
  public func nextBatch<Scalar: TensorScalar>(
    from sampler: inout BatchSampler, as scalarType: Scalar.Type = Scalar.self
  ) -> (images: Tensor<Scalar>, labels: [Int]) {
    precondition(sampler.count == count,
      "ImageDataset.nextBatch: the sampler covers \(sampler.count) items, the dataset holds \(count)")
    return batch(sampler.next(), as: Scalar.self)
  }
}
