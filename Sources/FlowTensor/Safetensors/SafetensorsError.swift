/// A safetensors file that cannot be read or written: thrown by
/// ``SafetensorsFile`` and ``Safetensors``.
///
/// Every malformed file yields one of these, never a crash; the description
/// names the problem and, where there is one, the tensor.
public enum SafetensorsError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file could not be opened or read.
  case cannotRead(path: String, reason: String)
  /// The file could not be written; the previous file at `path`, if any, is intact.
  case cannotWrite(path: String, reason: String)
  /// The file is shorter than the 8-byte header length.
  case truncatedHeaderLength(fileSize: Int)
  /// The header length exceeds the limit of ``SafetensorsFile/maximumHeaderLength`` bytes.
  case headerTooLarge(headerLength: UInt64, limit: Int)
  /// The header is longer than the bytes that follow the header length.
  case truncatedHeader(headerLength: UInt64, available: Int)
  /// The header is not valid UTF-8.
  case invalidUTF8
  /// The header is not valid JSON; `offset` is the byte within the header.
  case invalidJSON(offset: Int, reason: String)
  /// The header's JSON is not an object.
  case headerNotAnObject
  /// The header names a tensor twice.
  case duplicateName(String)
  /// `__metadata__` is not an object of strings.
  case invalidMetadata(reason: String)
  /// The header entry of `tensor` is not an object.
  case entryNotAnObject(tensor: String)
  /// The header entry of `tensor` lacks `dtype`, `shape` or `data_offsets`.
  case missingField(tensor: String, field: String)
  /// `tensor` has a dtype this package does not read (it reads F16, BF16, F32, F64).
  case unsupportedDataType(tensor: String, dataType: String)
  /// The shape of `tensor` is not an array of non-negative integers.
  case invalidShape(tensor: String, reason: String)
  /// The scalar or byte count of `tensor`'s shape overflows `Int`.
  case shapeOverflow(tensor: String, shape: [Int])
  /// The `data_offsets` of `tensor` are not two integers `0 ≤ begin ≤ end`.
  case invalidDataOffsets(tensor: String, reason: String)
  /// The bytes of `tensor` reach past the end of the data: the file is truncated
  /// or the offsets are wrong.
  case dataOffsetsOutOfRange(tensor: String, begin: Int, end: Int, dataSize: Int)
  /// The byte range of `tensor` does not hold `product(shape) · dtype size` bytes.
  case byteCountMismatch(tensor: String, shape: [Int], dataType: String, expected: Int, found: Int)
  /// The byte ranges of two tensors overlap.
  case overlappingTensors(String, String)
  /// Data bytes `begin..<end` belong to no tensor (a gap, or bytes after the
  /// last tensor); the format requires the tensors to cover the data exactly.
  case uncoveredData(begin: Int, end: Int)
  /// No tensor of that name is in the file.
  case tensorNotFound(name: String)

  public var description: String {
    switch self {
    case let .cannotRead(path, reason):
      return "cannot read '\(path)': \(reason)"
    case let .cannotWrite(path, reason):
      return "cannot write '\(path)': \(reason)"
    case let .truncatedHeaderLength(fileSize):
      return "truncated file: \(fileSize) bytes, fewer than the 8 bytes of the header length"
    case let .headerTooLarge(headerLength, limit):
      return "header length \(headerLength) exceeds the limit of \(limit) bytes"
    case let .truncatedHeader(headerLength, available):
      return "truncated file: the header length is \(headerLength) bytes but only \(available) bytes follow it"
    case .invalidUTF8:
      return "the header is not valid UTF-8"
    case let .invalidJSON(offset, reason):
      return "the header is not valid JSON: \(reason) at byte \(offset)"
    case .headerNotAnObject:
      return "the header is not a JSON object"
    case let .duplicateName(name):
      return "the header names tensor '\(name)' twice"
    case let .invalidMetadata(reason):
      return "invalid __metadata__: \(reason)"
    case let .entryNotAnObject(tensor):
      return "tensor '\(tensor)': the header entry is not an object"
    case let .missingField(tensor, field):
      return "tensor '\(tensor)': the header entry has no '\(field)'"
    case let .unsupportedDataType(tensor, dataType):
      return "tensor '\(tensor)': unknown or unsupported dtype '\(dataType)' (F16, BF16, F32 and F64 are read)"
    case let .invalidShape(tensor, reason):
      return "tensor '\(tensor)': invalid shape: \(reason)"
    case let .shapeOverflow(tensor, shape):
      return "tensor '\(tensor)': the size of shape \(shape) overflows"
    case let .invalidDataOffsets(tensor, reason):
      return "tensor '\(tensor)': invalid data_offsets: \(reason)"
    case let .dataOffsetsOutOfRange(tensor, begin, end, dataSize):
      return "tensor '\(tensor)': data_offsets [\(begin), \(end)] reach past the \(dataSize) bytes of data (truncated file?)"
    case let .byteCountMismatch(tensor, shape, dataType, expected, found):
      return "tensor '\(tensor)': shape \(shape) of \(dataType) needs \(expected) bytes, data_offsets span \(found)"
    case let .overlappingTensors(first, second):
      return "tensors '\(first)' and '\(second)' overlap in the data"
    case let .uncoveredData(begin, end):
      return "data bytes [\(begin), \(end)) belong to no tensor"
    case let .tensorNotFound(name):
      return "no tensor named '\(name)' in the file"
    }
  }
}
