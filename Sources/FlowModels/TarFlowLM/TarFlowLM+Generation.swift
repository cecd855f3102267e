import FlowLayers
import FlowTensor

/// How generation turns latents into characters.
public enum TokenDecoding: String, Codable, CaseIterable, Sendable {
  /// The decoder's most likely token, argmax_k p(x = k | z).
  case mostLikely = "argmax"
  /// A draw from p(x | z).
  case sampled = "sample"
}

extension TarFlowLM {
  /// Sequences from the model: u ~ N(0, T² I), through the inverse flows
  /// (each sequential over positions with its attention cached; a
  /// position holds P tokens, so P tokens are made per step), decoded by
  /// the codebook.
  /// - Parameters:
  ///   - count: sequences, ≥ 1.
  ///   - length: tokens, ≥ 1, at most ``length`` and a multiple of the patch size.
  ///   - temperature: T ≥ 0, the base noise's standard deviation.
  ///   - decoding: argmax or a draw from the decoder.
  /// - Returns: `[count, length]` token indices.
  /// - Complexity: `blocks.count` sequential passes of `length / P` steps.
  public func generate(
    count: Int, length: Int, temperature: Double = 1, decoding: TokenDecoding = .mostLikely,
    using generator: inout SeededGenerator
  ) -> IndexTensor {
    generatePasses(count: count, length: length, temperature: temperature, decoding: decoding, using: &generator)
      .last!
  }

  /// Hierarchical multi-pass generation (arXiv 2507.00425, Fig. 6, App. G):
  /// the base noise decoded, then the state after inverting each flow in
  /// turn (the base side first), each decoded to text: coarse to fine.
  /// - Parameters: as for ``generate(count:length:temperature:decoding:using:)``.
  /// - Returns: `blocks.count + 1` token tensors `[count, length]`: the
  ///   decoded noise, then one per inverted flow; the last is the sample.
  ///   Decoding draws (for `.sampled`) are taken after all the noise.
  public func generatePasses(
    count: Int, length: Int, temperature: Double = 1, decoding: TokenDecoding = .mostLikely,
    using generator: inout SeededGenerator
  ) -> [IndexTensor] {
    if let problem = generationProblem(count: count, length: length, temperature: temperature) {
      preconditionFailure("TarFlowLM.generate: \(problem)")
    }
    return withoutRecording {
      var h = Tensor<Scalar>.randomNormal(
        shape: [count, length, latentDimension], standardDeviation: Scalar(temperature), using: &generator)
      var states = [h]
      for block in tiedBlocks.reversed() {
        h = block.inverse(h).output
        states.append(h)
      }
      return states.map { decode($0, decoding: decoding, using: &generator) }
    }
  }

  /// Why generation cannot run with these values, in one sentence; `nil` when it can.
  public func generationProblem(count: Int, length: Int, temperature: Double) -> String? {
    if count < 1 { return "count \(count) must be ≥ 1" }
    if length < 1 || length > self.length || length % configuration.patchSize != 0 {
      return "length \(length) must be in 1…\(self.length) (the model's context) and a multiple of the patch size "
        + "\(configuration.patchSize)"
    }
    if !(temperature >= 0 && temperature.isFinite) { return "temperature \(temperature) must be finite and ≥ 0" }
    return nil
  }

  /// Latents `[count, length, d]` to tokens `[count, length]`.
  func decode(_ latents: Tensor<Scalar>, decoding: TokenDecoding, using generator: inout SeededGenerator) -> IndexTensor {
    switch decoding {
    case .mostLikely:
      return codebook.mostLikelyTokens(given: latents)
    case .sampled:
      return drawTokens(logProbabilities: codebook.tokenLogProbabilities(given: latents), using: &generator)
    }
  }
}

/// One categorical draw per row of `logProbabilities` `[..., V]`.
/// - Returns: `[...]` (the shape without the last axis).
func drawTokens<Scalar: TensorScalar>(
  logProbabilities: Tensor<Scalar>, using generator: inout SeededGenerator
) -> IndexTensor {
  let vocabulary = logProbabilities.shape[logProbabilities.rank - 1]
  let values = logProbabilities.scalars
  let rows = vocabulary == 0 ? 0 : values.count / vocabulary
  var result: [Int] = []
  result.reserveCapacity(rows)
  for row in 0..<rows {
    let uniform = Double(generator.next() >> 11) * 0x1p-53
    var cumulative = 0.0
    var chosen = vocabulary - 1
    for index in 0..<vocabulary {
      cumulative += Double.exp(Double(values[row * vocabulary + index]))
      if uniform < cumulative {
        chosen = index
        break
      }
    }
    result.append(chosen)
  }
  return IndexTensor(shape: Array(logProbabilities.shape.dropLast()), indices: result)
}
