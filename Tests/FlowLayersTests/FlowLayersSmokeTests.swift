import FlowLayers
import XCTest

final class FlowLayersSmokeTests: XCTestCase {
  func testModuleSeesBothScalarTypes() {
    XCTAssertEqual(FlowLayersInfo.scalarTypes, ["float32", "float64"])
  }
}
