import FlowTensor
import Foundation

/// Labelled greyscale images stored as bytes: Fashion-MNIST, MNIST or any
/// IDX pair.
///
/// Pixels stay `UInt8` (a quarter of `Float`'s memory); `batch(_:as:)`
/// turns chosen images into a tensor of raw values 0…255, and the model
/// dequantizes them.
public struct ImageDataset: Equatable, Sendable {
  /// Every image's pixels, image after image, row-major.
  public private(set) var pixels: [UInt8]
  /// `[count, 1, rows, columns]`.
  public let shape: [Int]
  /// One class label per image.
  public private(set) var labels: [UInt8]

  /// The number of images.
  public var count: Int { shape[0] }
  /// Pixels per image: `channels × rows × columns`.
  public var imageSize: Int { shape[1] * shape[2] * shape[3] }

  /// A dataset from its parts.
  ///
  /// - Parameters:
  ///   - pixels: `count × rows × columns` bytes, image after image.
  ///   - labels: `count` labels.
  ///   - rows: image height.
  ///   - columns: image width.
  ///   Precondition: the counts agree.
  public init(pixels: [UInt8], labels: [UInt8], rows: Int, columns: Int) {
    precondition(rows > 0 && columns > 0, "ImageDataset: image size \(rows)×\(columns) must be positive")
    precondition(pixels.count == labels.count * rows * columns,
      "ImageDataset: \(pixels.count) pixels for \(labels.count) labels of \(rows)×\(columns) images")
    self.pixels = pixels
    self.labels = labels
    self.shape = [labels.count, 1, rows, columns]
  }

  /// Reads an IDX pair: images `[count, rows, columns]` (magic 0x00000803)
  /// and labels `[count]` (magic 0x00000801), each gzipped or not.
  ///
  /// - Parameters:
  ///   - imagesURL: the images file.
  ///   - labelsURL: the labels file.
  ///   - classCount: if given, every label must lie in `0..<classCount`.
  ///   - provider: how to get the files, quoted in any error.
  /// - Throws: `DatasetError` naming the file at fault.
  /// - Complexity: O(file sizes).
  public init(
    imagesAt imagesURL: URL, labelsAt labelsURL: URL, classCount: Int? = nil, provider: String? = nil
  ) throws {
    let images = try IDXArray.read(at: imagesURL, rank: 3, provider: provider)
    let labels = try IDXArray.read(at: labelsURL, rank: 1, provider: provider)
    guard images.dimensions[0] == labels.dimensions[0] else {
      throw DatasetError(
        file: labelsURL,
        reason: .countMismatch(images: images.dimensions[0], labels: labels.dimensions[0]),
        provider: provider)
    }
    if let classCount, let index = labels.bytes.firstIndex(where: { Int($0) >= classCount }) {
      throw DatasetError(
        file: labelsURL,
        reason: .labelOutOfRange(index: index, value: Int(labels.bytes[index]), classCount: classCount),
        provider: provider)
    }
    let rows = images.dimensions[1]
    let columns = images.dimensions[2]
    guard rows > 0, columns > 0 else {
      throw DatasetError(
        file: imagesURL,
        reason: .sizeMismatch(dimensions: images.dimensions, expectedBytes: 0, actualBytes: images.bytes.count),
        provider: provider)
    }
    self.init(pixels: images.bytes, labels: labels.bytes, rows: rows, columns: columns)
  }

  /// One of the two splits that MNIST-format datasets ship with.
  public enum Split: String, Codable, Sendable, CaseIterable {
    /// 60,000 images.
    case train
    /// 10,000 images.
    case test

    /// The file-name prefix: `train` or `t10k`.
    var filePrefix: String { self == .train ? "train" : "t10k" }
  }

  /// Where Debian's `dataset-fashion-mnist` installs its files.
  public static let defaultFashionMNISTDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")

  /// How to get Fashion-MNIST, quoted in errors about its default files.
  public static let fashionMNISTProvider =
    "install Debian's dataset-fashion-mnist: sudo apt-get install dataset-fashion-mnist"

  /// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 28×28 images of clothes
  /// in 10 classes.
  ///
  /// - Parameters:
  ///   - split: `.train` (60,000 images) or `.test` (10,000).
  ///   - directory: holds `train-images-idx3-ubyte.gz` and the others.
  /// - Throws: `DatasetError`; for the default directory it says which
  ///   Debian package provides the files.
  public static func fashionMNIST(
    split: Split, directory: URL = defaultFashionMNISTDirectory
  ) throws -> ImageDataset {
    let isDefault = directory.standardizedFileURL.path == defaultFashionMNISTDirectory.path
    return try mnistFormat(
      split: split, directory: directory,
      provider: isDefault ? fashionMNISTProvider : "Fashion-MNIST: https://github.com/zalandoresearch/fashion-mnist")
  }

  /// MNIST (LeCun et al. 1998): 28×28 handwritten digits, the same four
  /// file names as Fashion-MNIST.
  ///
  /// - Parameters:
  ///   - split: `.train` (60,000 images) or `.test` (10,000).
  ///   - directory: holds `train-images-idx3-ubyte.gz` and the others.
  /// - Throws: `DatasetError`, saying where MNIST can be downloaded.
  public static func mnist(split: Split, directory: URL) throws -> ImageDataset {
    try mnistFormat(
      split: split, directory: directory,
      provider: "download MNIST's four .gz files from https://yann.lecun.com/exdb/mnist/ into \(directory.path)")
  }

  private static func mnistFormat(split: Split, directory: URL, provider: String) throws -> ImageDataset {
    try ImageDataset(
      imagesAt: directory.appendingPathComponent("\(split.filePrefix)-images-idx3-ubyte.gz"),
      labelsAt: directory.appendingPathComponent("\(split.filePrefix)-labels-idx1-ubyte.gz"),
      classCount: 10, provider: provider)
  }
}
