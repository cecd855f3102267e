// Two-dimensional convolution in NCHW layout and its two gradients, by
// im2col and `gemm`.
//
// With `C` input channels and a `KH`×`KW` kernel, im2col lays each image
// out as a column matrix `[C·KH·KW, OH·OW]` whose column `(oy, ox)` holds
// the receptive field of output pixel `(oy, ox)` (zeros where it covers the
// padding). The convolution is then the product `filter[O, C·KH·KW] ×
// columns`, its input gradient is `filterᵀ × gradient` scattered back by
// col2im, and its filter gradient is `gradient × columnsᵀ`. The layout and
// the reduction to `gemm` follow Chellapilla, Puri & Simard, "High
// Performance Convolutional Neural Networks for Document Processing" (2006).
//
// As in deep-learning libraries, "convolution" here is cross-correlation:
// the kernel is not flipped.

/// Sizes of one convolution, shared by the op and its gradients.
struct Convolution2DGeometry {
  var batch: Int
  var inChannels: Int
  var height: Int
  var width: Int
  var outChannels: Int
  var kernelHeight: Int
  var kernelWidth: Int
  var strideHeight: Int
  var strideWidth: Int
  var paddingHeight: Int
  var paddingWidth: Int
  var outHeight: Int
  var outWidth: Int

  /// Scalars of one kernel plane, `KH·KW`.
  var kernelArea: Int { kernelHeight * kernelWidth }
  /// Rows of an image's column matrix, `C·KH·KW`.
  var patchSize: Int { inChannels * kernelArea }
  /// Columns of an image's column matrix, `OH·OW`.
  var outputArea: Int { outHeight * outWidth }
  /// Scalars of one input image, `C·H·W`.
  var imageSize: Int { inChannels * height * width }
  /// Whether the column matrix of an image is the image itself: a 1×1
  /// kernel at stride 1 without padding.
  var isPointwise: Bool {
    kernelArea == 1 && strideHeight == 1 && strideWidth == 1 && paddingHeight == 0 && paddingWidth == 0
  }
  var inputShape: [Int] { [batch, inChannels, height, width] }
  var filterShape: [Int] { [outChannels, inChannels, kernelHeight, kernelWidth] }
  var outputShape: [Int] { [batch, outChannels, outHeight, outWidth] }

  init(
    inputShape: [Int], filterShape: [Int], strides: (Int, Int), padding: (Int, Int),
    operation: @autoclosure () -> String
  ) {
    precondition(
      inputShape.count == 4,
      "\(operation()): input \(inputShape) is not [batch, inChannels, height, width]")
    precondition(
      filterShape.count == 4,
      "\(operation()): filter \(filterShape) is not [outChannels, inChannels, kernelHeight, kernelWidth]")
    precondition(
      inputShape[1] == filterShape[1],
      "\(operation()): input \(inputShape) has \(inputShape[1]) channels, filter \(filterShape) expects \(filterShape[1])")
    precondition(
      filterShape[2] >= 1 && filterShape[3] >= 1,
      "\(operation()): filter \(filterShape) has an empty kernel")
    precondition(
      strides.0 >= 1 && strides.1 >= 1,
      "\(operation()): strides \(strides) must be at least 1")
    precondition(
      padding.0 >= 0 && padding.1 >= 0,
      "\(operation()): padding \(padding) must not be negative")
    batch = inputShape[0]
    inChannels = inputShape[1]
    height = inputShape[2]
    width = inputShape[3]
    outChannels = filterShape[0]
    kernelHeight = filterShape[2]
    kernelWidth = filterShape[3]
    (strideHeight, strideWidth) = strides
    (paddingHeight, paddingWidth) = padding
    precondition(
      height + 2 * paddingHeight >= kernelHeight && width + 2 * paddingWidth >= kernelWidth,
      "\(operation()): kernel \(kernelHeight)×\(kernelWidth) exceeds the padded input "
        + "\(height + 2 * paddingHeight)×\(width + 2 * paddingWidth) of input \(inputShape) with padding \(padding)")
    outHeight = (height + 2 * paddingHeight - kernelHeight) / strideHeight + 1
    outWidth = (width + 2 * paddingWidth - kernelWidth) / strideWidth + 1
  }

  /// Images whose column matrices fit together in the scratch budget.
  var imagesPerChunk: Int {
    // 4 Mi scalars (16 MiB in Float) bounds the scratch memory; a single
    // image larger than that still gets its own chunk.
    let budget = 1 << 22
    return max(1, min(batch, budget / max(1, patchSize * outputArea)))
  }

