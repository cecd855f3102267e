// Derivatives of the three convolutions of Tensor+Convolution.swift.
//
// Write C(x, w) = conv2d(x, w), Cᵀ(g, w) = conv2dTransposed(g, w) and
// F(x, g) = conv2dFilterGradient(x, g). All three are bilinear and tied by
// ⟨C(x, w), g⟩ = ⟨x, Cᵀ(g, w)⟩ = ⟨w, F(x, g)⟩, so every pullback is one of
// the three, and every tangent is the op applied to one tangent at a time.
//
// Tangents may carry leading batch axes T. They are folded into an axis
// that the op treats independently, so that one call serves every
// direction: the image axis (each image is convolved separately), the
// filter's output-channel axis (each output channel has its own filter), or
// the channel axis of F's input (each input channel has its own slice of
// the filter gradient), and unfolded from the result.

/// Attaches the derivatives of `conv2d` to its value.
func conv2dDerived<Scalar: TensorScalar>(
  _ value: Tensor<Scalar>, input: Tensor<Scalar>, filter: Tensor<Scalar>, bias: Tensor<Scalar>?,
  strides: (Int, Int), padding: (Int, Int)
) -> Tensor<Scalar> {
  let inputs = bias.map { [input, filter, $0] } ?? [input, filter]
  let imageSize = (input.shape[2], input.shape[3])
  let filterShape = filter.shape
  return value.derived(
    from: inputs, operation: "conv2d",
    pullback: { [input = input.detached, filter = filter.detached, needs = inputs.map(\.requiresGradient)] cotangent in
      var cotangents: [Tensor<Scalar>?] = [
        needs[0]
          ? conv2dTransposed(cotangent, filter: filter, outputSize: imageSize, strides: strides, padding: padding)
          : nil,
        needs[1]
          ? conv2dFilterGradient(
            input: input, outputGradient: cotangent, filterShape: filterShape, strides: strides, padding: padding)
          : nil,
      ]
      if needs.count == 3 { cotangents.append(needs[2] ? cotangent.sum(alongAxes: [0, 2, 3]) : nil) }
      return cotangents
    },
    tangent: { primals, output, tangents in
      var terms: [Tensor<Scalar>] = []
      if let inputTangent = tangents[0] {
        // C(dx, w): the tangent batch joins the image batch.
        let batchShape = Array(inputTangent.shape.dropLast(4))
        let folded = inputTangent.foldingLeadingAxes(batchShape.count, into: 0)
        terms.append(
          conv2d(folded, filter: primals[1], strides: strides, padding: padding)
            .unfoldingLeadingAxes(batchShape, from: 0, size: output.shape[0]))
      }
      if let filterTangent = tangents[1] {
        // C(x, dw): the tangent batch joins the output channels.
        let batchShape = Array(filterTangent.shape.dropLast(4))
        let folded = filterTangent.foldingLeadingAxes(batchShape.count, into: 0)
        terms.append(
          conv2d(primals[0], filter: folded, strides: strides, padding: padding)
            .unfoldingLeadingAxes(batchShape, from: 1, size: output.shape[1]))
      }
      if tangents.count == 3, let biasTangent = tangents[2] {
        // db: [T..., O] → [T..., 1, O, 1, 1], broadcast over images and pixels.
        let batchShape = Array(biasTangent.shape.dropLast())
        terms.append(biasTangent.reshaped(to: batchShape + [1, output.shape[1], 1, 1]))
      }
      return summedTerms(terms, output: output)
    })
}

