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
      "optimizer-gradient-shape": "gradient of 'values' has shape [2], the parameter has shape [3]",
      "optimizer-unknown-gradient": "gradients [\"weights\"] name no parameter of the model",
      "sgd-momentum": "SGD: momentum -1.0 must be finite and non-negative",
      "backward-twice": "the graph through 'sum(alongAxes: [0])' was already used by a backward pass",
      "jvp-direction-shape": "direction of shape [3, 2] for an input of shape [2, 3]",
      "matmul-inner": "matmul: [3, 4] × [5, 6]: inner dimensions 4 and 5 differ",
      "conv2d-channels": "input [1, 3, 8, 8] has 3 channels, filter [4, 2, 3, 3] expects 2",
      "irfft-bins": "irfft: shape [3, 4, 2]: length 8 needs 5 bins in the last-but-one axis, got 4",
      "fft-complex-axis": "fft: shape [3, 4]: needs complex rows [..., n, 2]",
      "sum-axis": "sum over axes [2] of shape [2, 3]: axis 2 out of range for rank 2",
      "max-empty": "max: axes [1] of shape [2, 0] hold no scalars",
      "slogdet-square": "slogdet: shape [2, 3] is not a square matrix",
      "select-shapes": "shapes [2] and [3] do not broadcast (sizes 2 and 3 on axis 0 of the result)",
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
