import Foundation
import XCTest

/// Programming mistakes stop at a precondition whose message names the
/// values; these tests run `PreconditionProbe` (built beside the test
/// bundle) once per mistake and read what it printed before it stopped.
final class PreconditionMessageTests: XCTestCase {
  func testMessagesNameTheOffendingValues() throws {
    let expectations = [
      "add-shapes": "add: shapes [2, 3] and [4] do not broadcast (sizes 3 and 4 on axis 1 of the result)",
      "tensor-scalar-count": "Tensor(shape:scalars:): shape [2, 2] holds 4 scalars, got 3",
      "subscript-range": "Tensor subscript: index 3 out of range 0..<3 on axis 1 of shape [2, 3]",
      "arange-step": "arange: step 0.0 must be finite and nonzero",
    ]
    for (mistake, message) in expectations {
      let (status, errorOutput) = try runProbe(mistake)
      XCTAssertNotEqual(status, 0, "\(mistake) did not stop")
      XCTAssertTrue(errorOutput.contains(message), "\(mistake): expected «\(message)» in «\(errorOutput)»")
    }
  }
}

/// Runs the probe with one mistake; returns its exit status and standard error.
func runProbe(_ mistake: String) throws -> (Int32, String) {
  let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  let probe = bundleDirectory.appendingPathComponent("PreconditionProbe")
  let process = Process()
  process.executableURL = probe
  process.arguments = [mistake]
  let errors = Pipe()
  process.standardError = errors
  process.standardOutput = Pipe()
  try process.run()
  let data = errors.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
