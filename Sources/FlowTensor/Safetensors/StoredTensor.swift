/// A tensor of either precision, for writing mixed `Float` and `Double`
/// tensors into one safetensors file.
public enum StoredTensor: Sendable {
  /// Written as F32.
  case float(Tensor<Float>)
  /// Written as F64.
  case double(Tensor<Double>)

  /// Wraps a tensor of either precision.
  public init<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>) {
    if let tensor = tensor as? Tensor<Float> {
      self = .float(tensor)
    } else {
      self = .double(tensor as! Tensor<Double>)
    }
  }

  /// F32 or F64.
  public var dataType: SafetensorsDataType {
    switch self {
    case .float: return .float32
    case .double: return .float64
    }
  }

  /// The size of each axis.
  public var shape: [Int] {
    switch self {
    case let .float(tensor): return tensor.shape
    case let .double(tensor): return tensor.shape
    }
  }

  /// The bytes of the scalars.
  var byteCount: Int {
    switch self {
    case let .float(tensor): return tensor.scalarCount * 4
    case let .double(tensor): return tensor.scalarCount * 8
    }
  }

  /// Calls `body` with the scalars as little-endian bytes.
  func withLittleEndianBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
    switch self {
    case let .float(tensor): return try Self.withLittleEndianBytes(of: tensor, body)
    case let .double(tensor): return try Self.withLittleEndianBytes(of: tensor, body)
    }
  }

  private static func withLittleEndianBytes<Scalar: TensorScalar, Result>(
    of tensor: Tensor<Scalar>, _ body: (UnsafeRawBufferPointer) throws -> Result
  ) rethrows -> Result {
    #if _endian(little)
      return try tensor.withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) }
    #else
      var swapped = [UInt8](repeating: 0, count: tensor.scalarCount * MemoryLayout<Scalar>.size)
      swapped.withUnsafeMutableBytes { target in
        for (index, value) in tensor.scalars.enumerated() {
          let offset = index * MemoryLayout<Scalar>.size
          if let value = value as? Float {
            target.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: offset, as: UInt32.self)
          } else {
            target.storeBytes(of: (value as! Double).bitPattern.littleEndian, toByteOffset: offset, as: UInt64.self)
          }
        }
      }
      return try swapped.withUnsafeBytes(body)
    #endif
  }
}
