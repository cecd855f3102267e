import FlowLayers
import FlowModels
import FlowTensor
import Foundation

/// Checks that `torch_rectangular.py` trains the model Swift trains: for the
/// same parameters (written with `Layer.save`, the padding's permutation
/// and the architecture in the metadata), the same batch and the same
/// Hutchinson probes, the exact and the stochastic losses and their
/// gradients must agree.
///
/// Every parameter is perturbed by N(0, 0.01²) first, so that the
/// zero-initialised last layers matter and g is no longer the padding
/// (whose JᵀJ = I would make both estimators trivial). The probes are the
/// ones the stochastic loss draws: a copy of its generator draws them
/// first, as ``RectangularFlow/hutchinsonSurrogate(at:settings:using:)``
/// does.
struct RectangularPeerCheck {
  let settings: RectangularBenchmarkSettings
  let latentSize: Int
  let batchSize: Int

  /// One note per precision: the differences, and whether they are within
  /// tolerance (relative 1e-4 in Float, 1e-9 in Double, on the losses and
  /// gradient norms; 100 times that on the worst gradient entry relative to
  /// its tensor's largest).
  func run(python: String, threads: Int) -> [String] {
    [
      compare(Float.self, tolerance: 1e-4, python: python, threads: threads),
      compare(Double.self, tolerance: 1e-9, python: python, threads: threads),
    ]
  }

  func compare<Scalar: TensorScalar>(_: Scalar.Type, tolerance: Double, python: String, threads: Int) -> String {
    let precision = Scalar.self == Float.self ? "float32" : "float64"
    let title = "rectangular peer check (\(precision), d = \(latentSize), D = \(settings.ambientSize), batch \(batchSize))"
    do {
      let directory = try RectangularProcesses.temporaryDirectory("flowbench-rectangular-check")
      defer { try? FileManager.default.removeItem(at: directory) }
      let parametersURL = directory.appendingPathComponent("parameters.safetensors")
      let dataURL = directory.appendingPathComponent("data.safetensors")
      try writeFiles(Scalar.self, parameters: parametersURL, data: dataURL)
      let arguments = ["--check", dataURL.path, parametersURL.path, "--threads", "\(threads)"] + settings.peerArguments
      let result: [String: Any]
      switch RectangularProcesses.runPeer(python: python, arguments: arguments) {
      case .success(let object): result = object
      case .failure(let failure): return "\(title) NOT RUN: \(failure.reason)"
      }
      var same = true
      for estimator in ["exact", "stochastic"] {
        for (key, bound) in [
          ("loss_relative_difference", tolerance), ("gradient_norm_relative_difference", tolerance),
          ("gradient_max_relative_difference", 100 * tolerance),
        ] {
          let value = (result["\(estimator)_\(key)"] as? NSNumber)?.doubleValue ?? .nan
          if !(value <= bound) { same = false }
        }
      }
      let details = result.keys.sorted().map { "\($0) \(result[$0]!)" }.joined(separator: ", ")
      return "\(title): \(same ? "same" : "DIFFERENT") within relative \(tolerance): \(details)"
    } catch {
      return "\(title) NOT RUN: \(error)"
    }
  }

  /// The perturbed model's parameters, and the batch, probes, Swift's
  /// losses (metadata) and gradients (tensors `<estimator>.gradient.<name>`).
  private func writeFiles<Scalar: TensorScalar>(_: Scalar.Type, parameters: URL, data: URL) throws {
    let configuration = settings.configuration(latentSize: latentSize, seed: 42)
    var model = RealNVPRectangularFlow<Scalar>(configuration: configuration)
    var generator = SeededGenerator(seed: 43)
    var perturbed: [String: Tensor<Scalar>] = [:]
    for (name, value) in model.parameters {
      perturbed[name] = value + Tensor.randomNormal(shape: value.shape, standardDeviation: 0.01, using: &generator)
    }
    try model.loadParameters(perturbed)
    let x = Tensor<Scalar>.randomUniform(shape: [batchSize, settings.ambientSize], in: -0.5..<0.5, using: &generator)
    var tensors: [String: Tensor<Scalar>] = ["x": x]
    var metadata: [String: String] = [:]

    var unused = SeededGenerator(seed: 0)
    let exactObjective = RectangularFlowObjective(
      estimator: .exact, reconstructionWeight: settings.reconstructionWeight)
    let exact = try valueWithGradient(at: model) {
      try $0.loss(on: x, objective: exactObjective, step: 0, using: &unused).value
    }
    record("exact", exact, into: &tensors, &metadata)

    var probeGenerator = SeededGenerator(seed: 44)
    var copy = probeGenerator
    tensors["epsilon"] = Tensor<Scalar>.randomNormal(
      shape: [settings.hutchinson.probes, batchSize, latentSize], using: &copy)
    let stochasticObjective = RectangularFlowObjective(
      estimator: .stochastic(settings.hutchinson), reconstructionWeight: settings.reconstructionWeight)
    var iterations = -1
    let stochastic = try valueWithGradient(at: model) { model -> Tensor<Scalar> in
      let loss = try model.loss(on: x, objective: stochasticObjective, step: 0, using: &probeGenerator)
      iterations = loss.conjugateGradientIterations ?? -1
      return loss.value
    }
    record("stochastic", stochastic, into: &tensors, &metadata)
    metadata["stochastic.cgIterations"] = "\(iterations)"

    try model.save(to: parameters, metadata: RectangularProcesses.metadata(of: model, configuration: configuration))
    try Safetensors.write(tensors, metadata: metadata, to: data)
  }

  private func record<Scalar: TensorScalar>(
    _ estimator: String, _ result: (value: Tensor<Scalar>, gradients: [String: Tensor<Scalar>]),
    into tensors: inout [String: Tensor<Scalar>], _ metadata: inout [String: String]
  ) {
    var squares = 0.0
    for (name, gradient) in result.gradients {
      tensors["\(estimator).gradient.\(name)"] = gradient
      squares += gradient.scalars.reduce(0) { $0 + Double($1) * Double($1) }
    }
    metadata["\(estimator).loss"] = "\(Double(result.value.scalar))"
    metadata["\(estimator).gradientNorm"] = "\(squares.squareRoot())"
  }
}
