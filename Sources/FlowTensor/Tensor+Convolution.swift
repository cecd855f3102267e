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
//
// All three functions are differentiable (rules in
// Tensor+Convolution+Derivatives.swift): each is bilinear, and the three are
// one another's adjoints.

/// The 2-D convolution (cross-correlation) of a batch of images with a
/// filter bank, with zero padding; differentiable in all three operands.
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
///   in one `gemm` per chunk of images sharing a column matrix, plus im2col
///   copies split across cores. Scratch memory is at most about 4 Mi scalars
///   (the chunk's column matrix and its channel-major output).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func conv2d<Scalar: TensorScalar>(
  _ input: Tensor<Scalar>, filter: Tensor<Scalar>, bias: Tensor<Scalar>? = nil,
  strides: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)
) -> Tensor<Scalar> {
  let value = conv2dValue(input, filter: filter, bias: bias, strides: strides, padding: padding)
  guard input.autodiff != nil || filter.autodiff != nil || bias?.autodiff != nil else { return value }
  return conv2dDerived(value, input: input, filter: filter, bias: bias, strides: strides, padding: padding)
}

/// The value of ``conv2d(_:filter:bias:strides:padding:)``, without derivatives.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func conv2dValue<Scalar: TensorScalar>(
  _ input: Tensor<Scalar>, filter: Tensor<Scalar>, bias: Tensor<Scalar>?,
  strides: (Int, Int), padding: (Int, Int)
) -> Tensor<Scalar> {
  let g = Convolution2DGeometry(
    inputShape: input.shape, filterShape: filter.shape, strides: strides, padding: padding,
    operation: "conv2d: input \(input.shape), filter \(filter.shape)")
  if let bias {
    precondition(
      bias.shape == [g.outChannels],
      "conv2d: bias \(bias.shape) is not [\(g.outChannels)] for filter \(filter.shape)")
  }
  if g.prefersDualForm(columnChannels: g.inChannels, dualChannels: g.outChannels) {
    // Fewer output than input channels: the adjoint form's column matrix
    // has outChannels·KH·KW rows instead of inChannels·KH·KW.
    var result = conv2dTransposedValue(
      input, filter: flippedFilter(filter), outputSize: (g.outHeight, g.outWidth), strides: (1, 1),
      padding: g.dualPadding)
    if let bias { addBias(bias, to: &result) }
    return result
  }
  let result = Tensor<Scalar>(uninitializedShape: g.outputShape)
  guard result.scalarCount > 0 else { return result }
  let output = result.storage.base
  guard g.patchSize > 0 else {
    // An empty sum: the bias alone, or zeros.
    for plane in 0..<(g.batch * g.outChannels) {
      (output + plane * g.outputArea).update(
        repeating: bias.map { $0.storage.base[plane % g.outChannels] } ?? 0, count: g.outputArea)
    }
    return result
  }
  let inputBase = UnsafePointer(input.storage.base)
  let filterBase = UnsafePointer(filter.storage.base)
  let area = g.outputArea
  // Images first..<first+count, through scratch for that many: the
  // column matrix (none for one image of a pointwise convolution, whose
  // column matrix is the image) and the channel-major product (none for
  // one image, whose product is its output).
  func convolve(first: Int, count: Int, columns: UnsafeMutablePointer<Scalar>, product: UnsafeMutablePointer<Scalar>) {
    let rowLength = count * area
    var source = UnsafePointer(columns)
    if count == 1 && g.isPointwise {
      source = inputBase + first * g.imageSize
    } else {
      Tensor<Scalar>.im2col(inputBase + first * g.imageSize, imageCount: count, into: columns, geometry: g)
    }
    let target = count == 1 ? output + first * g.outChannels * area : product
    // The bias seeds the product and gemm adds to it (β = 1).
    if let bias {
      let biasBase = bias.storage.base
      for channel in 0..<g.outChannels {
        (target + channel * rowLength).update(repeating: biasBase[channel], count: rowLength)
      }
    }
    // product [O, count·OH·OW] = filter [O, C·KH·KW] × columns.
    Scalar.gemm(
      .notTransposed, .notTransposed, m: g.outChannels, n: rowLength, k: g.patchSize,
      alpha: 1, a: filterBase, leadingDimensionA: g.patchSize,
      b: source, leadingDimensionB: rowLength,
      beta: bias == nil ? 0 : 1, c: target, leadingDimensionC: rowLength)
    if count > 1 {
      Tensor<Scalar>.transposeImageBlocks(
        product, rows: g.outChannels, columns: count, blockSize: area, into: output + first * g.outChannels * area)
    }
  }
  if g.prefersImagesInParallel {
    Parallel.forEachRange(count: g.batch, grain: 1) { images in
      let columns = TensorStorage<Scalar>.make(uninitializedCount: g.isPointwise ? 1 : g.patchSize * area)
      for image in images { convolve(first: image, count: 1, columns: columns.base, product: columns.base) }
      withExtendedLifetime(columns) {}
    }
    return result
  }
  let chunk = g.imagesPerChunk
  let columns = TensorStorage<Scalar>.make(uninitializedCount: g.patchSize * chunk * area)
  let product = TensorStorage<Scalar>.make(uninitializedCount: g.outChannels * chunk * area)
  for first in stride(from: 0, to: g.batch, by: chunk) {
    convolve(first: first, count: min(chunk, g.batch - first), columns: columns.base, product: product.base)
  }
  withExtendedLifetime((columns, product)) {}
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
///   in one `gemm` per chunk of images, plus col2im sums split across cores;
///   scratch as for `conv2d`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func conv2dTransposed<Scalar: TensorScalar>(
  _ gradient: Tensor<Scalar>, filter: Tensor<Scalar>, outputSize: (Int, Int)? = nil,
  strides: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)
) -> Tensor<Scalar> {
  let value = conv2dTransposedValue(
    gradient, filter: filter, outputSize: outputSize, strides: strides, padding: padding)
  guard gradient.autodiff != nil || filter.autodiff != nil else { return value }
  return conv2dTransposedDerived(value, gradient: gradient, filter: filter, strides: strides, padding: padding)
}

