import ArgumentParser
import Foundation
import NormalizingFlows

/// `flows tour`: the tensor core on seeded random data, printing what each
/// step computed and checking it against an independent route.
struct Tour: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the tensor core at work on seeded random data.")

  @Option(help: "Seed of the random generator.")
  var seed: UInt64 = 0

  @Option(help: "Size of the square matrix and of the signal.")
  var size = 256

  func run() throws {
    var generator = SeededGenerator(seed: seed)
    print("FlowTensor tour: seed \(seed), size \(size), \(Parallel.threadCount) threads\n")

    // A log-determinant two ways: LAPACK's LU, and the log-det of a
    // Cholesky factor of WᵀW (log|det W| = Σ log diag L).
    let w = Tensor<Double>.randomNormal(shape: [size, size], using: &generator) / Double(size).squareRoot()
    let (sign, logDeterminant) = timed("slogdet(W), LU") { slogdet(w) }
    let gram = matmul(w, w, transposingA: true)
    let cholesky = try timed("cholesky(WᵀW)") { try choleskyFactorization(gram) }
    let diagonal = cholesky.gathering(indices: IndexTensor(shape: [size, 1], indices: Array(0..<size)), alongAxis: 1)
    let viaCholesky = log(diagonal).sum().scalar
    print("  log|det W| = \(fmt(logDeterminant.scalar)) (sign \(sign.scalar)); via Cholesky: \(fmt(viaCholesky))\n")

    // A solve, checked by its residual.
    let b = Tensor<Double>.randomNormal(shape: [size, 4], using: &generator)
    let x = try timed("solve(W, B)") { try solve(w, b) }
    let residual = abs(matmul(w, x) - b).max().scalar
    print("  max |W·X − B| = \(fmt(residual))\n")

    // FFT round trip and Parseval's identity on a batch of signals.
    let signal = Tensor<Float>.randomNormal(shape: [64, size], using: &generator)
    let spectrum = timed("rfft [64, \(size)]") { rfft(signal) }
    let back = irfft(spectrum, length: size)
    print("  spectrum shape \(spectrum.shape); max |irfft(rfft(x)) − x| = \(fmt(Double(abs(back - signal).max().scalar)))\n")

    // Tails of the normal distribution: Φ⁻¹ at 1e-300 and Φ back.
    let probabilities = Tensor<Double>([1e-300, 1e-20, 0.025, 0.5, 1 - 1e-16])
    let quantiles = inverseNormalCDF(probabilities)
    print("Φ⁻¹ of \(probabilities.scalars)\n  = \(quantiles.scalars.map(fmt))")
    print("Φ of those = \(normalCDF(quantiles).scalars)\n")

    // Softmax over broadcast logits.
    let logits = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 1000, 1000, 1000])
    print("softmax of \(logits.scalars) by rows = \(softmax(logits).scalars)")
  }

  private func timed<Result>(_ label: String, _ body: () throws -> Result) rethrows -> Result {
    let start = DispatchTime.now().uptimeNanoseconds
    let result = try body()
    let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-6
    print("\(label): \(String(format: "%.2f", milliseconds)) ms")
    return result
  }

  private func fmt(_ value: Double) -> String { String(format: "%.6g", value) }
}
