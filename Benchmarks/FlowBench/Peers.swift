import Foundation

/// Runs a peer script of `Benchmarks/peers/` and reads its rows.
///
/// The script prints one JSON object like flowbench's own; when the Python
/// lacks the library it needs, the script says so and exits with status 3,
/// and the report carries that sentence instead of failing.
enum Peers {
  /// `Benchmarks/peers`, found from this source file's location in the checkout.
  static var directory: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("peers")
  }

  static func run(script: String, arguments: [String], python: String, into report: inout Report) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python, directory.appendingPathComponent(script).path] + arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    do {
      try process.run()
    } catch {
      report.notes.append("peer \(script) did not start with \(python): \(error)")
      return
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      let reason = errorText.trimmingCharacters(in: .whitespacesAndNewlines)
      report.notes.append("peer \(script) skipped: \(reason.isEmpty ? "exit status \(process.terminationStatus)" : reason)")
      return
    }
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let results = object["results"] as? [[String: Any]]
    else {
      report.notes.append("peer \(script) printed no JSON object")
      return
    }
    report.rows += results.compactMap(ResultRow.init(json:))
    if let notes = object["notes"] as? [String] { report.notes += notes }
  }
}
