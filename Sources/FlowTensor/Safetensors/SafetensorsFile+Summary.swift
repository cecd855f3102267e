extension SafetensorsFile {
  /// The sum and the mean of a tensor's scalars, accumulated in `Double`.
  /// - Parameter name: a tensor of the file.
  /// - Returns: the sum (0 for an empty tensor) and the mean (NaN for an
  ///   empty tensor).
  /// - Throws: ``SafetensorsError/tensorNotFound(name:)``.
  /// - Complexity: O(scalar count).
  public func statistics(of name: String) throws -> (sum: Double, mean: Double) {
    let values = try tensor(named: name, as: Double.self)
    let sum = values.withUnsafeBufferPointer { $0.reduce(0, +) }
    return (sum, values.scalarCount == 0 ? .nan : sum / Double(values.scalarCount))
  }

  /// A table of the tensors (name, dtype, shape, sum and mean in `Double`)
  /// in data order, then the metadata sorted by key: what `flows inspect` prints.
  ///
  /// ```
  /// 2 tensors, 40 bytes of data
  ///
  /// name    dtype  shape   sum   mean
  /// bias    F64    [2]     1.5   0.75
  /// weight  F32    [2, 3]  3.0   0.5
  ///
  /// metadata:
  ///   step: 7
  /// ```
  /// - Complexity: O(file size).
  public func summary() -> String {
    let dataSize = tensors.last?.byteRange.upperBound ?? 0
    var lines = ["\(tensors.count) tensor\(tensors.count == 1 ? "" : "s"), \(dataSize) bytes of data"]
    if !tensors.isEmpty {
      var rows = [["name", "dtype", "shape", "sum", "mean"]]
      for info in tensors {
        // The names come from the file itself, so the lookup cannot fail.
        let (sum, mean) = try! statistics(of: info.name)
        rows.append([info.name, info.dataType.rawValue, "\(info.shape)", Self.format(sum), Self.format(mean)])
      }
      let widths = (0..<5).map { column in rows.map { $0[column].count }.max()! }
      lines.append("")
      for row in rows {
        let cells = row.enumerated().map { column, cell in
          column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
        }
        lines.append(cells.joined(separator: "  "))
      }
    }
    lines.append("")
    if metadata.isEmpty {
      lines.append("metadata: none")
    } else {
      lines.append("metadata:")
      for (key, value) in metadata.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
        lines.append("  \(key): \(value)")
      }
    }
    return lines.joined(separator: "\n")
  }

  /// Swift's shortest round-trip form, but "nan" whatever the NaN's sign.
  private static func format(_ value: Double) -> String {
    value.isNaN ? "nan" : "\(value)"
  }
}
