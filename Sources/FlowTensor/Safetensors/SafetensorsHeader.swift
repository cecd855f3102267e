/// The validated JSON header of a safetensors file.
struct SafetensorsHeader {
  var metadata: [String: String] = [:]
  /// In data order.
  var tensors: [SafetensorsFile.TensorInfo] = []

  /// Parses and checks `bytes` against a data section of `dataSize` bytes.
  /// - Throws: ``SafetensorsError`` naming the first problem.
  init(parsing bytes: UnsafeBufferPointer<UInt8>, dataSize: Int) throws {
    guard String(validating: bytes, as: UTF8.self) != nil else { throw SafetensorsError.invalidUTF8 }
    let json: HeaderJSON
    do {
      json = try HeaderJSONParser.parse(bytes)
    } catch let failure as HeaderJSONParser.Failure {
      if let duplicate = failure.duplicateKey, duplicate.depth == 0 {
        if duplicate.key == "__metadata__" { throw SafetensorsError.invalidMetadata(reason: "given twice") }
        throw SafetensorsError.duplicateName(duplicate.key)
      }
      throw SafetensorsError.invalidJSON(offset: failure.offset, reason: failure.reason)
    }
    guard case let .object(members) = json else { throw SafetensorsError.headerNotAnObject }
    for (name, value) in members {
      if name == "__metadata__" {
        metadata = try Self.metadata(from: value)
      } else {
        tensors.append(try Self.tensor(named: name, from: value, dataSize: dataSize))
      }
    }
    tensors.sort { ($0.byteRange.lowerBound, $0.byteRange.upperBound) < ($1.byteRange.lowerBound, $1.byteRange.upperBound) }
    try Self.checkCoverage(of: tensors, dataSize: dataSize)
  }

  private static func metadata(from value: HeaderJSON) throws -> [String: String] {
    switch value {
    case .null:
      return [:]
    case let .object(members):
      var metadata: [String: String] = [:]
      for (key, entry) in members {
        guard case let .string(text) = entry else {
          throw SafetensorsError.invalidMetadata(reason: "the value of '\(key)' is \(entry.summary), not a string")
        }
        metadata[key] = text
      }
      return metadata
    default:
      throw SafetensorsError.invalidMetadata(reason: "expected an object of strings, found \(value.summary)")
    }
  }

  private static func tensor(named name: String, from value: HeaderJSON, dataSize: Int) throws -> SafetensorsFile.TensorInfo {
    guard case let .object(fields) = value else { throw SafetensorsError.entryNotAnObject(tensor: name) }
    func field(_ key: String) throws -> HeaderJSON {
      guard let found = fields.first(where: { $0.key == key }) else {
        throw SafetensorsError.missingField(tensor: name, field: key)
      }
      return found.value
    }

    let dataTypeValue = try field("dtype")
    guard case let .string(dataTypeName) = dataTypeValue, let dataType = SafetensorsDataType(rawValue: dataTypeName) else {
      let shown: String
      if case let .string(text) = dataTypeValue { shown = text } else { shown = dataTypeValue.summary }
      throw SafetensorsError.unsupportedDataType(tensor: name, dataType: shown)
    }

    guard case let .array(dimensions) = try field("shape") else {
      throw SafetensorsError.invalidShape(tensor: name, reason: "expected an array, found \(try field("shape").summary)")
    }
    var shape: [Int] = []
    for (axis, dimension) in dimensions.enumerated() {
      guard let size = dimension.integer, size >= 0 else {
        throw SafetensorsError.invalidShape(
          tensor: name, reason: "size \(axis) is \(dimension.summary), not a non-negative integer below 2⁶³")
      }
      shape.append(size)
    }
    // The scalar count in the reference's order (overflow checked left to
    // right), and also the product of the non-zero sizes: a zero-size tensor
    // of shape [0, 2⁶², 2⁶²] would overflow `Tensor`'s strides later.
    var scalarCount = 1
    var nonzeroProduct = 1
    for size in shape {
      let (count, countOverflow) = scalarCount.multipliedReportingOverflow(by: size)
      let (product, productOverflow) = nonzeroProduct.multipliedReportingOverflow(by: max(size, 1))
      guard !countOverflow, !productOverflow else { throw SafetensorsError.shapeOverflow(tensor: name, shape: shape) }
      scalarCount = count
      nonzeroProduct = product
    }
    let (byteCount, byteOverflow) = scalarCount.multipliedReportingOverflow(by: dataType.byteCount)
    guard !byteOverflow else { throw SafetensorsError.shapeOverflow(tensor: name, shape: shape) }

    let offsetsValue = try field("data_offsets")
    guard case let .array(offsets) = offsetsValue, offsets.count == 2 else {
      throw SafetensorsError.invalidDataOffsets(
        tensor: name, reason: "expected an array [begin, end], found \(offsetsValue.summary)")
    }
    guard let begin = offsets[0].integer, let end = offsets[1].integer, begin >= 0, end >= 0 else {
      throw SafetensorsError.invalidDataOffsets(
        tensor: name,
        reason: "[\(offsets[0].summary), \(offsets[1].summary)] are not two non-negative integers below 2⁶³")
    }
    guard begin <= end else {
      throw SafetensorsError.invalidDataOffsets(tensor: name, reason: "begin \(begin) is after end \(end)")
    }
    guard end - begin == byteCount else {
      throw SafetensorsError.byteCountMismatch(
        tensor: name, shape: shape, dataType: dataType.rawValue, expected: byteCount, found: end - begin)
    }
    guard end <= dataSize else {
      throw SafetensorsError.dataOffsetsOutOfRange(tensor: name, begin: begin, end: end, dataSize: dataSize)
    }
    return SafetensorsFile.TensorInfo(name: name, dataType: dataType, shape: shape, byteRange: begin..<end)
  }

  /// Checks that the byte ranges, sorted by start, tile `0..<dataSize`
  /// without overlap; zero-size tensors may sit at any boundary.
  private static func checkCoverage(of tensors: [SafetensorsFile.TensorInfo], dataSize: Int) throws {
    var covered = 0
    var last: String? = nil
    for tensor in tensors {
      let range = tensor.byteRange
      if range.lowerBound < covered, let last {
        throw SafetensorsError.overlappingTensors(last, tensor.name)
      }
      if range.lowerBound > covered { throw SafetensorsError.uncoveredData(begin: covered, end: range.lowerBound) }
      if range.upperBound > covered || last == nil {
        covered = range.upperBound
        last = tensor.name
      }
    }
    if covered < dataSize { throw SafetensorsError.uncoveredData(begin: covered, end: dataSize) }
  }
}
