import Foundation
import XCTest

@testable import FlowModels

#if canImport(FoundationXML)
  import FoundationXML
#endif

final class TrainingCurveTests: XCTestCase {
  /// The SVG parsed as XML (so it is well formed), with its elements by name.
  private struct ParsedSVG {
    let root: XMLElement
    func elements(named name: String) -> [XMLElement] {
      var found: [XMLElement] = []
      func visit(_ element: XMLElement) {
        if element.localName == name { found.append(element) }
        for child in element.children ?? [] { if let child = child as? XMLElement { visit(child) } }
      }
      visit(root)
      return found
    }
    func texts(inGroup className: String) -> [String] {
      elements(named: "g").filter { $0.valueOfAttribute("class") == className }
        .flatMap { group in (group.children ?? []).compactMap { $0 as? XMLElement }.filter { $0.localName == "text" }
          .compactMap(\.stringValue) }
    }
  }

  private func parse(_ svg: String, file: StaticString = #filePath, line: UInt = #line) throws -> ParsedSVG {
    let document = try XMLDocument(xmlString: svg, options: [])
    let root = try XCTUnwrap(document.rootElement(), file: file, line: line)
    XCTAssertEqual(root.localName, "svg", file: file, line: line)
    XCTAssertEqual(root.valueOfAttribute("width"), "720", file: file, line: line)
    return ParsedSVG(root: root)
  }

  /// Heckbert's nice numbers by hand: the range 1.33 rounds up to 2, a
  /// fifth of that (0.4) rounds to 0.5; 3.87 … 5.2 widens to 3.5 … 5.5.
  func testAxisTicksAreRoundNumbers() {
    let values = ChartAxis(covering: [3.87, 5.2, 4.1])
    XCTAssertEqual(values.lower, 3.5)
    XCTAssertEqual(values.upper, 5.5)
    XCTAssertEqual(values.ticks, [3.5, 4, 4.5, 5, 5.5])
    XCTAssertEqual(values.ticks.map(values.label), ["3.5", "4.0", "4.5", "5.0", "5.5"])

    let steps = ChartAxis(covering: [0, 1000])
    XCTAssertEqual(steps.ticks, [0, 200, 400, 600, 800, 1000])
    XCTAssertEqual(steps.ticks.map(steps.label), ["0", "200", "400", "600", "800", "1000"])

    // 0.1 spacing from -0.3: the tick at zero prints as "0.0", not "-0.0".
    let small = ChartAxis(covering: [-0.27, 0.18])
    XCTAssertEqual(small.fractionDigits, 1)
    XCTAssertTrue(small.ticks.map(small.label).contains("0.0"), "\(small.ticks.map(small.label))")
    XCTAssertFalse(small.ticks.map(small.label).contains("-0.0"))
  }

  func testAxisOfConstantOrNoValuesHasExtent() {
    let constant = ChartAxis(covering: [4, 4, 4])
    XCTAssertLessThanOrEqual(constant.lower, 3.6)
    XCTAssertGreaterThanOrEqual(constant.upper, 4.4)
    XCTAssertGreaterThanOrEqual(constant.ticks.count, 2)
    XCTAssertEqual(Set(constant.ticks.map(constant.label)).count, constant.ticks.count)
    let zero = ChartAxis(covering: [0])
    XCTAssertEqual(zero.lower, -1)
    XCTAssertEqual(zero.upper, 1)
    let empty = ChartAxis(covering: [])
    XCTAssertEqual(empty.lower, 0)
    XCTAssertEqual(empty.upper, 1)
  }