  /// The outputs `o` in `0..<count` whose input position `o·stride + offset`
  /// lies in `0..<size`; a contiguous range.
  @inline(__always)
  static func validOutputs(offset: Int, stride: Int, size: Int, count: Int) -> Range<Int> {
    let lower = min(count, offset >= 0 ? 0 : (-offset + stride - 1) / stride)
    let upper = size - offset <= 0 ? 0 : (size - offset - 1) / stride + 1
    return lower..<max(lower, min(upper, count))
  }
}

extension Tensor {
  /// Writes the column matrices of `imageCount` images of `input` (each
  /// `[C, H, W]`, back to back) into `columns` (each `[C·KH·KW, OH·OW]`,
  /// back to back), zero where a receptive field covers padding.
  /// - Complexity: O(imageCount·C·KH·KW·OH·OW), split across cores over
  ///   (image, channel) pairs.
  @inline(__always)
  static func im2col(
    _ input: UnsafePointer<Scalar>, imageCount: Int, into columns: UnsafeMutablePointer<Scalar>,
    geometry g: Convolution2DGeometry
  ) {
    let units = imageCount * g.inChannels
    let grain = max(1, Parallel.elementwiseGrain / max(1, g.kernelArea * g.outputArea))
    Parallel.forEachRange(count: units, grain: grain) { range in
      for unit in range {
        // Units are (image, channel) pairs, so `unit` indexes both the
        // input plane and the block of KH·KW rows it fills.
        let plane = input + unit * g.height * g.width
        let block = columns + unit * g.kernelArea * g.outputArea
        for kernelRow in 0..<g.kernelHeight {
          let rowOffset = kernelRow - g.paddingHeight
          let rows = Convolution2DGeometry.validOutputs(
            offset: rowOffset, stride: g.strideHeight, size: g.height, count: g.outHeight)
          for kernelColumn in 0..<g.kernelWidth {
            let columnOffset = kernelColumn - g.paddingWidth
            let columnsInside = Convolution2DGeometry.validOutputs(
              offset: columnOffset, stride: g.strideWidth, size: g.width, count: g.outWidth)
            let row = block + (kernelRow * g.kernelWidth + kernelColumn) * g.outputArea
            for outRow in 0..<g.outHeight {
              let destination = row + outRow * g.outWidth
              guard rows.contains(outRow) else {
                destination.update(repeating: 0, count: g.outWidth)
                continue
              }
              let source = plane + (outRow * g.strideHeight + rowOffset) * g.width + columnOffset
              destination.update(repeating: 0, count: columnsInside.lowerBound)
              if g.strideWidth == 1 {
                (destination + columnsInside.lowerBound).update(
                  from: source + columnsInside.lowerBound, count: columnsInside.count)
              } else {
                for outColumn in columnsInside {
                  destination[outColumn] = source[outColumn * g.strideWidth]
                }
              }
              (destination + columnsInside.upperBound).update(
                repeating: 0, count: g.outWidth - columnsInside.upperBound)
            }
          }
        }
      }
    }
  }

  /// The adjoint of ``im2col(_:imageCount:into:geometry:)``: overwrites
  /// `imageCount` images `[C, H, W]` of `output` with the sums of the
  /// column-matrix entries that read each input position; padding entries
  /// are dropped.
  /// - Complexity: O(imageCount·C·(H·W + KH·KW·OH·OW)), split across cores
  ///   over (image, channel) pairs, each of which owns its output plane.
  @inline(__always)
  static func col2im(
    _ columns: UnsafePointer<Scalar>, imageCount: Int, into output: UnsafeMutablePointer<Scalar>,
    geometry g: Convolution2DGeometry
  ) {
    let units = imageCount * g.inChannels
    let grain = max(1, Parallel.elementwiseGrain / max(1, g.kernelArea * g.outputArea))
    Parallel.forEachRange(count: units, grain: grain) { range in
      for unit in range {
        let plane = output + unit * g.height * g.width
        let block = columns + unit * g.kernelArea * g.outputArea
        plane.update(repeating: 0, count: g.height * g.width)
        for kernelRow in 0..<g.kernelHeight {
          let rowOffset = kernelRow - g.paddingHeight
          let rows = Convolution2DGeometry.validOutputs(
            offset: rowOffset, stride: g.strideHeight, size: g.height, count: g.outHeight)
          for kernelColumn in 0..<g.kernelWidth {
            let columnOffset = kernelColumn - g.paddingWidth
            let columnsInside = Convolution2DGeometry.validOutputs(
              offset: columnOffset, stride: g.strideWidth, size: g.width, count: g.outWidth)
            let row = block + (kernelRow * g.kernelWidth + kernelColumn) * g.outputArea
            for outRow in rows {
              let source = row + outRow * g.outWidth
              let destination = plane + (outRow * g.strideHeight + rowOffset) * g.width + columnOffset
              for outColumn in columnsInside {
                destination[outColumn * g.strideWidth] += source[outColumn]
              }
            }
          }
        }
      }
    }
  }
}

