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
    let child: ChildProcess
    do {
      child = try ChildProcess.runPeer(script: script, arguments: arguments, python: python)
    } catch {
      report.notes.append("peer \(script) did not start with \(python): \(error)")
      return
    }
    guard child.status == 0 else {
      report.notes.append("peer \(script) skipped: \(child.reason)")
      return
    }
    guard let object = child.jsonObject,
      let results = object["results"] as? [[String: Any]]
    else {
      report.notes.append("peer \(script) printed no JSON object")
      return
    }
    report.rows += results.compactMap(ResultRow.init(json:))
    if let notes = object["notes"] as? [String] { report.notes += notes }
  }
}
