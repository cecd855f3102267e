import FlowLayers
import FlowTensor
import XCTest
import _TestSupport

/// TarFlowLM's ChannelMix.
final class AutoregressiveChannelMixTests: XCTestCase {
  func testEvenChannelsFirstThenOdd() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      let x = Tensor<Scalar>(shape: [1, 2, 5], scalars: (0..<10).map { Scalar($0) })
      let mix = ChannelMix<Scalar>(channels: 5)
      let (y, logDeterminant) = mix.forward(x)
      XCTAssertEqual(y.scalars, [0, 2, 4, 1, 3, 5, 7, 9, 6, 8])
      XCTAssertEqual(logDeterminant.scalars, [0])
      XCTAssertEqual(mix.inverse(y).output, x)
      XCTAssertEqual(ChannelMix<Scalar>(channels: 1).forward(x.sliced(alongAxis: 2, from: 0, to: 1)).output.shape, [1, 2, 1])
    }
    check(Float.self)
    check(Double.self)
  }
}