/// The 2-D convolution (cross-correlation) of a batch of images with a
/// filter bank, with zero padding.
///
/// `output[b, o, y, x] = bias[o] + Σ_{c, i, j} filter[o, c, i, j] ·
/// input[b, c, y·strides.0 + i − padding.0, x·strides.1 + j − padding.1]`,
/// reading zero outside the input.
///
/// - Parameters:
///   - input: `[batch, inChannels, height, width]` (NCHW).
///   - filter: `[outChannels, inChannels, kernelHeight, kernelWidth]`, a
///     nonempty kernel no larger than the padded input.
///   - bias: `[outChannels]`, added to every output pixel of its channel.
///   - strides: the steps (vertical, horizontal) between receptive fields, ≥ 1.
///   - padding: the zero rows and columns (vertical, horizontal) added on
///     each side, ≥ 0.
/// - Returns: `[batch, outChannels, outHeight, outWidth]` with
///   `outHeight = ⌊(height + 2·padding.0 − kernelHeight) / strides.0⌋ + 1`,
///   and `outWidth` likewise.
/// - Complexity: O(batch·outChannels·inChannels·kernelHeight·kernelWidth·outHeight·outWidth)
///   in one `gemm` per image, plus im2col copies split across cores. Scratch
///   memory is at most the column matrices of a few images (about 4 Mi
///   scalars), or none for a 1×1 kernel at stride 1 without padding.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func conv2d<Scalar: TensorScalar>(
  _ input: Tensor<Scalar>, filter: Tensor<Scalar>, bias: Tensor<Scalar>? = nil,
  strides: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)
) -> Tensor<Scalar> {
  let g = Convolution2DGeometry(
    inputShape: input.shape, filterShape: filter.shape, strides: strides, padding: padding,
    operation: "conv2d: input \(input.shape), filter \(filter.shape)")
  if let bias {
    precondition(
      bias.shape == [g.outChannels],
      "conv2d: bias \(bias.shape) is not [\(g.outChannels)] for filter \(filter.shape)")
  }
  let result = Tensor<Scalar>(uninitializedShape: g.outputShape)
  guard result.scalarCount > 0 else { return result }
  let output = result.storage.base
  // The bias seeds the output and gemm adds to it (β = 1).
  if let bias {
    let biasBase = bias.storage.base
    for plane in 0..<(g.batch * g.outChannels) {
      (output + plane * g.outputArea).update(repeating: biasBase[plane % g.outChannels], count: g.outputArea)
    }
  } else if g.patchSize == 0 {
    output.update(repeating: 0, count: result.scalarCount)
  }
  guard g.patchSize > 0 else { return result }
  let beta: Scalar = bias == nil ? 0 : 1
  let inputBase = UnsafePointer(input.storage.base)
  let filterBase = UnsafePointer(filter.storage.base)
  let outputImage = g.outChannels * g.outputArea
  let columnMatrix = g.patchSize * g.outputArea

  func multiply(image: Int, columns: UnsafePointer<Scalar>) {
    Scalar.gemm(
      .notTransposed, .notTransposed, m: g.outChannels, n: g.outputArea, k: g.patchSize,
      alpha: 1, a: filterBase, leadingDimensionA: g.patchSize,
      b: columns, leadingDimensionB: g.outputArea,
      beta: beta, c: output + image * outputImage, leadingDimensionC: g.outputArea)
  }
  if g.isPointwise {
    for image in 0..<g.batch { multiply(image: image, columns: inputBase + image * g.imageSize) }
    return result
  }
  let chunk = g.imagesPerChunk
  let scratch = Tensor<Scalar>(uninitializedShape: [chunk * columnMatrix])
  let columns = scratch.storage.base
  withExtendedLifetime(scratch) {
    for first in stride(from: 0, to: g.batch, by: chunk) {
      let count = min(chunk, g.batch - first)
      Tensor<Scalar>.im2col(inputBase + first * g.imageSize, imageCount: count, into: columns, geometry: g)
      for offset in 0..<count {
        multiply(image: first + offset, columns: columns + offset * columnMatrix)
      }
    }
  }
  return result
}

