// A program that makes one programming mistake, named on its command line,
import Foundation
// so that `PreconditionMessageTests` can check the message a user would
// read. A precondition stops the process; XCTest cannot catch that in its
// own process, so the tests run this one and read its standard error.
import FlowTensor

let mistakes: [String: () -> Void] = [
  "add-shapes": {
    _ = Tensor<Float>.zeros(shape: [2, 3]) + Tensor<Float>.zeros(shape: [4])
  },
  "tensor-scalar-count": {
    _ = Tensor<Double>(shape: [2, 2], scalars: [1, 2, 3])
  },
  "subscript-range": {
    _ = Tensor<Double>.zeros(shape: [2, 3])[1, 3]
  },
  "matmul-inner": {
    _ = matmul(Tensor<Float>.zeros(shape: [3, 4]), Tensor<Float>.zeros(shape: [5, 6]))
  },
  "conv2d-channels": {
    _ = conv2d(Tensor<Float>.zeros(shape: [1, 3, 8, 8]), filter: Tensor<Float>.zeros(shape: [4, 2, 3, 3]))
  },
  "irfft-bins": {
    _ = irfft(Tensor<Double>.zeros(shape: [3, 4, 2]), length: 8)
  },
  "fft-complex-axis": {
    _ = fft(Tensor<Double>.zeros(shape: [3, 4]))
  },
  "sum-axis": {
    _ = Tensor<Double>.zeros(shape: [2, 3]).sum(alongAxes: [2])
  },
  "max-empty": {
    _ = Tensor<Double>.zeros(shape: [2, 0]).max(alongAxes: [1])
  },
  "slogdet-square": {
    _ = slogdet(Tensor<Double>.zeros(shape: [2, 3]))
  },
  "select-shapes": {
    _ = select(where: Tensor<Double>.zeros(shape: [2]), Tensor<Double>.zeros(shape: [3]), else: Tensor<Double>(0))
  },
  "backward-twice": {
    let leaf = Tensor<Double>([1, 2]).requiringGradient()
    let loss = exp(leaf).sum()
    _ = gradient(of: loss, withRespectTo: [leaf])
    _ = gradient(of: loss, withRespectTo: [leaf])
  },
  "jvp-direction-shape": {
    _ = jvp(of: { $0 * 2 }, at: Tensor<Double>.zeros(shape: [2, 3]), along: Tensor<Double>.zeros(shape: [3, 2]))
  },
  "optimizer-gradient-shape": {
    var model = ProbeVector(values: Tensor<Double>.zeros(shape: [3]))
    var optimizer = Adam<Double>()
    optimizer.update(&model, along: ["values": Tensor<Double>.zeros(shape: [2])])
  },
  "optimizer-unknown-gradient": {
    var model = ProbeVector(values: Tensor<Double>.zeros(shape: [3]))
    var optimizer = SGD<Double>(learningRate: 0.1)
    optimizer.update(&model, along: ["weights": Tensor<Double>.zeros(shape: [3])])
  },
  "sgd-momentum": {
    _ = SGD<Double>(learningRate: 0.1, momentum: -1)
  },
  "arange-step": {
    _ = Tensor<Double>.arange(from: 0, to: 1, by: 0)
  },
]

/// One parameter tensor, for the optimizer mistakes.
struct ProbeVector: Layer {
  var values: Tensor<Double>
  mutating func visitParameters(with visitor: ParameterVisitor<Double>) { visitor.visit("values", &values) }
}

let arguments = CommandLine.arguments
guard arguments.count == 2, let mistake = mistakes[arguments[1]] else {
  print("usage: PreconditionProbe MISTAKE; mistakes: \(mistakes.keys.sorted().joined(separator: ", "))")
  exit(2)
}
mistake()
print("no precondition stopped \(arguments[1])")
