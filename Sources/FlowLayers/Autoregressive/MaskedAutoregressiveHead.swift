import FlowTensor

/// A one-hidden-layer MADE (Germain et al. 2015) that turns the features of
/// one position, plus a context vector, into per-feature outputs where
/// feature d's outputs depend on the context and on features < d only:
/// the within-token MAF of TarFlowLM's Mix-1 (Lippe's `AutoregFeedforward`).
///
/// hidden = GELU((x·(W₁ ⊙ M₁) + b₁) + context), output = hidden·(W₂ ⊙ M₂) + b₂.
/// Hidden unit k has degree m_k = k mod features; input j reaches it when
/// j < m_k, and it reaches feature d's outputs when m_k ≤ d.
///
/// Parameters: `input.weight` `[features, hiddenSize]`, `input.bias`,
/// `output.weight` `[hiddenSize, features·outputsPerFeature]` (zero at
/// first, so the head starts by outputting zeros), `output.bias`.
public struct MaskedAutoregressiveHead<Scalar: TensorScalar>: Layer {
  public var input: Dense<Scalar>
  public var output: Dense<Scalar>
  public let outputsPerFeature: Int
  /// `[features, hiddenSize]` and `[hiddenSize, features·outputsPerFeature]`, 0/1.
  let inputMask: Tensor<Scalar>
  let outputMask: Tensor<Scalar>

  /// - Parameters:
  ///   - features: ≥ 1.
  ///   - hiddenSize: ≥ 1; also the context's size.
  ///   - outputsPerFeature: ≥ 1.
  ///   - generator: the seeded source of the initial values.
  public init(features: Int, hiddenSize: Int, outputsPerFeature: Int, using generator: inout SeededGenerator) {
    precondition(
      features >= 1 && hiddenSize >= 1 && outputsPerFeature >= 1,
      "MaskedAutoregressiveHead(features: \(features), hiddenSize: \(hiddenSize), outputsPerFeature: \(outputsPerFeature)): all must be ≥ 1"
    )
    input = Dense(inputSize: features, outputSize: hiddenSize, using: &generator)
    output = Dense(
      inputSize: hiddenSize, outputSize: features * outputsPerFeature, zeroInitialized: true, using: &generator)
    self.outputsPerFeature = outputsPerFeature
    let degrees = (0..<hiddenSize).map { $0 % features }
    inputMask = Tensor(
      shape: [features, hiddenSize],
      scalars: (0..<features).flatMap { j in degrees.map { j < $0 ? Scalar(1) : 0 } })
    outputMask = Tensor(
      shape: [hiddenSize, features * outputsPerFeature],
      scalars: degrees.flatMap { degree in
        (0..<features).flatMap { d in Array(repeating: degree <= d ? Scalar(1) : 0, count: outputsPerFeature) }
      })
  }

  public var features: Int { input.inputSize }
  public var hiddenSize: Int { input.outputSize }

  /// The outputs of every feature.
  /// - Parameters:
  ///   - x: `[..., features]`, rank ≥ 2.
  ///   - context: `[..., hiddenSize]`, broadcastable against x's leading axes.
  /// - Returns: `[..., features, outputsPerFeature]`; row d depends on
  ///   `context` and on x's features < d only.
  /// - Complexity: O(n·hiddenSize·outputsPerFeature), two `gemm`s.
  public func callAsFunction(_ x: Tensor<Scalar>, context: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(
      x.rank >= 2 && x.shape.last == features,
      "MaskedAutoregressiveHead: input \(x.shape) does not end in \(features) features")
    // Rows flattened: one gemm each way (see `Dense.applied(toRows:)`).
    let masked = Dense(weight: input.weight * inputMask, bias: input.bias)
    let hidden = gelu(masked.applied(toRows: x) + context)
    let result = Dense(weight: output.weight * outputMask, bias: output.bias).applied(toRows: hidden)
    return result.reshaped(to: Array(hidden.shape.dropLast()) + [features, outputsPerFeature])
  }

  /// The head with its masks applied once and its output layer split by
  /// feature, for decoding one feature at a time (a sequential inverse).
  func makeDecoder() -> MaskedAutoregressiveDecoder<Scalar> {
    let maskedOutput = output.weight * outputMask
    let width = outputsPerFeature
    return MaskedAutoregressiveDecoder(
      input: Dense(weight: input.weight * inputMask, bias: input.bias),
      outputs: (0..<features).map { feature in
        Dense(
          weight: maskedOutput.sliced(alongAxis: 1, from: feature * width, to: (feature + 1) * width),
          bias: output.bias.sliced(alongAxis: 0, from: feature * width, to: (feature + 1) * width))
      })
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("input", &input)
    visitor.visit("output", &output)
  }
}

/// A ``MaskedAutoregressiveHead`` prepared for feature-by-feature decoding:
/// per step one small product for the hidden layer and one for the
/// outputs of the feature being decoded, with no masks to reapply.
struct MaskedAutoregressiveDecoder<Scalar: TensorScalar> {
  /// The input layer, masked.
  let input: Dense<Scalar>
  /// Per feature, the output layer's masked columns of that feature.
  let outputs: [Dense<Scalar>]

  /// The outputs of `feature`, from the features decoded so far.
  /// - Parameters:
  ///   - x: `[..., features]`; entries at `feature` and after are ignored (masked).
  ///   - context: `[..., hiddenSize]`.
  /// - Returns: `[..., outputsPerFeature]`, equal to the head's row `feature`.
  func callAsFunction(_ x: Tensor<Scalar>, context: Tensor<Scalar>, feature: Int) -> Tensor<Scalar> {
    outputs[feature].applied(toRows: gelu(input.applied(toRows: x) + context))
  }
}