/// The transposed convolution: the gradient of ``conv2d(_:filter:bias:strides:padding:)``
/// with respect to its input, and the adjoint of that linear map, so that
/// `⟨conv2d(x, w), g⟩ = ⟨x, conv2dTransposed(g, w)⟩`.
///
/// `output[b, c, y, x] = Σ filter[o, c, i, j] · gradient[b, o, oy, ox]` over
/// every `(o, i, j, oy, ox)` with `oy·strides.0 + i − padding.0 = y` and
/// `ox·strides.1 + j − padding.1 = x`: each gradient pixel is spread over
/// its receptive field and overlaps add up.
///
/// - Parameters:
///   - gradient: `[batch, outChannels, outHeight, outWidth]`.
///   - filter: `[outChannels, inChannels, kernelHeight, kernelWidth]`, as
///     passed to `conv2d`.
///   - outputSize: `(height, width)` of the result, the input size of the
///     forward convolution; a convolution of that size with these strides
///     and padding yields `outHeight`×`outWidth`. Strides above 1 make
///     several sizes possible; `nil` picks the smallest,
///     `(outHeight − 1)·strides.0 + kernelHeight − 2·padding.0` (likewise for
///     the width).
///   - strides, padding: as passed to `conv2d`.
/// - Returns: `[batch, inChannels, height, width]`.
/// - Complexity: O(batch·outChannels·inChannels·kernelHeight·kernelWidth·outHeight·outWidth)
///   in one `gemm` per image, plus col2im sums split across cores; scratch as
///   for `conv2d`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func conv2dTransposed<Scalar: TensorScalar>(
  _ gradient: Tensor<Scalar>, filter: Tensor<Scalar>, outputSize: (Int, Int)? = nil,
  strides: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)
) -> Tensor<Scalar> {
  let operation = "conv2dTransposed: gradient \(gradient.shape), filter \(filter.shape)"
  precondition(
    gradient.rank == 4, "\(operation): gradient is not [batch, outChannels, outHeight, outWidth]")
  precondition(
    filter.rank == 4, "\(operation): filter is not [outChannels, inChannels, kernelHeight, kernelWidth]")
  precondition(
    gradient.shape[1] == filter.shape[0],
    "\(operation): gradient has \(gradient.shape[1]) channels, filter has \(filter.shape[0]) outputs")
  let size =
    outputSize
    ?? ((gradient.shape[2] - 1) * strides.0 + filter.shape[2] - 2 * padding.0,
      (gradient.shape[3] - 1) * strides.1 + filter.shape[3] - 2 * padding.1)
  precondition(
    size.0 >= 0 && size.1 >= 0, "\(operation): output size \(size) with strides \(strides), padding \(padding)")
  let g = Convolution2DGeometry(
    inputShape: [gradient.shape[0], filter.shape[1], size.0, size.1], filterShape: filter.shape,
    strides: strides, padding: padding, operation: operation)
  precondition(
    g.outputShape == gradient.shape,
    "\(operation): a conv2d of input \(g.inputShape) with strides \(strides) and padding \(padding) "
      + "gives \(g.outputShape), not the gradient's shape")
  let result = Tensor<Scalar>(uninitializedShape: g.inputShape)
  guard result.scalarCount > 0 else { return result }
  let output = result.storage.base
  guard g.outChannels > 0 else {
    output.update(repeating: 0, count: result.scalarCount)
    return result
  }
  let gradientBase = UnsafePointer(gradient.storage.base)
  let filterBase = UnsafePointer(filter.storage.base)
  let gradientImage = g.outChannels * g.outputArea
  let columnMatrix = g.patchSize * g.outputArea

  // columns = filterᵀ [C·KH·KW, O] × gradient [O, OH·OW], for one image.
  func multiply(image: Int, columns: UnsafeMutablePointer<Scalar>) {
    Scalar.gemm(
      .transposed, .notTransposed, m: g.patchSize, n: g.outputArea, k: g.outChannels,
      alpha: 1, a: filterBase, leadingDimensionA: g.patchSize,
      b: gradientBase + image * gradientImage, leadingDimensionB: g.outputArea,
      beta: 0, c: columns, leadingDimensionC: g.outputArea)
  }
  if g.isPointwise {
    for image in 0..<g.batch { multiply(image: image, columns: output + image * g.imageSize) }
    return result
  }
  let chunk = g.imagesPerChunk
  let scratch = Tensor<Scalar>(uninitializedShape: [chunk * columnMatrix])
  let columns = scratch.storage.base
  withExtendedLifetime(scratch) {
    for first in stride(from: 0, to: g.batch, by: chunk) {
      let count = min(chunk, g.batch - first)
      for offset in 0..<count {
        multiply(image: first + offset, columns: columns + offset * columnMatrix)
      }
      Tensor<Scalar>.col2im(columns, imageCount: count, into: output + first * g.imageSize, geometry: g)
    }
  }
  return result
}