/// The value of ``conv2dTransposed(_:filter:outputSize:strides:padding:)``, without derivatives.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func conv2dTransposedValue<Scalar: TensorScalar>(
  _ gradient: Tensor<Scalar>, filter: Tensor<Scalar>, outputSize: (Int, Int)?,
  strides: (Int, Int), padding: (Int, Int)
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
    size.0 >= 0 && size.1 >= 0,
    "\(operation): output size \(size) is negative with strides \(strides) and padding \(padding)")
  let g = Convolution2DGeometry(
    inputShape: [gradient.shape[0], filter.shape[1], size.0, size.1], filterShape: filter.shape,
    strides: strides, padding: padding, operation: operation)
  precondition(
    g.outputShape == gradient.shape,
    "\(operation): a conv2d of input \(g.inputShape) with strides \(strides) and padding \(padding) "
      + "gives \(g.outputShape), not the gradient's shape")
  if g.prefersDualForm(columnChannels: g.inChannels, dualChannels: g.outChannels) {
    // col2im's column matrix has inChannels·KH·KW rows; the forward form's
    // im2col of the gradient has outChannels·KH·KW.
    return conv2dValue(
      gradient, filter: flippedFilter(filter), bias: nil, strides: (1, 1), padding: g.dualPadding)
  }
  let result = Tensor<Scalar>(uninitializedShape: g.inputShape)
  guard result.scalarCount > 0 else { return result }
  let output = result.storage.base
  guard g.outChannels > 0 else {
    output.update(repeating: 0, count: result.scalarCount)
    return result
  }
  let gradientBase = UnsafePointer(gradient.storage.base)
  let filterBase = UnsafePointer(filter.storage.base)
  let area = g.outputArea
  // Images first..<first+count, through scratch for that many: the
  // channel-major gradient (none for one image, whose gradient is already
  // [O, OH·OW]) and the column matrix (none for one image of a pointwise
  // convolution, whose column matrix is its output).
  func spread(first: Int, count: Int, columns: UnsafeMutablePointer<Scalar>, gathered: UnsafeMutablePointer<Scalar>) {
    let rowLength = count * area
    var source = gradientBase + first * g.outChannels * area
    if count > 1 {
      Tensor<Scalar>.transposeImageBlocks(
        source, rows: count, columns: g.outChannels, blockSize: area, into: gathered)
      source = UnsafePointer(gathered)
    }
    let direct = count == 1 && g.isPointwise
    // columns [C·KH·KW, count·OH·OW] = filterᵀ × gradient [O, count·OH·OW].
    Scalar.gemm(
      .transposed, .notTransposed, m: g.patchSize, n: rowLength, k: g.outChannels,
      alpha: 1, a: filterBase, leadingDimensionA: g.patchSize,
      b: source, leadingDimensionB: rowLength,
      beta: 0, c: direct ? output + first * g.imageSize : columns, leadingDimensionC: rowLength)
    if !direct {
      Tensor<Scalar>.col2im(columns, imageCount: count, into: output + first * g.imageSize, geometry: g)
    }
  }
  if g.prefersImagesInParallel {
    Parallel.forEachRange(count: g.batch, grain: 1) { images in
      let columns = TensorStorage<Scalar>.make(uninitializedCount: g.isPointwise ? 1 : g.patchSize * area)
      for image in images { spread(first: image, count: 1, columns: columns.base, gathered: columns.base) }
      withExtendedLifetime(columns) {}
    }
    return result
  }
  let chunk = g.imagesPerChunk
  let columns = TensorStorage<Scalar>.make(uninitializedCount: g.patchSize * chunk * area)
  let gathered = TensorStorage<Scalar>.make(uninitializedCount: g.outChannels * chunk * area)
  for first in stride(from: 0, to: g.batch, by: chunk) {
    spread(first: first, count: min(chunk, g.batch - first), columns: columns.base, gathered: gathered.base)
  }
  withExtendedLifetime((columns, gathered)) {}
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
///   in one `gemm` per chunk of images accumulating into the result, plus im2col
///   copies split across cores; scratch as for `conv2d`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func conv2dFilterGradient<Scalar: TensorScalar>(
  input: Tensor<Scalar>, outputGradient: Tensor<Scalar>, filterShape: [Int],
  strides: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)
) -> Tensor<Scalar> {
  let value = conv2dFilterGradientValue(
    input: input, outputGradient: outputGradient, filterShape: filterShape, strides: strides, padding: padding)
  guard input.autodiff != nil || outputGradient.autodiff != nil else { return value }
  return conv2dFilterGradientDerived(
    value, input: input, outputGradient: outputGradient, strides: strides, padding: padding)
}