/// Attaches the derivatives of `conv2dTransposed` to its value.
func conv2dTransposedDerived<Scalar: TensorScalar>(
  _ value: Tensor<Scalar>, gradient: Tensor<Scalar>, filter: Tensor<Scalar>,
  strides: (Int, Int), padding: (Int, Int)
) -> Tensor<Scalar> {
  let imageSize = (value.shape[2], value.shape[3])
  let filterShape = filter.shape
  return value.derived(
    from: gradient, filter, operation: "conv2dTransposed",
    pullback: {
      [gradient = gradient.detached, filter = filter.detached,
       needGradient = gradient.requiresGradient, needFilter = filter.requiresGradient] cotangent in
      (
        needGradient ? conv2d(cotangent, filter: filter, strides: strides, padding: padding) : nil,
        needFilter
          ? conv2dFilterGradient(
            input: cotangent, outputGradient: gradient, filterShape: filterShape, strides: strides, padding: padding)
          : nil
      )
    },
    tangent: { gradient, filter, output, gradientTangent, filterTangent in
      var terms: [Tensor<Scalar>] = []
      if let gradientTangent {
        // Cᵀ(dg, w): the tangent batch joins the image batch.
        let batchShape = Array(gradientTangent.shape.dropLast(4))
        let folded = gradientTangent.foldingLeadingAxes(batchShape.count, into: 0)
        terms.append(
          conv2dTransposed(folded, filter: filter, outputSize: imageSize, strides: strides, padding: padding)
            .unfoldingLeadingAxes(batchShape, from: 0, size: output.shape[0]))
      }
      if let filterTangent {
        // Cᵀ(g, dw): the tangent batch joins the filter's input channels,
        // which become the result's channels.
        let batchShape = Array(filterTangent.shape.dropLast(4))
        let folded = filterTangent.foldingLeadingAxes(batchShape.count, into: 1)
        terms.append(
          conv2dTransposed(gradient, filter: folded, outputSize: imageSize, strides: strides, padding: padding)
            .unfoldingLeadingAxes(batchShape, from: 1, size: output.shape[1]))
      }
      return summedTerms(terms, output: output)
    })
}

/// Attaches the derivatives of `conv2dFilterGradient` to its value.
func conv2dFilterGradientDerived<Scalar: TensorScalar>(
  _ value: Tensor<Scalar>, input: Tensor<Scalar>, outputGradient: Tensor<Scalar>,
  strides: (Int, Int), padding: (Int, Int)
) -> Tensor<Scalar> {
  let imageSize = (input.shape[2], input.shape[3])
  let filterShape = value.shape
  return value.derived(
    from: input, outputGradient, operation: "conv2dFilterGradient",
    pullback: {
      [input = input.detached, outputGradient = outputGradient.detached,
       needInput = input.requiresGradient, needGradient = outputGradient.requiresGradient] cotangent in
      (
        needInput
          ? conv2dTransposed(
            outputGradient, filter: cotangent, outputSize: imageSize, strides: strides, padding: padding)
          : nil,
        needGradient ? conv2d(input, filter: cotangent, strides: strides, padding: padding) : nil
      )
    },
    tangent: { input, outputGradient, output, inputTangent, gradientTangent in
      var terms: [Tensor<Scalar>] = []
      if let inputTangent {
        // F(dx, g): the tangent batch joins the input channels.
        let batchShape = Array(inputTangent.shape.dropLast(4))
        let folded = inputTangent.foldingLeadingAxes(batchShape.count, into: 1)
        var shape = filterShape
        shape[1] = folded.shape[1]
        terms.append(
          conv2dFilterGradient(
            input: folded, outputGradient: outputGradient, filterShape: shape, strides: strides, padding: padding
          ).unfoldingLeadingAxes(batchShape, from: 1, size: filterShape[1]))
      }
      if let gradientTangent {
        // F(x, dg): the tangent batch joins the output channels.
        let batchShape = Array(gradientTangent.shape.dropLast(4))
        let folded = gradientTangent.foldingLeadingAxes(batchShape.count, into: 1)
        var shape = filterShape
        shape[0] = folded.shape[1]
        terms.append(
          conv2dFilterGradient(
            input: input, outputGradient: folded, filterShape: shape, strides: strides, padding: padding
          ).unfoldingLeadingAxes(batchShape, from: 0, size: filterShape[0]))
      }
      return summedTerms(terms, output: output)
    })
}

/// The sum of an op's tangent terms, each `[batch..., output shape...]` or
/// broadcasting to it, broadcast to that full shape.
func summedTerms<Scalar: TensorScalar>(_ terms: [Tensor<Scalar>], output: Tensor<Scalar>) -> Tensor<Scalar> {
  precondition(!terms.isEmpty, "summedTerms: no tangent term")
  let total = terms.dropFirst().reduce(terms[0], +)
  let batchRank = Swift.max(total.rank - output.rank, 0)
  let target = Array(total.shape[..<batchRank]) + output.shape
  return total.shape == target ? total : total.broadcast(to: target)
}
