import Foundation
import NormalizingFlows

/// Where `--dataset` points: Fashion-MNIST (Debian's package), MNIST (in
/// `data/mnist`), or a directory holding an IDX pair per split under the
/// MNIST file names.
enum DatasetSource: Equatable {
  case fashionMNIST
  case mnist
  case directory(String)

  /// The directory `--dataset mnist` reads.
  static let mnistDirectory = "data/mnist"

  /// Reads `--dataset`'s value: `fashion-mnist`, `mnist`, or a path.
  init(_ text: String) {
    switch text.lowercased() {
    case "fashion-mnist", "fashion_mnist", "fashionmnist": self = .fashionMNIST
    case "mnist": self = .mnist
    default: self = .directory(text)
    }
  }

  /// The stable text stored in checkpoints, which ``init(_:)`` reads back.
  var specification: String {
    switch self {
    case .fashionMNIST: return "fashion-mnist"
    case .mnist: return "mnist"
    case .directory(let path): return path
    }
  }

  /// One split.
  /// - Throws: `DatasetError` naming the missing or corrupt file and where to get it.
  func load(_ split: ImageDataset.Split) throws -> ImageDataset {
    switch self {
    case .fashionMNIST:
      return try ImageDataset.fashionMNIST(split: split)
    case .mnist:
      return try ImageDataset.mnist(split: split, directory: URL(fileURLWithPath: Self.mnistDirectory))
    case .directory(let path):
      let directory = URL(fileURLWithPath: path)
      let prefix = split == .train ? "train" : "t10k"
      func file(_ name: String) -> URL {
        // The gzipped name, or the plain one when only that exists.
        let gzipped = directory.appendingPathComponent(name + ".gz")
        let plain = directory.appendingPathComponent(name)
        return !FileManager.default.fileExists(atPath: gzipped.path) && FileManager.default.fileExists(atPath: plain.path)
          ? plain : gzipped
      }
      return try ImageDataset(
        imagesAt: file("\(prefix)-images-idx3-ubyte"), labelsAt: file("\(prefix)-labels-idx1-ubyte"),
        provider: "a directory given by --dataset holds \(prefix)-images-idx3-ubyte.gz and \(prefix)-labels-idx1-ubyte.gz")
    }
  }
}
