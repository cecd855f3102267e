// The im2col layout behind the convolutions of Tensor+Convolution.swift:
// the sizes of one convolution, and the copy of images into column matrices
// (im2col) and its adjoint, the scatter-add back (col2im).
//
// A chunk of `count` images shares ONE column matrix `[C·KH·KW, count·OH·OW]`
// (image i owns columns i·OH·OW ..< (i+1)·OH·OW), so each convolution is one
// large `gemm` per chunk instead of one small `gemm` per image: with
// CDFlow's 14×14 images, 64 channels and batch 64, per-image products are
// 64×196×36 and OpenBLAS spent more time waking and synchronising its
// threads than multiplying. Images move between their NCHW layout and the
// chunk's channel-major layout `[channels, count, area]` through
// ``Tensor/transposeImageBlocks(_:rows:columns:blockSize:into:)``.

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
  /// Whether the output has the input's size at stride 1 ("same"
  /// padding, as every convolution of a Glow-style conditioner): then each
  /// kernel position's row of the column matrix is the input plane shifted
  /// by a fixed offset, copied in one piece rather than row by row.
  var isShiftedPlane: Bool {
    strideHeight == 1 && strideWidth == 1 && outHeight == height && outWidth == width
      && paddingHeight < height && paddingWidth < width
  }
  /// Whether the column matrix of an image is the image itself: a 1×1
  /// kernel at stride 1 without padding.
  var isPointwise: Bool {
    kernelArea == 1 && strideHeight == 1 && strideWidth == 1 && paddingHeight == 0 && paddingWidth == 0
  }

  /// Output pixels per image from which each image is convolved on its own,
  /// images split across threads, instead of in chunks of images sharing
  /// one column matrix (one larger `gemm`, but copies between the NCHW and
  /// channel-major layouts around it).
  /// (Measured on CDFlow's training step, one thread: 14×14 images one by
  /// one took 10% less CPU time than in chunks; 7×7 ones were even.)
  static let imagesInParallelMinimumArea = 128

  /// Whether to convolve images one by one, split across threads: when
  /// each image's `gemm` is wide enough to be efficient on its own and
  /// there are enough images to share out.
  var prefersImagesInParallel: Bool {
    outputArea >= Self.imagesInParallelMinimumArea && batch >= 2 * Parallel.threadCount
  }

  /// The padding of the adjoint form at stride 1, `K − 1 − padding`.
  var dualPadding: (Int, Int) { (kernelHeight - 1 - paddingHeight, kernelWidth - 1 - paddingWidth) }

  /// Whether a stride-1 convolution whose column matrix would read
  /// `columnChannels` channels is cheaper in its adjoint form, which reads
  /// `dualChannels`: the column matrix is the op's largest temporary and
  /// the copies into and out of it cost more than the `gemm` when one side
  /// has few channels (a Glow conditioner's last 3×3 maps 64 channels to 4).
  /// Needs padding ≤ K − 1 so that the adjoint's padding is not negative.
  func prefersDualForm(columnChannels: Int, dualChannels: Int) -> Bool {
    strideHeight == 1 && strideWidth == 1 && kernelArea > 1
      && paddingHeight <= kernelHeight - 1 && paddingWidth <= kernelWidth - 1
      && dualChannels > 0 && 2 * dualChannels <= columnChannels && batch > 0 && height > 0 && width > 0
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

  /// Images whose column matrix and channel-major output (or gradient)
  /// fit together in the scratch budget.
  var imagesPerChunk: Int {
    // 4 Mi scalars (16 MiB in Float) bounds the scratch memory; a single
    // image larger than that still gets its own chunk.
    let budget = 1 << 22
    return max(1, min(batch, budget / max(1, (patchSize + outChannels) * outputArea)))
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
  /// Writes the shared column matrix `[C·KH·KW, imageCount·OH·OW]` of
  /// `imageCount` images of `input` (each `[C, H, W]`, back to back) into
  /// `columns`, zero where a receptive field covers padding.
  /// - Complexity: O(imageCount·C·KH·KW·OH·OW), split across cores over
  ///   (image, channel) pairs.
  @inline(__always)
  static func im2col(
    _ input: UnsafePointer<Scalar>, imageCount: Int, into columns: UnsafeMutablePointer<Scalar>,
    geometry g: Convolution2DGeometry
  ) {
    let units = imageCount * g.inChannels
    let rowLength = imageCount * g.outputArea
    let grain = max(1, Parallel.elementwiseGrain / max(1, g.kernelArea * g.outputArea))
    Parallel.forEachRange(count: units, grain: grain) { range in
      for unit in range {
        // Units are (image, channel) pairs: `unit` indexes the input plane;
        // the pair picks the block of KH·KW rows and the image's columns.
        let (image, channel) = unit.quotientAndRemainder(dividingBy: g.inChannels)
        let plane = input + unit * g.height * g.width
        let block = columns + channel * g.kernelArea * rowLength + image * g.outputArea
        if g.isShiftedPlane {
          shiftedPlaneColumns(plane, into: block, rowLength: rowLength, geometry: g)
          continue
        }
        for kernelRow in 0..<g.kernelHeight {
          let rowOffset = kernelRow - g.paddingHeight
          let rows = Convolution2DGeometry.validOutputs(
            offset: rowOffset, stride: g.strideHeight, size: g.height, count: g.outHeight)
          for kernelColumn in 0..<g.kernelWidth {
            let columnOffset = kernelColumn - g.paddingWidth
            let columnsInside = Convolution2DGeometry.validOutputs(
              offset: columnOffset, stride: g.strideWidth, size: g.width, count: g.outWidth)
            let row = block + (kernelRow * g.kernelWidth + kernelColumn) * rowLength
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
  /// entries of the shared column matrix `[C·KH·KW, imageCount·OH·OW]` that
  /// read each input position; padding entries are dropped (and, with
  /// same-size geometry, overwritten with zeros in `columns`).
  /// - Complexity: O(imageCount·C·(H·W + KH·KW·OH·OW)), split across cores
  ///   over (image, channel) pairs, each of which owns its output plane.
  @inline(__always)
  static func col2im(
    _ columns: UnsafeMutablePointer<Scalar>, imageCount: Int, into output: UnsafeMutablePointer<Scalar>,
    geometry g: Convolution2DGeometry
  ) {
    let units = imageCount * g.inChannels
    let rowLength = imageCount * g.outputArea
    let grain = max(1, Parallel.elementwiseGrain / max(1, g.kernelArea * g.outputArea))
    Parallel.forEachRange(count: units, grain: grain) { range in
      for unit in range {
        let (image, channel) = unit.quotientAndRemainder(dividingBy: g.inChannels)
        let plane = output + unit * g.height * g.width
        let block = columns + channel * g.kernelArea * rowLength + image * g.outputArea
        plane.update(repeating: 0, count: g.height * g.width)
        if g.isShiftedPlane {
          accumulateShiftedPlanes(block, rowLength: rowLength, into: plane, geometry: g)
          continue
        }
        for kernelRow in 0..<g.kernelHeight {
          let rowOffset = kernelRow - g.paddingHeight
          let rows = Convolution2DGeometry.validOutputs(
            offset: rowOffset, stride: g.strideHeight, size: g.height, count: g.outHeight)
          for kernelColumn in 0..<g.kernelWidth {
            let columnOffset = kernelColumn - g.paddingWidth
            let columnsInside = Convolution2DGeometry.validOutputs(
              offset: columnOffset, stride: g.strideWidth, size: g.width, count: g.outWidth)
            let row = block + (kernelRow * g.kernelWidth + kernelColumn) * rowLength
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

  /// Copies a `[rows, columns]` grid of contiguous blocks of `blockSize`
  /// scalars into its transpose `[columns, rows]`: `[count, C, area]` images
  /// into the channel-major layout `[C, count, area]` of a chunk's column
  /// matrix, or back.
  /// - Complexity: O(rows·columns·blockSize), split across cores.
  @inline(__always)
  static func transposeImageBlocks(
    _ source: UnsafePointer<Scalar>, rows: Int, columns: Int, blockSize: Int,
    into destination: UnsafeMutablePointer<Scalar>
  ) {
    let grain = max(1, Parallel.elementwiseGrain / max(1, blockSize))
    Parallel.forEachRange(count: rows * columns, grain: grain) { range in
      for block in range {
        let (row, column) = block.quotientAndRemainder(dividingBy: columns)
        (destination + (column * rows + row) * blockSize).update(from: source + block * blockSize, count: blockSize)
      }
    }
  }

  /// im2col of one input plane `[H, W]` when ``Convolution2DGeometry/isShiftedPlane``:
  /// row `(i, j)` of the block (`rowLength` apart) is the plane shifted by
  /// `(i − padding.0)·W + j − padding.1`, copied in one piece, with zeros
  /// over the rows and the `|j − padding.1|` columns that fall on padding.
  @inline(__always)
  static func shiftedPlaneColumns(
    _ plane: UnsafePointer<Scalar>, into block: UnsafeMutablePointer<Scalar>, rowLength: Int,
    geometry g: Convolution2DGeometry
  ) {
    let width = g.width
    for kernelRow in 0..<g.kernelHeight {
      let rowOffset = kernelRow - g.paddingHeight
      let rows = Convolution2DGeometry.validOutputs(offset: rowOffset, stride: 1, size: g.height, count: g.height)
      for kernelColumn in 0..<g.kernelWidth {
        let columnOffset = kernelColumn - g.paddingWidth
        let row = block + (kernelRow * g.kernelWidth + kernelColumn) * rowLength
        row.update(repeating: 0, count: rows.lowerBound * width)
        (row + rows.upperBound * width).update(repeating: 0, count: (g.height - rows.upperBound) * width)
        guard !rows.isEmpty else { continue }
        // Entry y·W + x reads plane[(y + rowOffset)·W + x + columnOffset];
        // the span starts and ends where that index stays inside the plane.
        let start = rows.lowerBound * width + max(0, -columnOffset)
        let end = rows.upperBound * width - max(0, columnOffset)
        (row + start).update(from: plane + start + rowOffset * width + columnOffset, count: end - start)
        // The entries whose column x + columnOffset left the row read the
        // neighbouring row: they are padding.
        let edge = columnOffset < 0 ? 0 : width - columnOffset
        for outRow in rows {
          (row + outRow * width + edge).update(repeating: 0, count: abs(columnOffset))
        }
      }
    }
  }

  /// col2im of one plane `[H, W]` when ``Convolution2DGeometry/isShiftedPlane``:
  /// the adjoint of ``shiftedPlaneColumns(_:into:rowLength:geometry:)``. The
  /// block's entries that fall on padding are zeroed first, so that each
  /// kernel position adds one contiguous span into `plane`.
  @inline(__always)
  static func accumulateShiftedPlanes(
    _ block: UnsafeMutablePointer<Scalar>, rowLength: Int, into plane: UnsafeMutablePointer<Scalar>,
    geometry g: Convolution2DGeometry
  ) {
    let width = g.width
    for kernelRow in 0..<g.kernelHeight {
      let rowOffset = kernelRow - g.paddingHeight
      let rows = Convolution2DGeometry.validOutputs(offset: rowOffset, stride: 1, size: g.height, count: g.height)
      guard !rows.isEmpty else { continue }
      for kernelColumn in 0..<g.kernelWidth {
        let columnOffset = kernelColumn - g.paddingWidth
        let row = block + (kernelRow * g.kernelWidth + kernelColumn) * rowLength
        let edge = columnOffset < 0 ? 0 : width - columnOffset
        for outRow in rows {
          (row + outRow * width + edge).update(repeating: 0, count: abs(columnOffset))
        }
        let start = rows.lowerBound * width + max(0, -columnOffset)
        let end = rows.upperBound * width - max(0, columnOffset)
        let destination = plane + rowOffset * width + columnOffset
        for index in start..<end {
          destination[index] += row[index]
        }
      }
    }
  }
}
