import Foundation

/// A child process run to its end: the peer scripts and flowbench's own
/// cases in processes of their own.
struct ChildProcess {
  /// The exit status.
  var status: Int32
  /// Everything written to standard output.
  var output: Data
  /// Everything written to standard error.
  var errors: String

  /// Runs `executable arguments` and reads both outputs.
  /// - Throws: the error of `Process.run` when the child does not start.
  static func run(executable: String, arguments: [String]) throws -> ChildProcess {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // Read before waiting, so a full pipe cannot block the child.
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return ChildProcess(status: process.terminationStatus, output: data, errors: errorText)
  }

  /// `python Benchmarks/peers/<script> arguments`, through `env`.
  static func runPeer(script: String, arguments: [String], python: String) throws -> ChildProcess {
    try run(
      executable: "/usr/bin/env", arguments: [python, Peers.directory.appendingPathComponent(script).path] + arguments)
  }

  /// The one JSON object printed on standard output, if it is one.
  var jsonObject: [String: Any]? { try? JSONSerialization.jsonObject(with: output) as? [String: Any] }

  /// Why it failed: its standard error, or its exit status when that is empty.
  var reason: String {
    let text = errors.trimmingCharacters(in: .whitespacesAndNewlines)
    return text.isEmpty ? "exit status \(status)" : text
  }
}
