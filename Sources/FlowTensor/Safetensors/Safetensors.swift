import Foundation

/// Writing safetensors files (reading is ``SafetensorsFile``).
///
/// Tensors are written as F32 (`Float`) or F64 (`Double`), F64 first, each
/// group by name, so the output is deterministic and every tensor is aligned
/// to its element size; the header is padded with spaces to a multiple of 8
/// bytes, as the Python writer does.
///
/// ```swift
/// try Safetensors.write(["weight": w, "bias": b], metadata: ["step": "100"], to: url)
/// ```
public enum Safetensors {
  /// The bytes of a safetensors file holding `tensors` and `metadata`.
  /// - Parameters:
  ///   - tensors: by name; no name may be `__metadata__`.
  ///   - metadata: free-form strings, stored under `__metadata__` (omitted when empty).
  /// - Returns: the file contents.
  /// - Complexity: O(total scalar count).
  public static func encode(_ tensors: [String: StoredTensor], metadata: [String: String] = [:]) -> Data {
    let layout = Layout(tensors: tensors, metadata: metadata)
    var data = Data(capacity: layout.fileSize)
    layout.forEachChunk { data.append(contentsOf: $0) }
    return data
  }

  /// The bytes of a safetensors file holding tensors of one precision.
  /// - Parameters:
  ///   - tensors: by name; no name may be `__metadata__`.
  ///   - metadata: free-form strings, stored under `__metadata__` (omitted when empty).
  /// - Complexity: O(total scalar count).
  public static func encode<Scalar: TensorScalar>(
    _ tensors: [String: Tensor<Scalar>], metadata: [String: String] = [:]
  ) -> Data {
    encode(tensors.mapValues(StoredTensor.init), metadata: metadata)
  }

  /// Saves `tensors` and `metadata` to `url` atomically: a failed save leaves
  /// the previous file, if any, untouched.
  /// - Parameters:
  ///   - tensors: by name; no name may be `__metadata__`.
  ///   - metadata: free-form strings, stored under `__metadata__` (omitted when empty).
  ///   - url: a file URL whose directory exists and is writable.
  /// - Throws: ``SafetensorsError/cannotWrite(path:reason:)``.
  /// - Complexity: O(total scalar count), plus two `fsync` calls.
  public static func write(_ tensors: [String: StoredTensor], metadata: [String: String] = [:], to url: URL) throws {
    try write(tensors, metadata: metadata, to: url, interruption: { _ in })
  }

  /// Saves tensors of one precision to `url` atomically.
  /// - Parameters:
  ///   - tensors: by name; no name may be `__metadata__`.
  ///   - metadata: free-form strings, stored under `__metadata__` (omitted when empty).
  ///   - url: a file URL whose directory exists and is writable.
  /// - Throws: ``SafetensorsError/cannotWrite(path:reason:)``.
  public static func write<Scalar: TensorScalar>(
    _ tensors: [String: Tensor<Scalar>], metadata: [String: String] = [:], to url: URL
  ) throws {
    try write(tensors.mapValues(StoredTensor.init), metadata: metadata, to: url)
  }

  /// ``write(_:metadata:to:)`` with a hook that tests use to fail a save midway.
  static func write(
    _ tensors: [String: StoredTensor], metadata: [String: String], to url: URL,
    interruption: @escaping (AtomicFile.Step) throws -> Void
  ) throws {
    let layout = Layout(tensors: tensors, metadata: metadata)
    try AtomicFile.write(to: url, interruption: interruption) { sink in try layout.forEachChunk(sink) }
  }

  /// The header and the order of the tensors in the data.
  struct Layout {
    /// The 8-byte length and the padded JSON.
    var header: [UInt8]
    var ordered: [(name: String, tensor: StoredTensor)]

    var fileSize: Int { ordered.reduce(header.count) { $0 + $1.tensor.byteCount } }

    init(tensors: [String: StoredTensor], metadata: [String: String]) {
      precondition(
        tensors["__metadata__"] == nil,
        "Safetensors.write: '__metadata__' is reserved for the metadata and cannot name a tensor")
      // Wider elements first keeps every tensor aligned to its element size.
      ordered = tensors.map { (name: $0.key, tensor: $0.value) }.sorted { a, b in
        a.tensor.dataType.byteCount != b.tensor.dataType.byteCount
          ? a.tensor.dataType.byteCount > b.tensor.dataType.byteCount
          : a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
      }
      var json = "{"
      var members: [String] = []
      if !metadata.isEmpty {
        let entries = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
          .map { "\(Self.quoted($0.key)):\(Self.quoted($0.value))" }
        members.append("\"__metadata__\":{\(entries.joined(separator: ","))}")
      }
      var offset = 0
      for (name, tensor) in ordered {
        let end = offset + tensor.byteCount
        let shape = tensor.shape.map(String.init).joined(separator: ",")
        members.append(
          "\(Self.quoted(name)):{\"dtype\":\"\(tensor.dataType.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}"
        )
        offset = end
      }
      json += members.joined(separator: ",") + "}"
      var jsonBytes = Array(json.utf8)
      jsonBytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - jsonBytes.count % 8) % 8))
      header = withUnsafeBytes(of: UInt64(jsonBytes.count).littleEndian, Array.init) + jsonBytes
    }

    /// Hands out the file: the header, then each tensor's bytes.
    func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
      try header.withUnsafeBytes(body)
      for (_, tensor) in ordered where tensor.byteCount > 0 {
        try tensor.withLittleEndianBytes(body)
      }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func quoted(_ text: String) -> String {
      var result = "\""
      for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        case "\u{00}"..."\u{1F}":
          let hex = String(scalar.value, radix: 16)
          result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: result.unicodeScalars.append(scalar)
        }
      }
      return result + "\""
    }
  }
}
