import Foundation

/// The `flows` command line, run as a subprocess by the command-line tests:
/// it is built beside the test bundle, as `PreconditionProbe` is.
enum FlowsExecutable {
  struct Missing: Error, CustomStringConvertible {
    var path: String
    var description: String { "\(path) is missing: build the flows product (swift build)" }
  }

  /// Runs `flows` with `arguments` in `directory`.
  /// - Returns: the exit status, standard output and standard error.
  static func run(_ arguments: [String], in directory: URL) throws -> (status: Int32, output: String, errors: String) {
    let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let executable = bundleDirectory.appendingPathComponent("flows")
    guard FileManager.default.isExecutableFile(atPath: executable.path) else { throw Missing(path: executable.path) }
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = directory
    let output = Pipe()
    process.standardOutput = output
    // Standard error to a file, so that neither stream can fill up and block the child.
    let errorFile = directory.appendingPathComponent("stderr-\(UUID().uuidString).txt")
    _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
    let errors = try FileHandle(forWritingTo: errorFile)
    process.standardError = errors
    try process.run()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try errors.close()
    let errorData = try Data(contentsOf: errorFile)
    try FileManager.default.removeItem(at: errorFile)
    return (
      process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self)
    )
  }
}
