import FlowLayers
import FlowModels
import FlowTensor
import Foundation

/// Child processes and the files `flowbench rectangular` shares with them.
enum RectangularProcesses {
  /// Runs `executable arguments` and reads the one JSON object it prints.
  /// - Returns: the object, or a sentence saying why there is none (the
  ///   child's standard error, or its exit status).
  static func runJSON(executable: String, arguments: [String]) -> Result<[String: Any], ChildFailure> {
    let child: ChildProcess
    do {
      child = try ChildProcess.run(executable: executable, arguments: arguments)
    } catch {
      return .failure(ChildFailure(reason: "did not start: \(error)"))
    }
    guard child.status == 0, let object = child.jsonObject else {
      // The last lines carry a Python traceback's message or Swift's fatal error.
      let reason = child.errors.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").suffix(3)
        .joined(separator: " | ")
      return .failure(ChildFailure(reason: reason.isEmpty ? "exit status \(child.status)" : reason))
    }
    return .success(object)
  }

  /// `python Benchmarks/peers/torch_rectangular.py arguments`, through `env` as ``Peers`` runs its scripts.
  static func runPeer(python: String, arguments: [String]) -> Result<[String: Any], ChildFailure> {
    runJSON(
      executable: "/usr/bin/env",
      arguments: [python, Peers.directory.appendingPathComponent("torch_rectangular.py").path] + arguments)
  }

  /// This executable, to run a case in a process of its own.
  static var executable: String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
  }

  /// What the peer needs besides the parameters to rebuild a model: the
  /// padding's permutation and the architecture, as safetensors metadata.
  static func metadata<Scalar: TensorScalar>(
    of model: RealNVPRectangularFlow<Scalar>, configuration: RectangularFlowConfiguration
  ) -> [String: String] {
    func json(_ values: [Int]) -> String { "[" + values.map(String.init).joined(separator: ",") + "]" }
    return [
      "indices": json(model.injection.injection.indices), "latentSize": "\(configuration.latentSize)",
      "couplingLayers": "\(configuration.couplingLayers)", "hiddenSizes": json(configuration.hiddenSizes),
      "priorCouplingLayers": "\(configuration.priorCouplingLayers)",
      "priorHiddenSizes": json(configuration.priorHiddenSizes),
    ]
  }

  /// A fresh temporary directory; the caller removes it.
  static func temporaryDirectory(_ name: String) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
  }
}

/// Why a child process gave no JSON object.
struct ChildFailure: Error {
  let reason: String
}
