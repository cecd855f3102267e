import FlowLayers
import FlowModels
import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// The rectangular flow of FlowModels and its PyTorch peer
/// (`Benchmarks/peers/torch_rectangular.py`, which `flowbench rectangular`
/// times against it) are the same model: the same parameters, batch and
/// probes give the same exact and stochastic losses and gradients.
///
/// The fixtures `rectangular_peer_<case>.safetensors`
/// (Fixtures/make_rectangular_peer_fixtures.py) hold small models built and
/// perturbed by the peer, under Swift's parameter names, with the padding's
/// permutation, a batch, the probes Swift's generator draws for the
/// stochastic loss, and what PyTorch computes, in Double. The other
/// direction (the peer reading Swift's models) is `flowbench rectangular --check`.
final class RectangularPeerTests: XCTestCase {
  func testSwiftReproducesThePyTorchPeerOnItsModels() throws {
    for name in ["d3", "d1"] {
      try checkPeerFixture(named: name, Double.self, relative: 1e-10)
      try checkPeerFixture(named: name, Float.self, relative: 1e-4)
    }
  }

  private func checkPeerFixture<Scalar: TensorScalar>(named name: String, _: Scalar.Type, relative: Double) throws {
    let url = Fixtures.directory().appendingPathComponent("rectangular_peer_\(name).safetensors")
    let file = try SafetensorsFile(contentsOf: url)
    let label = "\(name) \(Scalar.self)"
    func integer(_ key: String) throws -> Int { try XCTUnwrap(Int(XCTUnwrap(file.metadata[key])), "\(label): \(key)") }
    func integers(_ key: String) throws -> [Int] {
      try JSONDecoder().decode([Int].self, from: Data(XCTUnwrap(file.metadata[key]).utf8))
    }
    let indices = try integers("indices")
    let latentSize = try integer("latentSize")
    let configuration = RectangularFlowConfiguration(
      ambientSize: indices.count, latentSize: latentSize, couplingLayers: try integer("couplingLayers"),
      hiddenSizes: try integers("hiddenSizes"), priorCouplingLayers: try integer("priorCouplingLayers"),
      priorHiddenSizes: try integers("priorHiddenSizes"))
    var model = RealNVPRectangularFlow<Scalar>(configuration: configuration)
    model.injection.injection = ZeroPadding(latentSize: latentSize, indices: indices)
    var tensors: [String: Tensor<Scalar>] = [:]
    for tensorName in file.names { tensors[tensorName] = try file.tensor(named: tensorName, as: Scalar.self) }
    XCTAssertEqual(
      Set(model.parameters.map(\.name)),
      Set(file.names.filter { !$0.hasPrefix("input.") && !$0.hasPrefix("expected.") }),
      "\(label): the two models' parameters differ")
    try model.loadParameters(tensors)
    let x = try XCTUnwrap(tensors["input.x"])
    let beta = try XCTUnwrap(Double(XCTUnwrap(file.metadata["beta"])))
    let settings = HutchinsonSettings(
      probes: try integer("probes"), tolerance: try XCTUnwrap(Double(XCTUnwrap(file.metadata["tolerance"]))))

    // The probes are the first draw of the stochastic loss's generator.
    let probeGenerator = SeededGenerator(seed: UInt64(try integer("probeSeed")))
    var copy = probeGenerator
    assertClose(
      Tensor<Scalar>.randomNormal(shape: [settings.probes, x.shape[0], latentSize], using: &copy),
      try XCTUnwrap(tensors["input.epsilon"]), absolute: Scalar(1e-12), relative: Scalar(1e-12),
      "\(label): the fixture's probes are not SeededGenerator's")

    let unused = SeededGenerator(seed: 0)
    var iterations: Int? = nil
    for estimator in [RectangularFlowEstimator.exact, .stochastic(settings)] {
      let key = estimator == .exact ? "exact" : "stochastic"
      let objective = RectangularFlowObjective(estimator: estimator, reconstructionWeight: beta)
      var generator = estimator == .exact ? unused : probeGenerator
      let (value, gradients) = try valueWithGradient(at: model) { model -> Tensor<Scalar> in
        let loss = try model.loss(on: x, objective: objective, step: 0, using: &generator)
        if estimator != .exact { iterations = loss.conjugateGradientIterations }
        return loss.value
      }
      assertClose(
        value, try XCTUnwrap(tensors["expected.\(key).loss"]), relative: Scalar(relative), "\(label) \(key) loss")
      for (parameter, gradient) in gradients {
        let expected = try XCTUnwrap(
          tensors["expected.\(key).gradient.\(parameter)"], "\(label): no PyTorch \(key) gradient of \(parameter)")
        let scale = expected.scalars.map { abs(Double($0)) }.max() ?? 0
        let deviation = zip(gradient.scalars, expected.scalars).map { abs(Double($0) - Double($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(deviation, relative * scale, "\(label) \(key) gradient of \(parameter)")
        XCTAssertGreaterThan(scale, 0, "\(label) \(key) gradient of \(parameter) is zero: the check is empty")
      }
    }
    XCTAssertEqual(iterations, try integer("cgIterations"), "\(label): CG iterations")
  }
}
