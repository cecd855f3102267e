import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

/// The transformer blocks of `Sources/FlowLayers/Transformer`.
final class TransformerTests: XCTestCase {
  // MARK: LayerNorm

  func testLayerNormByHand() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var norm = LayerNorm<Scalar>(features: 4, epsilon: 1e-5)
      norm.scale = Tensor([1, 2, 1, 0.5])
      norm.offset = Tensor([0, 0, 1, -1])
      let x = Tensor<Scalar>([[1, 2, 3, 4], [-2, -2, -2, -2]])
      // Row 0: mean 2.5, variance 1.25; row 1: variance 0, so zeros before the affine part.
      let root = Scalar.sqrt(1.25 + 1e-5)
      let expected = Tensor<Scalar>([
        [-1.5 / root, 2 * -0.5 / root, 0.5 / root + 1, 0.5 * 1.5 / root - 1],
        [0, 0, 1, -1],
      ])
      assertClose(norm(x), expected, absolute: tolerance)
      XCTAssertEqual(norm(Tensor<Scalar>.zeros(shape: [0, 4])).shape, [0, 4])
    }
    check(Float.self, tolerance: 1e-6)
    check(Double.self, tolerance: 1e-14)
  }

  func testLayerNormDerivatives() {
    var generator = SeededGenerator(seed: 1)
    let x = Tensor<Double>.randomNormal(shape: [2, 3, 5], using: &generator)
    let scale = Tensor<Double>.randomNormal(shape: [5], using: &generator)
    let offset = Tensor<Double>.randomNormal(shape: [5], using: &generator)
    let body: ([Tensor<Double>]) -> Tensor<Double> = { p in
      var norm = LayerNorm<Double>(features: 5)
      norm.scale = p[1]
      norm.offset = p[2]
      return norm(p[0])
    }
    let reverse = checkVJP(of: body, at: [x, scale, offset])
    XCTAssertTrue(reverse.passed, "\(reverse)")
    let forward = checkJVP(of: body, at: [x, scale, offset])
    XCTAssertTrue(forward.passed, "\(forward)")
  }

  // MARK: Feed-forward and positional embedding

  func testFeedForwardIsTwoDenseLayersAroundGELU() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 2)
      let network = FeedForward<Scalar>(width: 3, expansion: 2, using: &generator)
      XCTAssertEqual(network.expand.weight.shape, [3, 6])
      XCTAssertEqual(network.contract.weight.shape, [6, 3])
      let x = Tensor<Scalar>.randomNormal(shape: [2, 4, 3], using: &generator)
      // Row by row with scalar loops: GELU(t) = t·Φ(t).
      let (w1, b1, w2, b2) = (network.expand.weight, network.expand.bias, network.contract.weight, network.contract.bias)
      var expected: [Scalar] = []
      for row in 0..<8 {
        let input = (0..<3).map { x.scalars[row * 3 + $0] }
        let hidden = (0..<6).map { j -> Scalar in
          let t = (0..<3).reduce(b1[j]) { $0 + input[$1] * w1[$1, j] }
          return t * Scalar(normalCDF(Double(t)))
        }
        expected += (0..<3).map { k in (0..<6).reduce(b2[k]) { $0 + hidden[$1] * w2[$1, k] } }
      }
      assertClose(network(x), Tensor(shape: [2, 4, 3], scalars: expected), absolute: tolerance, relative: tolerance)
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-12)
  }

  func testPositionalEmbeddingAddsTheRowsOfItsPositions() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 3)
      let embedding = PositionalEmbedding<Scalar>(maxLength: 5, width: 2, using: &generator)
      let x = Tensor<Scalar>.ones(shape: [3, 2, 2])
      let shifted = embedding(x, startingAt: 3)
      for batch in 0..<3 {
        for position in 0..<2 {
          for feature in 0..<2 {
            XCTAssertEqual(shifted[batch, position, feature], 1 + embedding.weight[position + 3, feature])
          }
        }
      }
      XCTAssertEqual(embedding(Tensor<Scalar>.zeros(shape: [1, 5, 2])), embedding.weight.reshaped(to: [1, 5, 2]))
    }
    check(Float.self)
    check(Double.self)
  }

  // MARK: Attention

  /// Multi-head causal attention in scalar loops, independent of the tensor code.
  private func referenceAttention<Scalar: TensorScalar>(
    _ layer: CausalSelfAttention<Scalar>, _ x: Tensor<Scalar>
  ) -> Tensor<Scalar> {
    let (batch, length, width) = (x.shape[0], x.shape[1], x.shape[2])
    let (heads, size) = (layer.headCount, layer.headSize)
    let w = layer.queryKeyValue.weight
    let b = layer.queryKeyValue.bias
    func project(_ sample: Int, _ position: Int, _ column: Int) -> Double {
      (0..<width).reduce(Double(b[column])) { $0 + Double(x[sample, position, $1]) * Double(w[$1, column]) }
    }
    var mixed = [Double](repeating: 0, count: batch * length * width)
    for sample in 0..<batch {
      for head in 0..<heads {
        for query in 0..<length {
          let q = (0..<size).map { project(sample, query, head * size + $0) }
          let scores = (0...query).map { key in
            (0..<size).reduce(0.0) { $0 + q[$1] * project(sample, key, width + head * size + $1) } / Double(size).squareRoot()
          }
          let largest = scores.max()!
          let weights = scores.map { Double.exp($0 - largest) }
          let total = weights.reduce(0, +)
          for feature in 0..<size {
            mixed[(sample * length + query) * width + head * size + feature] = (0...query).reduce(0.0) {
              $0 + weights[$1] / total * project(sample, $1, 2 * width + head * size + feature)
            }
          }
        }
      }
    }
    let merged = Tensor<Scalar>(shape: x.shape, scalars: mixed.map { Scalar($0) })
    return layer.output(merged)
  }

  func testAttentionMatchesScalarReference() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 4)
      let layer = CausalSelfAttention<Scalar>(width: 6, headCount: 3, using: &generator)
      let x = Tensor<Scalar>.randomNormal(shape: [2, 5, 6], using: &generator)
      assertClose(layer(x), referenceAttention(layer, x), absolute: tolerance, relative: tolerance)
      let single = x.sliced(alongAxis: 1, from: 0, to: 1)
      assertClose(layer(single), referenceAttention(layer, single), absolute: tolerance, relative: tolerance)
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-12)
  }

  /// Changing position j changes the outputs at positions ≥ j only.
  func testAttentionIsCausal() {
    var generator = SeededGenerator(seed: 5)
    let layer = TransformerLayer<Double>(width: 4, headCount: 2, using: &generator)
    let x = Tensor<Double>.randomNormal(shape: [1, 6, 4], using: &generator)
    let y = layer(x)
    for changed in 0..<6 {
      var values = x.scalars
      values[changed * 4 + 1] += 0.5
      let other = layer(Tensor(shape: x.shape, scalars: values))
      for position in 0..<6 {
        let difference = (0..<4).map { abs(other[0, position, $0] - y[0, position, $0]) }.max()!
        if position < changed {
          XCTAssertEqual(difference, 0, "position \(position) changed with position \(changed)")
        } else if position == changed {
          XCTAssertGreaterThan(difference, 1e-6)
        }
      }
    }
  }

  func testAttentionDerivatives() {
    var generator = SeededGenerator(seed: 6)
    let base = CausalSelfAttention<Double>(width: 4, headCount: 2, using: &generator)
    let inputs = [
      Tensor<Double>.randomNormal(shape: [2, 3, 4], using: &generator),
      base.queryKeyValue.weight, base.queryKeyValue.bias, base.output.weight, base.output.bias,
    ]
    let body: ([Tensor<Double>]) -> Tensor<Double> = { p in
      var layer = base
      layer.queryKeyValue = Dense(weight: p[1], bias: p[2])
      layer.output = Dense(weight: p[3], bias: p[4])
      return layer(p[0])
    }
    let reverse = checkVJP(of: body, at: inputs)
    XCTAssertTrue(reverse.passed, "\(reverse)")
    let forward = checkJVP(of: body, at: inputs)
    XCTAssertTrue(forward.passed, "\(forward)")
  }

  /// Every parameter of a whole transformer layer, through reverse and forward mode.
  func testTransformerLayerDerivatives() {
    var generator = SeededGenerator(seed: 7)
    var layer = TransformerLayer<Double>(width: 4, headCount: 2, expansion: 2, using: &generator)
    layer.updateParameters { _, value in
      value = value + Tensor.randomNormal(shape: value.shape, standardDeviation: 0.1, using: &generator)
    }
    let names = layer.parameters.map(\.name)
    XCTAssertEqual(names.count, 12)
    XCTAssertEqual(names.first, "attentionNorm.scale")
    let x = Tensor<Double>.randomNormal(shape: [2, 3, 4], using: &generator)
    let body: ([Tensor<Double>]) -> Tensor<Double> = { p in
      var copy = layer
      var index = 1
      copy.updateParameters { _, value in
        value = p[index]
        index += 1
      }
      return copy(p[0])
    }
    let inputs = [x] + layer.parameters.map(\.value)
    let reverse = checkVJP(of: body, at: inputs)
    XCTAssertTrue(reverse.passed, "\(reverse)")
    let forward = checkJVP(of: body, at: inputs)
    XCTAssertTrue(forward.passed, "\(forward)")
  }

  // MARK: Cache

  /// Decoding with the key/value cache, one position at a time or in
  /// chunks, gives the rows of the whole-sequence pass.
  func testCachedDecodingMatchesTheFullPass() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 8)
      var network = CausalTransformer<Scalar>(
        inputSize: 3, outputSize: 5, maxLength: 7, width: 8, layerCount: 2, headCount: 2, using: &generator)
      network.outputProjection.weight = Tensor.randomNormal(shape: [8, 5], using: &generator)
      let x = Tensor<Scalar>.randomNormal(shape: [2, 7, 3], using: &generator)
      let full = network(x)
      for chunks in [[1, 1, 1, 1, 1, 1, 1], [2, 3, 2], [7]] {
        var cache = network.makeCache()
        var rows: [Tensor<Scalar>] = []
        var start = 0
        for size in chunks {
          rows.append(network(x.sliced(alongAxis: 1, from: start, to: start + size), cache: &cache))
          start += size
        }
        XCTAssertEqual(cache.length, 7)
        XCTAssertEqual(cache.layers[1].keys?.shape, [2, 2, 7, 4])
        assertClose(Tensor(concatenating: rows, alongAxis: 1), full, absolute: tolerance, relative: tolerance, "\(chunks)")
      }
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-12)
  }

  /// With derivatives recorded the cache keeps differentiable histories:
  /// gradients through step-by-step decoding equal those of the full pass,
  /// also when recording starts after some plain steps.
  func testCachedDecodingDifferentiatesLikeTheFullPass() {
    var generator = SeededGenerator(seed: 11)
    var network = CausalTransformer<Double>(
      inputSize: 2, outputSize: 3, maxLength: 4, width: 4, layerCount: 1, headCount: 2, using: &generator)
    network.outputProjection.weight = Tensor.randomNormal(shape: [4, 3], using: &generator)
    let x = Tensor<Double>.randomNormal(shape: [1, 4, 2], using: &generator)
    let weights = Tensor<Double>.randomNormal(shape: [1, 4, 3], using: &generator)
    let (_, expected) = valueWithGradient(at: x) { (network($0) * weights).sum() }
    let (_, cachedGradient) = valueWithGradient(at: x) { x in
      var cache = network.makeCache()
      let rows = (0..<4).map { network(x.sliced(alongAxis: 1, from: $0, to: $0 + 1), cache: &cache) }
      return (Tensor(concatenating: rows, alongAxis: 1) * weights).sum()
    }
    assertClose(cachedGradient, expected, absolute: 1e-12, relative: 1e-10)
    // Two plain steps, then two recorded ones: the outputs still match.
    var cache = network.makeCache()
    var rows = (0..<2).map { network(x.sliced(alongAxis: 1, from: $0, to: $0 + 1), cache: &cache) }
    let (_, tail) = valueWithGradient(at: x.sliced(alongAxis: 1, from: 2, to: 4)) { tail in
      var copy = cache
      let last = network(tail, cache: &copy)
      rows.append(stopGradient(last))
      return last.sum()
    }
    XCTAssertEqual(tail.shape, [1, 2, 2])
    assertClose(Tensor(concatenating: rows, alongAxis: 1), network(x), absolute: 1e-12)
  }

  /// A network without layers still embeds positions by the cache's length.
  func testCacheOfANetworkWithoutLayersKeepsThePosition() {
    var generator = SeededGenerator(seed: 9)
    var network = CausalTransformer<Double>(
      inputSize: 2, outputSize: 2, maxLength: 3, width: 4, layerCount: 0, headCount: 1, using: &generator)
    network.outputProjection.weight = Tensor.randomNormal(shape: [4, 2], using: &generator)
    let x = Tensor<Double>.randomNormal(shape: [1, 3, 2], using: &generator)
    var cache = network.makeCache()
    let rows = (0..<3).map { network(x.sliced(alongAxis: 1, from: $0, to: $0 + 1), cache: &cache) }
    assertClose(Tensor(concatenating: rows, alongAxis: 1), network(x), absolute: 1e-14)
  }

  func testZeroInitialisedOutputAndParameterNames() {
    var generator = SeededGenerator(seed: 10)
    let network = CausalTransformer<Float>(
      inputSize: 3, outputSize: 4, maxLength: 5, width: 8, layerCount: 1, headCount: 2, using: &generator)
    let output = network(Tensor<Float>.randomNormal(shape: [2, 5, 3], using: &generator))
    XCTAssertEqual(output, Tensor.zeros(shape: [2, 5, 4]))
    XCTAssertEqual(
      network.parameters.map(\.name),
      ["inputProjection.weight", "inputProjection.bias", "positionalEmbedding.weight"]
        + [
          "attentionNorm.scale", "attentionNorm.offset", "attention.queryKeyValue.weight",
          "attention.queryKeyValue.bias", "attention.output.weight", "attention.output.bias",
          "feedForwardNorm.scale", "feedForwardNorm.offset", "feedForward.expand.weight", "feedForward.expand.bias",
          "feedForward.contract.weight", "feedForward.contract.bias",
        ].map { "layers.0." + $0 }
        + ["outputNorm.scale", "outputNorm.offset", "outputProjection.weight", "outputProjection.bias"])
  }
}
