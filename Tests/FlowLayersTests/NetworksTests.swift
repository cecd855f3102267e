import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

/// Dense, Conv2D, MLP, the residual conditioner and the activations, in
/// Float and Double through one generic body each.
final class NetworksTests: XCTestCase {
  func testDenseComputesXTimesWeightPlusBias() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let dense = Dense<Scalar>(
        weight: Tensor([[1, 2, 3], [4, 5, 6]]), bias: Tensor([0.5, -1, 2]))
      let x = Tensor<Scalar>([[1, -1], [2, 0.5], [0, 0]])
      let expected = Tensor<Scalar>([[-2.5, -4, -1], [4.5, 5.5, 11], [0.5, -1, 2]])
      assertClose(dense(x), expected, absolute: tolerance)
      // Extra leading axes are batch axes too.
      assertClose(dense(x.reshaped(to: [1, 3, 2])), expected.reshaped(to: [1, 3, 3]), absolute: tolerance)
      // An empty batch gives an empty output.
      XCTAssertEqual(dense(Tensor<Scalar>.zeros(shape: [0, 2])).shape, [0, 3])
      XCTAssertEqual(dense.parameters.map(\.name), ["weight", "bias"])
    }
    check(Float.self, tolerance: 1e-6)
    check(Double.self, tolerance: 1e-14)
  }

  /// PyTorch's `nn.Linear` draws weight and bias uniformly in ±1/√fan_in;
  /// the same seed gives the same layer, in Float the rounded Double values.
  func testDenseInitialisationIsSeededKaimingUniform() {
    var generator = SeededGenerator(seed: 11)
    let dense = Dense<Double>(inputSize: 16, outputSize: 64, using: &generator)
    let bound = 0.25
    let weights = dense.weight.scalars
    XCTAssertTrue(weights.allSatisfy { abs($0) < bound })
    XCTAssertTrue(dense.bias.scalars.allSatisfy { abs($0) < bound })
    XCTAssertGreaterThan(weights.map { abs($0) }.max()!, 0.99 * bound)
    // |U(−b, b)| has mean b/2 and standard deviation b/√12: 1024 draws
    // give the mean within 5 standard errors of 0.0023.
    assertClose(weights.map { abs($0) }.reduce(0, +) / Double(weights.count), bound / 2, absolute: 0.011)
    assertClose(weights.reduce(0, +) / Double(weights.count), 0, absolute: 0.02)

    var again = SeededGenerator(seed: 11)
    assertIdentical(Dense<Double>(inputSize: 16, outputSize: 64, using: &again).weight, dense.weight)
    var floatGenerator = SeededGenerator(seed: 11)
    let single = Dense<Float>(inputSize: 16, outputSize: 64, using: &floatGenerator)
    XCTAssertEqual(single.weight.scalars, weights.map { Float($0) })
    XCTAssertEqual(single.bias.scalars, dense.bias.scalars.map { Float($0) })

    let zero = Dense<Double>(inputSize: 3, outputSize: 2, zeroInitialized: true, using: &generator)
    assertIdentical(zero(Tensor.randomNormal(shape: [4, 3], using: &generator)), Tensor.zeros(shape: [4, 2]))
  }

  func testActivationsMatchTheirFormulas() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      let x = Tensor<Scalar>([-2, -0.5, 0, 0.5, 2])
      assertClose(Activation.relu(x), Tensor([0, 0, 0, 0.5, 2]), absolute: 0)
      // x·Φ(x) and x·σ(x), from mpmath at 30 digits.
      assertClose(
        Activation.gelu(x),
        Tensor([-0.04550026389635842, -0.15426876936299344, 0, 0.34573123063700656, 1.9544997361036416]),
        absolute: tolerance)
      assertClose(
        Activation.silu(x),
        Tensor([-0.23840584404423512, -0.18877033439907273, 0, 0.3112296656009273, 1.7615941559557649]),
        absolute: tolerance)
      assertClose(
        Activation.tanh(x),
        Tensor([-0.9640275800758169, -0.46211715726000974, 0, 0.46211715726000974, 0.9640275800758169]),
        absolute: tolerance)
    }
    check(Float.self, tolerance: 1e-6)
    check(Double.self, tolerance: 1e-15)
  }

  /// Hand-computed: layer 0 maps x to (x, 1 − x), ReLU, layer 1 to
  /// 2·h₀ + 3·h₁ − 4 with no activation after it (so it can go negative).
  func testMLPAppliesTheActivationBetweenLayersOnly() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let network = MLP<Scalar>(
        layers: [
          Dense(weight: Tensor([[1, -1]]), bias: Tensor([0, 1])),
          Dense(weight: Tensor([[2], [3]]), bias: Tensor([-4])),
        ], activation: .relu)
      assertIdentical(network(Tensor([[1], [-2], [3]])), Tensor([[-2], [5], [2]]))
      XCTAssertEqual(
        network.parameters.map(\.name), ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"])

      var generator = SeededGenerator(seed: 3)
      let fresh = MLP<Scalar>(inputSize: 3, hiddenSizes: [5, 4], outputSize: 2, activation: .gelu, using: &generator)
      XCTAssertEqual(fresh.layers.map(\.weight.shape), [[3, 5], [5, 4], [4, 2]])
      // The last layer starts at zero (the coupling then starts as the
      // identity); the others do not.
      assertIdentical(fresh(Tensor.randomNormal(shape: [6, 3], using: &generator)), Tensor.zeros(shape: [6, 2]))
      XCTAssertTrue(fresh.layers[1].weight.scalars.contains { $0 != 0 })
      let dense = MLP<Scalar>(
        inputSize: 3, hiddenSizes: [], outputSize: 2, zeroInitializingLastLayer: false, using: &generator)
      XCTAssertEqual(dense.layers.count, 1)
      XCTAssertTrue(dense.layers[0].weight.scalars.contains { $0 != 0 })
    }
    check(Float.self)
    check(Double.self)
  }

  /// Against a direct loop over the definition, with strides, padding and a
  /// non-square kernel.
  func testConv2DMatchesDirectConvolution() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 4)
      let layer = Conv2D<Scalar>(
        inputChannels: 2, outputChannels: 3, kernelSize: (3, 2), strides: (2, 1), padding: (1, 0), using: &generator)
      XCTAssertEqual(layer.parameters.map(\.name), ["filter", "bias"])
      let x = Tensor<Scalar>.randomNormal(shape: [2, 2, 5, 4], using: &generator)
      let y = layer(x)
      // outHeight = ⌊(5 + 2 − 3)/2⌋ + 1 = 3, outWidth = 4 − 2 + 1 = 3.
      XCTAssertEqual(y.shape, [2, 3, 3, 3])
      var expected = [Scalar]()
      for b in 0..<2 {
        for o in 0..<3 {
          for oy in 0..<3 {
            for ox in 0..<3 {
              var total = layer.bias![o]
              for c in 0..<2 {
                for i in 0..<3 {
                  for j in 0..<2 {
                    let row = oy * 2 + i - 1
                    let column = ox + j
                    if row >= 0 && row < 5 { total += layer.filter[o, c, i, j] * x[b, c, row, column] }
                  }
                }
              }
              expected.append(total)
            }
          }
        }
      }
      assertClose(y, Tensor(shape: [2, 3, 3, 3], scalars: expected), absolute: tolerance)

      let plain = Conv2D<Scalar>(
        inputChannels: 2, outputChannels: 1, kernelSize: (1, 1), usesBias: false, using: &generator)
      XCTAssertEqual(plain.parameters.map(\.name), ["filter"])
      assertClose(
        plain(x), (x * plain.filter.reshaped(to: [1, 2, 1, 1])).sum(alongAxes: [1], keepingDimensions: true),
        absolute: tolerance)
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-13)
  }

  /// fan_in = inputChannels · kernel area; zero initialisation gives zeros.
  func testConv2DInitialisation() {
    var generator = SeededGenerator(seed: 8)
    let layer = Conv2D<Double>(inputChannels: 4, outputChannels: 8, kernelSize: (3, 3), using: &generator)
    let bound = 1 / 6.0
    XCTAssertTrue(layer.filter.scalars.allSatisfy { abs($0) < bound })
    XCTAssertGreaterThan(layer.filter.scalars.map { abs($0) }.max()!, 0.98 * bound)
    XCTAssertTrue(layer.bias!.scalars.allSatisfy { abs($0) < bound })
    let zero = Conv2D<Double>(
      inputChannels: 4, outputChannels: 2, kernelSize: (3, 3), padding: (1, 1), zeroInitialized: true, using: &generator)
    assertIdentical(zero(Tensor.randomNormal(shape: [1, 4, 3, 3], using: &generator)), Tensor.zeros(shape: [1, 2, 3, 3]))
  }

  /// The conditioner keeps the spatial size, starts at zero, and each
  /// residual block is x + F(x): a block whose second convolution is zero is
  /// the identity.
  func testResidualConditioner() {
    func check<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Scalar) {
      var generator = SeededGenerator(seed: 9)
      var network = ResidualConditioner<Scalar>(
        inputChannels: 3, hiddenChannels: 5, outputChannels: 4, blockCount: 2, activation: .silu, using: &generator)
      let x = Tensor<Scalar>.randomNormal(shape: [2, 3, 4, 5], using: &generator)
      assertIdentical(network(x), Tensor.zeros(shape: [2, 4, 4, 5]))
      XCTAssertEqual(
        network.parameters.map(\.name),
        [
          "input.filter", "input.bias", "blocks.0.first.filter", "blocks.0.first.bias", "blocks.0.second.filter",
          "blocks.0.second.bias", "blocks.1.first.filter", "blocks.1.first.bias", "blocks.1.second.filter",
          "blocks.1.second.bias", "output.filter", "output.bias",
        ])

      var block = network.blocks[0]
      let hidden = Tensor<Scalar>.randomNormal(shape: [2, 5, 4, 5], using: &generator)
      XCTAssertGreaterThan((block(hidden) - hidden).scalars.map { abs($0) }.max()!, 0.01)
      block.second.filter = Tensor.zeros(shape: block.second.filter.shape)
      block.second.bias = Tensor.zeros(shape: [5])
      assertIdentical(block(hidden), hidden)

      // With every layer nonzero: the input convolution, the blocks, the
      // activation, the output convolution, in that order.
      network.output = Conv2D(inputChannels: 5, outputChannels: 4, kernelSize: (3, 3), padding: (1, 1), using: &generator)
      var expected = network.input(x)
      for block in network.blocks {
        expected = expected + block.second(silu(block.first(silu(expected))))
      }
      expected = network.output(silu(expected))
      assertClose(network(x), expected, absolute: tolerance)
    }
    check(Float.self, tolerance: 1e-5)
    check(Double.self, tolerance: 1e-13)
  }
}

private func silu<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x / (1 + exp(-x)) }
