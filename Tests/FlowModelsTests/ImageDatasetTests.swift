import FlowModels
import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// What `Fixtures/fashion_mnist_stats.py` (numpy) measured in each split.
private struct FashionMNISTSplitStatistics: Decodable {
  let shape: [Int]
  let meanPixel: Double
  let pixelSum: Int
  let labelCounts: [Int]
  let firstLabels: [Int]
  let firstImagePixelSum: Int
  let lastImagePixelSum: Int
}

final class ImageDatasetTests: XCTestCase {
  /// Four 2×3 images whose pixels encode (image, position).
  private func smallDataset() -> ImageDataset {
    let pixels = (0..<4).flatMap { image in (0..<6).map { UInt8(image * 10 + $0) } }
    return ImageDataset(pixels: pixels, labels: [3, 1, 4, 1], rows: 2, columns: 3)
  }

  func testShapeAndCounts() {
    let dataset = smallDataset()
    XCTAssertEqual(dataset.shape, [4, 1, 2, 3])
    XCTAssertEqual(dataset.count, 4)
    XCTAssertEqual(dataset.imageSize, 6)
  }

  func testSubsetKeepsTheChosenImagesInOrder() {
    let subset = smallDataset().subset([2, 0, 2])
    XCTAssertEqual(subset.shape, [3, 1, 2, 3])
    XCTAssertEqual(subset.labels, [4, 3, 4])
    XCTAssertEqual(subset.pixels, [20, 21, 22, 23, 24, 25, 0, 1, 2, 3, 4, 5, 20, 21, 22, 23, 24, 25])
    XCTAssertEqual(smallDataset().subset([Int]()).shape, [0, 1, 2, 3])
  }

  func testSplittingOffTheLastImagesAsValidation() {
    let dataset = smallDataset()
    let (training, validation) = dataset.splittingOff(last: 1)
    XCTAssertEqual(training, dataset.subset([0, 1, 2]))
    XCTAssertEqual(validation, dataset.subset([3]))
    XCTAssertEqual(dataset.splittingOff(last: 0).training, dataset)
    XCTAssertEqual(dataset.splittingOff(last: 4).validation, dataset)
    XCTAssertEqual(dataset.splittingOff(last: 4).training.count, 0)
  }

  private func checkBatch<Scalar: TensorScalar>(_: Scalar.Type) {
    let (images, labels) = smallDataset().batch([3, 1], as: Scalar.self)
    XCTAssertEqual(images.shape, [2, 1, 2, 3])
    XCTAssertEqual(images.scalars, [30, 31, 32, 33, 34, 35, 10, 11, 12, 13, 14, 15].map { Scalar($0) })
    XCTAssertEqual(labels, [1, 1])
    let full = ImageDataset(pixels: [0, 128, 255, 7], labels: [0], rows: 2, columns: 2).batch([0], as: Scalar.self)
    XCTAssertEqual(full.images.scalars, [0, 128, 255, 7], "raw values, not rescaled")
    XCTAssertEqual(smallDataset().batch([], as: Scalar.self).images.shape, [0, 1, 2, 3])
  }

  func testBatchIsARawPixelTensorInFloatAndDouble() {
    checkBatch(Float.self)
    checkBatch(Double.self)
  }

  func testFashionMNISTMatchesNumpysStatistics() throws {
    let expected = try Fixtures.load(
      [String: FashionMNISTSplitStatistics].self, named: "fashion_mnist_stats.json")
    for split in ImageDataset.Split.allCases {
      let dataset = try ImageDataset.fashionMNIST(split: split)
      let statistics = try XCTUnwrap(expected[split.rawValue])
      XCTAssertEqual(dataset.shape, statistics.shape, "\(split)")
      XCTAssertEqual(dataset.shape, [split == .train ? 60_000 : 10_000, 1, 28, 28])
      let pixelSum = dataset.pixels.reduce(0) { $0 + Int($1) }
      XCTAssertEqual(pixelSum, statistics.pixelSum, "\(split)")
      XCTAssertEqual(Double(pixelSum) / Double(dataset.pixels.count), statistics.meanPixel,
        accuracy: 1e-9, "\(split)")
      var labelCounts = [Int](repeating: 0, count: 10)
      for label in dataset.labels { labelCounts[Int(label)] += 1 }
      XCTAssertEqual(labelCounts, statistics.labelCounts, "\(split)")
      XCTAssertEqual(labelCounts, [Int](repeating: split == .train ? 6_000 : 1_000, count: 10))
      XCTAssertEqual(dataset.labels.prefix(10).map(Int.init), statistics.firstLabels, "\(split)")
      // The first and last images pin the row-major order and the end of the data.
      XCTAssertEqual(dataset.pixels.prefix(784).reduce(0) { $0 + Int($1) }, statistics.firstImagePixelSum)
      XCTAssertEqual(dataset.pixels.suffix(784).reduce(0) { $0 + Int($1) }, statistics.lastImagePixelSum)
    }
  }
}