/// The value of ``conv2dFilterGradient(input:outputGradient:filterShape:strides:padding:)``,
/// without derivatives.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func conv2dFilterGradientValue<Scalar: TensorScalar>(
  input: Tensor<Scalar>, outputGradient: Tensor<Scalar>, filterShape: [Int],
  strides: (Int, Int), padding: (Int, Int)
) -> Tensor<Scalar> {
  let operation = "conv2dFilterGradient: input \(input.shape), outputGradient \(outputGradient.shape), filterShape \(filterShape)"
  let g = Convolution2DGeometry(
    inputShape: input.shape, filterShape: filterShape, strides: strides, padding: padding,
    operation: operation)
  precondition(
    outputGradient.shape == g.outputShape,
    "\(operation): conv2d with strides \(strides) and padding \(padding) gives \(g.outputShape)")
  if g.prefersDualForm(columnChannels: g.inChannels, dualChannels: g.outChannels) {
    // ⟨conv2d(x, w), g⟩ = ⟨conv2d(g, flip(w), dual padding), x⟩, so the
    // filter gradient is the flipped filter gradient of that convolution,
    // whose im2col reads the gradient's outChannels instead of the input's
    // inChannels.
    let dual = conv2dFilterGradientValue(
      input: outputGradient, outputGradient: input,
      filterShape: [g.inChannels, g.outChannels, g.kernelHeight, g.kernelWidth],
      strides: (1, 1), padding: g.dualPadding)
    return flippedFilter(dual)
  }
  let result = Tensor<Scalar>(uninitializedShape: filterShape)
  guard result.scalarCount > 0 else { return result }
  let output = result.storage.base
  guard g.batch > 0 else {
    output.update(repeating: 0, count: result.scalarCount)
    return result
  }
  let inputBase = UnsafePointer(input.storage.base)
  let gradientBase = UnsafePointer(outputGradient.storage.base)
  let area = g.outputArea
  // Adds (or, with `accumulate` false, writes) the filter gradient of
  // images first..<first+count into `target` [O, C·KH·KW], through
  // scratch as in conv2d.
  func correlate(
    first: Int, count: Int, accumulate: Bool, into target: UnsafeMutablePointer<Scalar>,
    columns: UnsafeMutablePointer<Scalar>, gathered: UnsafeMutablePointer<Scalar>
  ) {
    let rowLength = count * area
    var source = UnsafePointer(columns)
    if count == 1 && g.isPointwise {
      source = inputBase + first * g.imageSize
    } else {
      Tensor<Scalar>.im2col(inputBase + first * g.imageSize, imageCount: count, into: columns, geometry: g)
    }
    var gradientSource = gradientBase + first * g.outChannels * area
    if count > 1 {
      Tensor<Scalar>.transposeImageBlocks(
        gradientSource, rows: count, columns: g.outChannels, blockSize: area, into: gathered)
      gradientSource = UnsafePointer(gathered)
    }
    // target [O, C·KH·KW] (+)= gradient [O, count·OH·OW] × columnsᵀ.
    Scalar.gemm(
      .notTransposed, .transposed, m: g.outChannels, n: g.patchSize, k: rowLength,
      alpha: 1, a: gradientSource, leadingDimensionA: rowLength,
      b: source, leadingDimensionB: rowLength,
      beta: accumulate ? 1 : 0, c: target, leadingDimensionC: g.patchSize)
  }
  let filterCount = result.scalarCount
  if g.prefersImagesInParallel {
    // Each thread sums its own images into its own partial gradient; the
    // partials are added in a fixed order, so a run is reproducible.
    let parts = min(Parallel.threadCount, g.batch)
    let partials = TensorStorage<Scalar>.make(uninitializedCount: parts * filterCount)
    Parallel.forEachRange(count: parts, grain: 1) { range in
      let columns = TensorStorage<Scalar>.make(uninitializedCount: g.isPointwise ? 1 : g.patchSize * area)
      for part in range {
        let images = (g.batch * part / parts)..<(g.batch * (part + 1) / parts)
        for image in images {
          correlate(
            first: image, count: 1, accumulate: image != images.lowerBound, into: partials.base + part * filterCount,
            columns: columns.base, gathered: columns.base)
        }
      }
      withExtendedLifetime(columns) {}
    }
    output.update(from: partials.base, count: filterCount)
    for part in 1..<parts {
      let partial = partials.base + part * filterCount
      for index in 0..<filterCount { output[index] += partial[index] }
    }
    withExtendedLifetime(partials) {}
    return result
  }
  let chunk = g.imagesPerChunk
  let columns = TensorStorage<Scalar>.make(uninitializedCount: g.patchSize * chunk * area)
  let gathered = TensorStorage<Scalar>.make(uninitializedCount: g.outChannels * chunk * area)
  for first in stride(from: 0, to: g.batch, by: chunk) {
    correlate(
      first: first, count: min(chunk, g.batch - first), accumulate: first > 0, into: output,
      columns: columns.base, gathered: gathered.base)
  }
  withExtendedLifetime((columns, gathered)) {}
  return result
}

