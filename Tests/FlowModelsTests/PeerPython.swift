import Foundation

/// A Python that imports torch, running the PyTorch peer scripts of
/// `Benchmarks/peers/` for the peer tests.
struct PeerPython {
  let executable: String

  static var packageRoot: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  }

  /// `$environmentVariable`, the package's `.venv-peers/bin/python`, or
  /// `python3`: the first that imports torch; nil when none does.
  static func find(environmentVariable: String) -> PeerPython? {
    let candidates = [
      ProcessInfo.processInfo.environment[environmentVariable],
      packageRoot.appendingPathComponent(".venv-peers/bin/python").path, "python3",
    ].compactMap { $0 }
    for candidate in candidates where run(candidate, ["-c", "import torch"]).status == 0 {
      return PeerPython(executable: candidate)
    }
    return nil
  }

  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  /// Runs `Benchmarks/peers/<script>` with `arguments` and reads what it
  /// prints as one JSON object.
  /// - Parameters:
  ///   - label: names the run in the failure, e.g. "cdflow_train.py --mode check".
  ///   - value: the wanted part of the object; nil when it is not there.
  /// - Throws: ``Failure`` (with the exit status and both outputs) when the
  ///   output is no JSON object or lacks the wanted part.
  func runScript<Value>(
    _ script: String, _ arguments: [String], label: String, value: ([String: Any]) -> Value?
  ) throws -> Value {
    let path = Self.packageRoot.appendingPathComponent("Benchmarks/peers/\(script)").path
    let (status, output, errors) = Self.run(executable, [path] + arguments)
    guard let object = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
      let result = value(object)
    else {
      throw Failure(description: "\(label) exited with \(status): \(output) \(errors)")
    }
    return result
  }

  private static func run(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String, errors: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    do { try process.run() } catch { return (-1, "", "\(error)") }
    // Read before waiting, so a full pipe cannot block the child.
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
  }
}
