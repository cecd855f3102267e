import FlowTensor
import Foundation

extension ResultRow {
  /// A row of a value that is not a timing (MB, iterations): `median` holds
  /// the value (for means, the mean).
  init(
    caseName: String, implementation: String, sizes: [(key: String, value: Int)], dtype: String, unit: String,
    median: Double, minimum: Double, maximum: Double
  ) {
    self.caseName = caseName
    self.implementation = implementation
    self.sizes = sizes
    self.dtype = dtype
    self.unit = unit
    self.median = median
    self.minimum = minimum
    self.maximum = maximum
  }

  /// The value of the size `key`, if the row has it.
  func size(_ key: String) -> Int? {
    sizes.first { $0.key == key }?.value
  }
}

/// The table of `flowbench rectangular`: one line per (d, estimator) with
/// Swift's and PyTorch's ms per step, their ratio, peak memory and CG
/// iterations, then from which d the stochastic estimator is the faster.
struct RectangularTable {
  let latentSizes: [Int]
  let estimators: [String]

  func print(_ report: Report) {
    Swift.print(
      "flowbench rectangular: \(Parallel.threadCount) threads\(isOptimizedBuild ? "" : " (DEBUG BUILD: numbers are meaningless)")")
    for note in report.notes { Swift.print("note: \(note)") }
    func value(_ caseName: String, _ implementation: String, _ d: Int) -> Double? {
      report.rows.first { $0.caseName == caseName && $0.implementation == implementation && $0.size("latent") == d }?
        .median
    }
    let header = [
      "d", "estimator", "Swift ms", "PyTorch ms", "PyTorch/Swift", "Swift MB peak (growth)",
      "PyTorch MB peak (growth)", "CG it. Swift", "CG it. PyTorch",
    ]
    var table = [header]
    for d in latentSizes {
      for estimator in estimators {
        let swift = value("training-step-\(estimator)", "swift", d)
        let torch = value("training-step-\(estimator)", "torch", d)
        let ratio = swift.flatMap { s in torch.map { String(format: "%.2f", $0 / s) } } ?? "-"
        func memory(_ implementation: String) -> String {
          guard let peak = value("peak-memory-\(estimator)", implementation, d) else { return "-" }
          let growth = value("memory-growth-\(estimator)", implementation, d) ?? .nan
          return String(format: "%.0f (+%.0f)", peak, growth)
        }
        func iterations(_ implementation: String) -> String {
          value("cg-iterations-stochastic", implementation, d).map { String(format: "%.1f", $0) } ?? "-"
        }
        table.append([
          "\(d)", estimator, swift.map(format) ?? "-", torch.map(format) ?? "-", ratio, memory("swift"), memory("torch"),
          estimator == "stochastic" ? iterations("swift") : "", estimator == "stochastic" ? iterations("torch") : "",
        ])
      }
    }
    let widths = header.indices.map { column in table.map { $0[column].count }.max()! }
    for line in table {
      Swift.print(
        line.indices.map { line[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
    if estimators.count == 2 {
      let crossings = [("swift", "Swift"), ("torch", "PyTorch")].map { implementation, name in
        "\(name) \(crossover(implementation: implementation, value: value))"
      }
      Swift.print("stochastic faster than exact: \(crossings.joined(separator: "; ")).")
    }
    Swift.print(
      "PyTorch/Swift: PyTorch's ms over Swift's (> 1: Swift is faster). MB: peak resident set of the case's process during "
        + "the training steps, (growth) its rise over the resident set before them. CG it.: mean CG iterations per step (largest over the step's rows).")
  }

  /// "from d = 20 on" when stochastic is faster at that d and every larger
  /// one measured, else "at no measured d" (or "not measured").
  func crossover(implementation: String, value: (String, String, Int) -> Double?) -> String {
    var from: Int? = nil
    var measured = false
    for d in latentSizes.sorted() {
      guard let exact = value("training-step-exact", implementation, d),
        let stochastic = value("training-step-stochastic", implementation, d)
      else { continue }
      measured = true
      if stochastic < exact {
        if from == nil { from = d }
      } else {
        from = nil
      }
    }
    guard measured else { return "not measured" }
    return from.map { "from d = \($0) on" } ?? "at no measured d"
  }

  private func format(_ value: Double) -> String {
    value >= 100 ? String(format: "%.1f", value) : String(format: "%.2f", value)
  }
}
