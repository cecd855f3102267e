import Foundation

extension Layer {
  /// Saves the parameters, by their dotted names, to a safetensors checkpoint
  /// (F32 or F64 after `Scalar`), atomically: a failed save leaves the
  /// previous checkpoint untouched.
  /// - Parameters:
  ///   - url: a file URL whose directory exists and is writable.
  ///   - metadata: free-form strings stored with the tensors (step, loss, config).
  /// - Throws: ``SafetensorsError/cannotWrite(path:reason:)``.
  /// - Complexity: O(parameter count).
  public func save(to url: URL, metadata: [String: String] = [:]) throws {
    var tensors: [String: StoredTensor] = [:]
    for (name, value) in parameters {
      precondition(tensors[name] == nil, "Layer.save(to:): two parameters are named '\(name)'")
      tensors[name] = StoredTensor(value.detached)
    }
    try Safetensors.write(tensors, metadata: metadata, to: url)
  }

  /// Replaces the parameters by the tensors of the same names in a
  /// safetensors checkpoint, converted to `Scalar` (F16, BF16, F32, F64 are
  /// read); tensors the layer does not have are ignored.
  /// - Parameter url: a checkpoint, such as one written by ``save(to:metadata:)``.
  /// - Returns: the checkpoint's metadata.
  /// - Throws: ``SafetensorsError`` when the file cannot be read or is
  ///   malformed; ``ParameterError`` when a parameter is missing from it or has
  ///   another shape there. Nothing is changed when it throws.
  @discardableResult
  public mutating func loadParameters(from url: URL) throws -> [String: String] {
    let file = try SafetensorsFile(contentsOf: url)
    var values: [String: Tensor<Scalar>] = [:]
    for (name, _) in parameters where file.contains(name) {
      values[name] = try file.tensor(named: name, as: Scalar.self)
    }
    try loadParameters(values)
    return file.metadata
  }
}
