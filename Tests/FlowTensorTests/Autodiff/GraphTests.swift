@testable import FlowTensor
import XCTest
import _TestSupport

/// The life of the reverse-mode graph: what records, what does not, and
/// that a backward pass frees what it used.
final class GraphTests: XCTestCase {
  func testOnlyTensorsThatDependOnLeavesRecord() {
    let plain = Tensor<Double>([1, 2, 3])
    XCTAssertNil((plain * plain).autodiff)
    let leaf = plain.requiringGradient()
    XCTAssertTrue(leaf.requiresGradient)
    XCTAssertTrue((leaf * plain).requiresGradient)
    XCTAssertFalse(stopGradient(leaf * plain).requiresGradient)
    XCTAssertFalse(withoutRecording { exp(leaf) }.requiresGradient)
    // Writing to a result's scalars makes it a plain value again.
    var written = leaf * 2
    written[0] = 5
    XCTAssertFalse(written.requiresGradient)
  }

  func testStopGradientBlocksOneBranch() {
    let (_, gradient) = valueWithGradient(at: Tensor<Double>([2, 3])) { x in
      (x * stopGradient(x)).sum()  // d/dx = stopGradient(x), not 2x
    }
    XCTAssertEqual(gradient.scalars, [2, 3])
  }

  func testUnusedInputsGetZeroGradients() {
    let (value, gradients) = valueWithGradient(at: [Tensor<Double>([1, 2]), Tensor<Double>.ones(shape: [2, 2])]) { p in
      p[0].sum()
    }
    XCTAssertEqual(value.scalar, 3)
    XCTAssertEqual(gradients[1], Tensor.zeros(shape: [2, 2]))
  }

  func testBackwardPassReleasesTheGraph() {
    weak var intermediate: GraphNode<Double>?
    var gradients: [Tensor<Double>] = []
    do {
      let leaf = Tensor<Double>([1, 2, 3]).requiringGradient()
      let hidden = exp(leaf)
      intermediate = hidden.autodiff?.node
      XCTAssertNotNil(intermediate)
      let loss = (hidden * hidden).sum()
      gradients = gradient(of: loss, withRespectTo: [leaf])
      XCTAssertNil(intermediate?.pullback, "the pullback is dropped once used")
    }
    XCTAssertNil(intermediate, "the graph is freed with the tensors that held it")
    assertClose(gradients[0], 2 * exp(Tensor<Double>([2, 4, 6])), relative: 1e-14)
  }

  func testVJPPullbackCanRunManyTimesAndDoesNotRecord() {
    var generator = SeededGenerator(seed: 4)
    let a = Tensor<Double>.randomNormal(shape: [3, 3], using: &generator)
    let x = Tensor<Double>.randomNormal(shape: [3], using: &generator).requiringGradient()
    let (value, pullback) = vjp(of: { matmul(a, $0) }, at: x)
    XCTAssertFalse(value.requiresGradient)
    for index in 0..<3 {
      var cotangent = Tensor<Double>.zeros(shape: [3])
      cotangent[index] = 1
      let row = pullback(cotangent)
      XCTAssertFalse(row.requiresGradient)
      // Aᵀ·eᵢ is row i of A.
      for column in 0..<3 { XCTAssertEqual(row[column], a[index, column], accuracy: 1e-15) }
    }
  }

  func testDeepChainsDoNotExhaustTheStack() {
    let (_, gradient) = valueWithGradient(at: Tensor<Double>([1])) { x in
      var y = x
      for _ in 0..<20_000 { y = y * 1.0 + 0.0 }
      return y.sum()
    }
    XCTAssertEqual(gradient.scalars, [1])
  }
}
