import FlowTensor
import Foundation

/// One measured case, flat as DESIGN.md's machine-readable output asks:
/// `case`, `impl`, size keys, `dtype`, `unit`, `median`, `min`, `max`.
struct ResultRow {
  var caseName: String
  var implementation: String
  var sizes: [(key: String, value: Int)]
  var dtype: String
  var unit: String
  var median: Double
  var minimum: Double
  var maximum: Double

  /// A row from timings: `ms`, or a rate (`GFLOP/s`, `GB/s`) given the work
  /// one run does in that unit's numerator.
  init(
    caseName: String, implementation: String, sizes: [(key: String, value: Int)], dtype: String,
    unit: String, timing: Timing, workPerRun: Double? = nil
  ) {
    self.caseName = caseName
    self.implementation = implementation
    self.sizes = sizes
    self.dtype = dtype
    self.unit = unit
    if let work = workPerRun {
      median = work / timing.median
      minimum = work / timing.maximum
      maximum = work / timing.minimum
    } else {
      median = timing.median * 1e3
      minimum = timing.minimum * 1e3
      maximum = timing.maximum * 1e3
    }
  }

  init?(json object: [String: Any]) {
    guard let caseName = object["case"] as? String, let implementation = object["impl"] as? String,
      let dtype = object["dtype"] as? String, let unit = object["unit"] as? String,
      let median = object["median"] as? Double
    else { return nil }
    self.caseName = caseName
    self.implementation = implementation
    self.dtype = dtype
    self.unit = unit
    self.median = median
    minimum = object["min"] as? Double ?? median
    maximum = object["max"] as? Double ?? median
    let reserved: Set<String> = ["case", "impl", "dtype", "unit", "median", "min", "max"]
    sizes = object.filter { !reserved.contains($0.key) }.compactMap { key, value in
      (value as? Int).map { (key: key, value: $0) }
    }.sorted { $0.key < $1.key }
  }

  var jsonObject: [String: Any] {
    var object: [String: Any] = [
      "case": caseName, "impl": implementation, "dtype": dtype, "unit": unit,
      "median": median, "min": minimum, "max": maximum,
    ]
    for size in sizes { object[size.key] = size.value }
    return object
  }

  /// What identifies the workload regardless of who ran it.
  var workloadKey: String {
    ([caseName, dtype] + sizes.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
  }
}

/// Prints rows as one JSON object or as a table with peer ratios.
struct Report {
  let suite: String
  var rows: [ResultRow] = []
  var notes: [String] = []

  func print(json: Bool) {
    if json {
      var object: [String: Any] = [
        "suite": suite, "threads": Parallel.threadCount, "results": rows.map(\.jsonObject),
      ]
      if !notes.isEmpty { object["notes"] = notes }
      let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
      Swift.print(String(decoding: data, as: UTF8.self))
      return
    }
    Swift.print("flowbench \(suite): \(Parallel.threadCount) threads\(isOptimizedBuild ? "" : " (DEBUG BUILD: numbers are meaningless)")")
    for note in notes { Swift.print("note: \(note)") }
    // Group by workload; the first implementation of each is the reference.
    var order: [String] = []
    var groups: [String: [ResultRow]] = [:]
    for row in rows {
      if groups[row.workloadKey] == nil { order.append(row.workloadKey) }
      groups[row.workloadKey, default: []].append(row)
    }
    let header = ["workload", "impl", "median", "min", "max", "unit", "ratio"]
    var table: [[String]] = [header]
    for key in order {
      let group = groups[key]!
      let reference = group[0]
      for row in group {
        // Ratios read "how many times better than the first implementation":
        // time ratios invert, rate ratios do not.
        let ratio = row.unit == "ms" ? reference.median / row.median : row.median / reference.median
        table.append([
          key, row.implementation, format(row.median), format(row.minimum), format(row.maximum), row.unit,
          row.implementation == reference.implementation ? "1.00" : String(format: "%.2f", 1 / ratio),
        ])
      }
    }
    let widths = header.indices.map { column in table.map { $0[column].count }.max()! }
    for line in table {
      Swift.print(line.indices.map { line[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
    Swift.print("ratio: the first implementation's speed over this row's (> 1: the first is faster).")
  }

  private func format(_ value: Double) -> String {
    value >= 100 ? String(format: "%.1f", value) : String(format: "%.3f", value)
  }
}
