import FlowModels
import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// One permutation written by `Fixtures/shuffle_reference.py`.
private struct ShuffleReferenceCase: Decodable {
  let count: Int
  let seed: UInt64
  let epoch: Int
  let permutation: [Int]
}

final class BatchingTests: XCTestCase {
  func testPermutationsMatchAnIndependentPythonImplementation() throws {
    let cases = try Fixtures.load([ShuffleReferenceCase].self, named: "shuffle_reference.json")
    XCTAssertEqual(cases.count, 5)
    for reference in cases {
      XCTAssertEqual(
        BatchSampler.permutation(count: reference.count, seed: reference.seed, epoch: reference.epoch),
        reference.permutation, "count \(reference.count), seed \(reference.seed), epoch \(reference.epoch)")
    }
  }

  func testPermutationsArePermutationsFixedBySeedAndEpoch() {
    for count in [0, 1, 2, 5, 1000] {
      let order = BatchSampler.permutation(count: count, seed: 9, epoch: 0)
      XCTAssertEqual(order.sorted(), Array(0..<count), "count \(count)")
    }
    let base = BatchSampler.permutation(count: 1000, seed: 9, epoch: 0)
    XCTAssertEqual(BatchSampler.permutation(count: 1000, seed: 9, epoch: 0), base)
    XCTAssertNotEqual(BatchSampler.permutation(count: 1000, seed: 10, epoch: 0), base)
    XCTAssertNotEqual(BatchSampler.permutation(count: 1000, seed: 9, epoch: 1), base)
    XCTAssertNotEqual(base, Array(0..<1000))
  }

  func testEveryItemIsEquallyLikelyInEveryPosition() {
    // 4! orders over 6,000 epochs: each item lands in each position about
    // 1,500 times; binomial standard deviation √(6000·¼·¾) ≈ 33.5, so ±150
    // is beyond 4 sigma.
    var counts = [[Int]](repeating: [Int](repeating: 0, count: 4), count: 4)
    for epoch in 0..<6000 {
      for (position, item) in BatchSampler.permutation(count: 4, seed: 3, epoch: epoch).enumerated() {
        counts[position][item] += 1
      }
    }
    for row in counts {
      for value in row { XCTAssertEqual(Double(value), 1500, accuracy: 150, "\(counts)") }
    }
  }

  func testBatchesCoverEachEpochOnceWithAndWithoutDropLast() {
    var keeping = BatchSampler(count: 10, batchSize: 4, seed: 1, dropLast: false)
    XCTAssertEqual(keeping.batchesPerEpoch, 3)
    let epochZero = (0..<3).map { _ in keeping.next() }
    XCTAssertEqual(epochZero.map(\.count), [4, 4, 2])
    XCTAssertEqual(epochZero.flatMap { $0 }, BatchSampler.permutation(count: 10, seed: 1, epoch: 0))
    XCTAssertEqual(keeping.position, BatchPosition(epoch: 1, batch: 0))
    XCTAssertEqual(keeping.next(), Array(BatchSampler.permutation(count: 10, seed: 1, epoch: 1).prefix(4)))

    var dropping = BatchSampler(count: 10, batchSize: 4, seed: 1, dropLast: true)
    XCTAssertEqual(dropping.batchesPerEpoch, 2)
    let dropped = (0..<2).map { _ in dropping.next() }
    XCTAssertEqual(dropped.map(\.count), [4, 4])
    XCTAssertEqual(dropped.flatMap { $0 }, Array(BatchSampler.permutation(count: 10, seed: 1, epoch: 0).prefix(8)))
    XCTAssertEqual(dropping.position, BatchPosition(epoch: 1, batch: 0))

    var single = BatchSampler(count: 1, batchSize: 3, seed: 1, dropLast: false)
    XCTAssertEqual([single.next(), single.next()], [[0], [0]])
    XCTAssertEqual(single.position, BatchPosition(epoch: 2, batch: 0))
  }

  func testAResumedSamplerContinuesWithTheSameBatches() throws {
    var uninterrupted = BatchSampler(count: 23, batchSize: 5, seed: 77, dropLast: true)
    var interrupted = uninterrupted
    let expected = (0..<20).map { _ in uninterrupted.next() }
    var produced = (0..<7).map { _ in interrupted.next() }
    let checkpoint = try JSONEncoder().encode(interrupted)
    var resumed = try JSONDecoder().decode(BatchSampler.self, from: checkpoint)
    XCTAssertEqual(resumed, interrupted)
    XCTAssertEqual(resumed.position, BatchPosition(epoch: 1, batch: 3))
    produced += (0..<13).map { _ in resumed.next() }
    XCTAssertEqual(produced, expected)

    // Starting directly at a position is the same as resuming there.
    var started = BatchSampler(count: 23, batchSize: 5, seed: 77, position: BatchPosition(epoch: 1, batch: 3))
    XCTAssertEqual((0..<13).map { _ in started.next() }, Array(expected[7...]))
  }

  func testDecodingRejectsAnInconsistentState() {
    let json = #"{"count": 10, "batchSize": 4, "seed": 1, "dropLast": true, "position": {"epoch": 0, "batch": 2}}"#
    XCTAssertThrowsError(try JSONDecoder().decode(BatchSampler.self, from: Data(json.utf8))) {
      XCTAssertTrue($0 is DecodingError, "\($0)")
    }
    let valid = json.replacingOccurrences(of: #""batch": 2"#, with: #""batch": 1"#)
    XCTAssertEqual(try JSONDecoder().decode(BatchSampler.self, from: Data(valid.utf8)).position,
      BatchPosition(epoch: 0, batch: 1))
  }

  private func checkBatchTensors<Scalar: TensorScalar>(_: Scalar.Type) {
    let pixels = (0..<(10 * 4)).map { UInt8($0) }
    let dataset = ImageDataset(pixels: pixels, labels: (0..<10).map { UInt8($0) }, rows: 2, columns: 2)
    var sampler = BatchSampler(count: dataset.count, batchSize: 3, seed: 5, dropLast: false)
    var seen: [Int] = []
    for expectedSize in [3, 3, 3, 1] {
      let (images, labels) = dataset.batch(sampler.next(), as: Scalar.self)
      XCTAssertEqual(images.shape, [expectedSize, 1, 2, 2])
      XCTAssertEqual(labels.count, expectedSize)
      for (slot, label) in labels.enumerated() {
        // Image i holds pixels 4i…4i+3 and label i.
        XCTAssertEqual(Array(images.scalars[(slot * 4)..<(slot * 4 + 4)]),
          (0..<4).map { Scalar(4 * label + $0) })
      }
      seen += labels
    }
    XCTAssertEqual(seen.sorted(), Array(0..<10))

    var twin = BatchSampler(count: dataset.count, batchSize: 3, seed: 5, dropLast: false)
    var reference = twin
    let (images, labels) = dataset.nextBatch(from: &twin, as: Scalar.self)
    let expected = dataset.batch(reference.next(), as: Scalar.self)
    XCTAssertEqual(images.shape, expected.images.shape)
    XCTAssertEqual(images.scalars, expected.images.scalars)
    XCTAssertEqual(labels, expected.labels)
    XCTAssertEqual(twin, reference)
  }

  func testSampledBatchesAreImageTensorsInFloatAndDouble() {
    checkBatchTensors(Float.self)
    checkBatchTensors(Double.self)
  }
}