  /// With data spanning exactly the round axis range, the corners map to
  /// the plot area's corners: left 72, right 720 − 24, top 40, bottom 432 − 52.
  func testSeriesPlotAtTheExpectedCoordinates() throws {
    var curve = TrainingCurve(title: "CDFlow on Fashion-MNIST")
    for (step, value) in [(0.0, 5.5), (500, 4.25), (1000, 3.5)] {
      curve.append(step: step, value: value, to: "train bits/dim")
    }
    curve.append(step: 1000, value: 3.75, to: "test bits/dim")
    curve.append(step: 0, value: 5.0, to: "test bits/dim")
    XCTAssertEqual(curve.series.map(\.name), ["train bits/dim", "test bits/dim"])
    let svg = try parse(curve.svg())
    let lines = svg.elements(named: "polyline")
    XCTAssertEqual(lines.count, 2)
    XCTAssertEqual(
      lines[0].valueOfAttribute("points"), "72.00,40.00 384.00,252.50 696.00,380.00")
    XCTAssertEqual(lines[1].valueOfAttribute("points"), "696.00,337.50 72.00,125.00")
    XCTAssertEqual(svg.texts(inGroup: "legend"), ["train bits/dim", "test bits/dim"])
    XCTAssertEqual(
      svg.texts(inGroup: "tick-labels"),
      ["0", "200", "400", "600", "800", "1000", "3.5", "4.0", "4.5", "5.0", "5.5"])
    let labels = svg.elements(named: "text").filter { $0.valueOfAttribute("class") == "axis-label" }
    XCTAssertEqual(labels.map(\.stringValue), ["step", "bits/dim"])
    let title = svg.elements(named: "text").first { $0.valueOfAttribute("class") == "title" }
    XCTAssertEqual(title?.stringValue, "CDFlow on Fashion-MNIST")
    XCTAssertTrue(svg.elements(named: "circle").isEmpty)
    XCTAssertNotEqual(
      lines[0].parent.flatMap { ($0 as? XMLElement)?.valueOfAttribute("stroke") },
      lines[1].parent.flatMap { ($0 as? XMLElement)?.valueOfAttribute("stroke") })
  }

  /// NaN and infinity split a series into runs; a lone finite point is a
  /// dot; nothing non-finite reaches the file.
  func testNonFiniteValuesBreakTheLine() throws {
    var curve = TrainingCurve()
    for (step, value) in [(0.0, 5.0), (1, .nan), (2, 4.0), (3, 3.0), (4, .infinity), (5, -.infinity)] {
      curve.append(step: step, value: value, to: "train")
    }
    curve.append(step: .nan, value: 4, to: "test")
    XCTAssertEqual(TrainingCurve.finiteRuns(curve.series[0].points).map(\.count), [1, 2])
    let text = curve.svg()
    XCTAssertFalse(text.lowercased().contains("nan"))
    XCTAssertFalse(text.lowercased().contains("inf"))
    let svg = try parse(text)
    XCTAssertEqual(svg.elements(named: "polyline").count, 1)
    XCTAssertEqual(svg.elements(named: "circle").count, 1)
    XCTAssertEqual(svg.texts(inGroup: "legend"), ["train", "test"])
  }

  func testEmptyOnePointAndConstantCurvesAreValid() throws {
    let empty = try parse(TrainingCurve().svg())
    XCTAssertTrue(empty.elements(named: "polyline").isEmpty)
    XCTAssertTrue(empty.elements(named: "text").contains { $0.stringValue == "no data" })
    XCTAssertEqual(empty.texts(inGroup: "tick-labels").count, 12)  // 0 … 1 by 0.2, twice

    var single = TrainingCurve()
    single.append(step: 100, value: 4.2, to: "test bits/dim")
    let one = try parse(single.svg())
    XCTAssertEqual(one.elements(named: "circle").count, 1)
    XCTAssertFalse(one.elements(named: "text").contains { $0.stringValue == "no data" })

    var flat = TrainingCurve()
    for step in 0..<4 { flat.append(step: Double(step), value: 4, to: "flat") }
    let constant = try parse(flat.svg())
    let points = try XCTUnwrap(constant.elements(named: "polyline").first?.valueOfAttribute("points"))
    let heights = Set(points.split(separator: " ").map { $0.split(separator: ",")[1] })
    XCTAssertEqual(heights.count, 1)
    let height = try XCTUnwrap(Double(String(heights.first!)))
    XCTAssertTrue((40.0...380.0).contains(height), "\(height)")
  }

  func testTextIsEscaped() throws {
    var curve = TrainingCurve(title: "a < b & \"c\"")
    curve.append(step: 0, value: 1, to: "x > 'y'")
    curve.append(step: 1, value: 2, to: "x > 'y'")
    let svg = try parse(curve.svg())
    XCTAssertTrue(svg.elements(named: "text").contains { $0.stringValue == "a < b & \"c\"" })
    XCTAssertEqual(svg.texts(inGroup: "legend"), ["x > 'y'"])
  }

  func testWriteSavesTheSVG() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("curve-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var curve = TrainingCurve()
    curve.append(step: 0, value: 8, to: "train bits/dim")
    curve.append(step: 10, value: 6, to: "train bits/dim")
    let url = directory.appendingPathComponent("curve.svg")
    try curve.write(to: url)
    XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), curve.svg())
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["curve.svg"])
  }
}

extension XMLElement {
  /// The attribute's value; FoundationXML's `attribute(forName:)` finds
  /// nothing on elements under a default namespace such as SVG's.
  fileprivate func valueOfAttribute(_ name: String) -> String? {
    attributes?.first { $0.name == name }?.stringValue
  }
}
