import FlowTensor

extension ImageDataset {
  /// The images at `indices`, in that order.
  ///
  /// - Parameter indices: positions in `0..<count`, repeats allowed.
  ///   Precondition: each is in range.
  /// - Returns: a dataset of `indices.count` images.
  /// - Complexity: O(indices.count × imageSize).
  public func subset<Indices: Collection>(_ indices: Indices) -> ImageDataset where Indices.Element == Int {
    var newPixels: [UInt8] = []
    newPixels.reserveCapacity(indices.count * imageSize)
    var newLabels: [UInt8] = []
    newLabels.reserveCapacity(indices.count)
    for index in indices {
      precondition((0..<count).contains(index), "ImageDataset.subset: index \(index) outside 0..<\(count)")
      newPixels.append(contentsOf: pixels[index * imageSize..<(index + 1) * imageSize])
      newLabels.append(labels[index])
    }
    return ImageDataset(pixels: newPixels, labels: newLabels, rows: shape[2], columns: shape[3])
  }

  /// A deterministic held-out split: the last `validationCount` images
  /// become the validation set, the rest the training set.
  ///
  /// Taking a fixed tail (not a random draw) keeps the split identical
  /// across runs and seeds. Fashion-MNIST and MNIST already ship a separate
  /// test split; this is for tuning without touching it.
  ///
  /// - Parameter validationCount: images held out. Precondition:
  ///   `0...count`.
  /// - Returns: `(training, validation)`.
  /// - Complexity: O(count × imageSize).
  public func splittingOff(last validationCount: Int) -> (training: ImageDataset, validation: ImageDataset) {
    precondition((0...count).contains(validationCount),
      "ImageDataset.splittingOff: \(validationCount) validation images out of \(count)")
    let boundary = count - validationCount
    return (subset(0..<boundary), subset(boundary..<count))
  }

  /// The images at `indices` as a tensor of raw pixel values 0…255.
  ///
  /// - Parameters:
  ///   - indices: positions in `0..<count`. Precondition: each is in range.
  ///   - scalarType: the tensor's scalar type.
  /// - Returns: `images`: `[indices.count, 1, rows, columns]`; `labels`:
  ///   one per image.
  /// - Complexity: O(indices.count × imageSize).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func batch<Scalar: TensorScalar>(
    _ indices: [Int], as scalarType: Scalar.Type = Scalar.self
  ) -> (images: Tensor<Scalar>, labels: [Int]) {
    let size = imageSize
    var values = [Scalar](repeating: 0, count: indices.count * size)
    var batchLabels: [Int] = []
    batchLabels.reserveCapacity(indices.count)
    pixels.withUnsafeBufferPointer { source in
      values.withUnsafeMutableBufferPointer { destination in
        for (slot, index) in indices.enumerated() {
          precondition((0..<count).contains(index), "ImageDataset.batch: index \(index) outside 0..<\(count)")
          let from = source.baseAddress! + index * size
          let to = destination.baseAddress! + slot * size
          for offset in 0..<size { to[offset] = Scalar(from[offset]) }
        }
      }
    }
    for index in indices { batchLabels.append(Int(labels[index])) }
    return (Tensor(shape: [indices.count, shape[1], shape[2], shape[3]], scalars: values), batchLabels)
  }
}