/// The filter of the adjoint convolution at stride 1: `[inChannels,
/// outChannels, KH, KW]` from `[outChannels, inChannels, KH, KW]`, each
/// kernel rotated by 180°. With it, `conv2d(x, w, padding: p)` equals
/// `conv2dTransposed(x, flippedFilter(w), padding: K − 1 − p)`, and the
/// transposed convolution equals a forward one likewise: the two ways to
/// compute a stride-1 convolution, one through im2col of its input, the
/// other through col2im of its output.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func flippedFilter<Scalar: TensorScalar>(_ filter: Tensor<Scalar>) -> Tensor<Scalar> {
  let (outChannels, inChannels, height, width) = (filter.shape[0], filter.shape[1], filter.shape[2], filter.shape[3])
  let result = Tensor<Scalar>(uninitializedShape: [inChannels, outChannels, height, width])
  let source = filter.storage.base
  let destination = result.storage.base
  let area = height * width
  for output in 0..<outChannels {
    for input in 0..<inChannels {
      let from = source + (output * inChannels + input) * area
      let to = destination + (input * outChannels + output) * area
      for index in 0..<area { to[area - 1 - index] = from[index] }
    }
  }
  withExtendedLifetime(filter) {}
  return result
}

/// Adds `bias[o]` to every pixel of channel `o` of `[batch, O, H, W]`, in place.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func addBias<Scalar: TensorScalar>(_ bias: Tensor<Scalar>, to result: inout Tensor<Scalar>) {
  let (channels, area) = (result.shape[1], result.shape[2] * result.shape[3])
  let planes = result.shape[0] * channels
  let base = result.storage.base
  let biasBase = bias.storage.base
  Parallel.forEachRange(count: planes, grain: max(1, Parallel.elementwiseGrain / max(1, area))) { range in
    for plane in range {
      let value = biasBase[plane % channels]
      let start = base + plane * area
      for index in 0..<area { start[index] += value }
    }
  }
  withExtendedLifetime(bias) {}
}
