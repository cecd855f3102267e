@testable import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// A failed save never destroys the previous file and leaves no temporary file.
final class AtomicSaveTests: XCTestCase {
  private struct InjectedFailure: Error, Equatable {}

  private let previous: [String: Tensor<Double>] = ["w": Tensor([1, 2, 3])]
  private let next: [String: StoredTensor] = [
    "w": .double(Tensor([4, 5, 6])), "v": .float(Tensor.ones(shape: [1000])),
  ]

  private func contents(of directory: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
  }

  func testInjectedFailureAtEachStepKeepsThePreviousFile() throws {
    let directory = try makeTemporaryDirectory(for: self)
    let url = directory.appendingPathComponent("model.safetensors")
    try Safetensors.write(previous, metadata: ["version": "1"], to: url)
    let before = try Data(contentsOf: url)

    for step in [AtomicFile.Step.partiallyWritten, .synced] {
      var reached: [AtomicFile.Step] = []
      XCTAssertThrowsError(
        try Safetensors.write(next, metadata: [:], to: url) { current in
          reached.append(current)
          // While the save runs, the temporary file sits beside the target.
          XCTAssertEqual(try self.contents(of: directory).count, 2)
          if current == step { throw InjectedFailure() }
        }
      ) { error in XCTAssertEqual(error as? InjectedFailure, InjectedFailure(), "\(step)") }
      XCTAssertEqual(reached.last, step)
      XCTAssertEqual(try Data(contentsOf: url), before, "\(step)")
      XCTAssertEqual(try contents(of: directory), ["model.safetensors"], "\(step): temporary file left behind")
      XCTAssertEqual(try SafetensorsFile(contentsOf: url).metadata, ["version": "1"])
    }

    // Without a failure, the save replaces the file.
    try Safetensors.write(next, to: url)
    XCTAssertEqual(try contents(of: directory), ["model.safetensors"])
    XCTAssertEqual(try SafetensorsFile(contentsOf: url).tensor(named: "w", as: Double.self).scalars, [4, 5, 6])
  }

  /// A real failure: the rename cannot replace a directory at the target.
  func testFailedRenameRemovesTheTemporaryFile() throws {
    let directory = try makeTemporaryDirectory(for: self)
    let url = directory.appendingPathComponent("occupied")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
    try Data("keep".utf8).write(to: url.appendingPathComponent("inside"))
    XCTAssertThrowsError(try Safetensors.write(next, to: url)) { error in
      guard case let .cannotWrite(path, reason)? = error as? SafetensorsError else { return XCTFail("\(error)") }
      XCTAssertEqual(path, url.path)
      XCTAssertTrue(reason.hasPrefix("renaming "), reason)
    }
    XCTAssertEqual(try contents(of: directory), ["occupied"])
    XCTAssertEqual(try Data(contentsOf: url.appendingPathComponent("inside")), Data("keep".utf8))
  }

  /// A real failure: the directory does not exist, so nothing can be created.
  func testMissingDirectoryThrows() throws {
    let directory = try makeTemporaryDirectory(for: self)
    let url = directory.appendingPathComponent("absent/model.safetensors")
    XCTAssertThrowsError(try Safetensors.write(next, to: url)) { error in
      guard case let .cannotWrite(path, reason)? = error as? SafetensorsError else { return XCTFail("\(error)") }
      XCTAssertEqual(path, url.path)
      XCTAssertTrue(reason.hasPrefix("cannot create the temporary file"), reason)
      XCTAssertTrue(reason.hasSuffix("No such file or directory"), reason)
    }
    XCTAssertEqual(try contents(of: directory), [])
  }
}
