import FlowModels
import XCTest

final class FlowModelsSmokeTests: XCTestCase {
  func testModuleSeesBothScalarTypes() {
    XCTAssertEqual(FlowModelsInfo.scalarTypes, ["float32", "float64"])
  }
}