/// The gradient of ``conv2d(_:filter:bias:strides:padding:)`` with respect
/// to its filter, so that `⟨conv2d(x, w), g⟩ = ⟨w, conv2dFilterGradient(input: x, outputGradient: g, …)⟩`.
///
/// `result[o, c, i, j] = Σ_{b, oy, ox} outputGradient[b, o, oy, ox] ·
/// input[b, c, oy·strides.0 + i − padding.0, ox·strides.1 + j − padding.1]`,
/// reading zero outside the input. The bias gradient, the sum of
/// `outputGradient` over its axes 0, 2 and 3, is left to the caller.
///
/// - Parameters:
///   - input: `[batch, inChannels, height, width]`, as passed to `conv2d`.
///   - outputGradient: `[batch, outChannels, outHeight, outWidth]`, the shape
///     `conv2d` returns for this input and filter shape.
///   - filterShape: `[outChannels, inChannels, kernelHeight, kernelWidth]`.
///   - strides, padding: as passed to `conv2d`.
/// - Returns: `filterShape`; zeros when the batch is empty.
/// - Complexity: O(batch·outChannels·inChannels·kernelHeight·kernelWidth·outHeight·outWidth)
///   in one `gemm` per image accumulating into the result, plus im2col
///   copies split across cores; scratch as for `conv2d`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func conv2dFilterGradient<Scalar: TensorScalar>(
  input: Tensor<Scalar>, outputGradient: Tensor<Scalar>, filterShape: [Int],
  strides: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)
) -> Tensor<Scalar> {
  let operation = "conv2dFilterGradient: input \(input.shape), outputGradient \(outputGradient.shape), filterShape \(filterShape)"
  let g = Convolution2DGeometry(
    inputShape: input.shape, filterShape: filterShape, strides: strides, padding: padding,
    operation: operation)
  precondition(
    outputGradient.shape == g.outputShape,
    "\(operation): conv2d with strides \(strides) and padding \(padding) gives \(g.outputShape)")
  let result = Tensor<Scalar>(uninitializedShape: filterShape)
  guard result.scalarCount > 0 else { return result }
  let output = result.storage.base
  guard g.batch > 0 else {
    output.update(repeating: 0, count: result.scalarCount)
    return result
  }
  let inputBase = UnsafePointer(input.storage.base)
  let gradientBase = UnsafePointer(outputGradient.storage.base)
  let gradientImage = g.outChannels * g.outputArea
  let columnMatrix = g.patchSize * g.outputArea

  // result [O, C·KH·KW] (+)= gradient [O, OH·OW] × columnsᵀ; the first
  // image overwrites (β = 0), the others accumulate.
  func accumulate(image: Int, columns: UnsafePointer<Scalar>) {
    Scalar.gemm(
      .notTransposed, .transposed, m: g.outChannels, n: g.patchSize, k: g.outputArea,
      alpha: 1, a: gradientBase + image * gradientImage, leadingDimensionA: g.outputArea,
      b: columns, leadingDimensionB: g.outputArea,
      beta: image == 0 ? 0 : 1, c: output, leadingDimensionC: g.patchSize)
  }
  if g.isPointwise {
    for image in 0..<g.batch { accumulate(image: image, columns: inputBase + image * g.imageSize) }
    return result
  }
  let chunk = g.imagesPerChunk
  let scratch = Tensor<Scalar>(uninitializedShape: [chunk * columnMatrix])
  let columns = scratch.storage.base
  withExtendedLifetime(scratch) {
    for first in stride(from: 0, to: g.batch, by: chunk) {
      let count = min(chunk, g.batch - first)
      Tensor<Scalar>.im2col(inputBase + first * g.imageSize, imageCount: count, into: columns, geometry: g)
      for offset in 0..<count {
        accumulate(image: first + offset, columns: columns + offset * columnMatrix)
      }
    }
  }
  return result
}
