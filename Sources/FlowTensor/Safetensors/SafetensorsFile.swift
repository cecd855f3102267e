import Foundation

/// A safetensors file read into memory with its header validated: tensors by
/// name, read as `Float` or `Double`, and the string metadata.
///
/// The format (huggingface/safetensors): an 8-byte little-endian header
/// length `N`, `N` bytes of UTF-8 JSON
/// `{"__metadata__": {…}, "name": {"dtype": "F32", "shape": […], "data_offsets": [begin, end]}, …}`,
/// then the data, each tensor contiguous, row-major and little-endian at
/// `begin..<end` counted from the first byte after the header. As the
/// reference implementation does, the tensors must cover the data exactly.
///
/// ```swift
/// let file = try SafetensorsFile(contentsOf: url)
/// let weight: Tensor<Float> = try file.tensor(named: "weight")
/// ```
///
/// Every check happens in the initialiser, so a file that opens reads every
/// tensor it lists; a malformed file throws ``SafetensorsError``, never crashes.
public struct SafetensorsFile: Sendable {
  /// Where a tensor lies in the file and what it holds.
  public struct TensorInfo: Equatable, Sendable {
    /// The tensor's name in the header.
    public let name: String
    /// The stored element type.
    public let dataType: SafetensorsDataType
    /// The size of each axis; `[]` for a scalar.
    public let shape: [Int]
    /// The tensor's bytes, counted from the first byte after the header.
    public let byteRange: Range<Int>

    /// The number of scalars, the product of the shape.
    public var scalarCount: Int { shape.reduce(1, *) }
  }

  /// The largest header accepted, in bytes, as in the reference implementation.
  public static let maximumHeaderLength = 100_000_000

  /// The `__metadata__` strings; empty when the file has none.
  public let metadata: [String: String]

  /// Every tensor, in the order of its data.
  public let tensors: [TensorInfo]

  private let indexByName: [String: Int]
  private let contents: Data
  /// The offset of the first data byte within `contents`: 8 + header length.
  private let dataStart: Int

  /// Reads and validates the file at `url`.
  /// - Throws: ``SafetensorsError``: `.cannotRead` when the file cannot be
  ///   read, else the first problem found in it.
  /// - Complexity: O(file size).
  public init(contentsOf url: URL) throws {
    try self.init(data: FileContents.read(url))
  }

  /// Validates the bytes of a safetensors file held in memory.
  /// - Throws: ``SafetensorsError`` naming the first problem found.
  /// - Complexity: O(header length + number of tensors · log).
  public init(data: Data) throws {
    // Offsets below count from the first byte of `data`, which may be a
    // slice: every access goes through `withUnsafeBytes`.
    let contents = data
    let fileSize = contents.count
    guard fileSize >= 8 else { throw SafetensorsError.truncatedHeaderLength(fileSize: fileSize) }
    let headerLength = contents.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    guard headerLength <= UInt64(Self.maximumHeaderLength) else {
      throw SafetensorsError.headerTooLarge(headerLength: headerLength, limit: Self.maximumHeaderLength)
    }
    guard headerLength <= UInt64(fileSize - 8) else {
      throw SafetensorsError.truncatedHeader(headerLength: headerLength, available: fileSize - 8)
    }
    let dataStart = 8 + Int(headerLength)
    let header = try contents.withUnsafeBytes { raw in
      try SafetensorsHeader(
        parsing: UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[8..<dataStart]),
        dataSize: fileSize - dataStart)
    }
    self.contents = contents
    self.dataStart = dataStart
    self.metadata = header.metadata
    self.tensors = header.tensors
    self.indexByName = Dictionary(uniqueKeysWithValues: header.tensors.enumerated().map { ($1.name, $0) })
  }

  /// The tensor names, in the order of their data.
  public var names: [String] { tensors.map(\.name) }

  /// Whether the file has a tensor named `name`.
  public func contains(_ name: String) -> Bool { indexByName[name] != nil }

  /// The description of the tensor named `name`.
  /// - Throws: ``SafetensorsError/tensorNotFound(name:)``.
  public func info(named name: String) throws -> TensorInfo {
    guard let index = indexByName[name] else { throw SafetensorsError.tensorNotFound(name: name) }
    return tensors[index]
  }

  /// The tensor named `name`, converted to `Scalar`: exactly from F16, BF16
  /// and F32 (and F64 into `Double`), rounded to nearest from F64 into `Float`.
  /// - Parameters:
  ///   - name: a tensor of the file.
  ///   - type: `Float` or `Double`.
  /// - Returns: a tensor of the stored shape.
  /// - Throws: ``SafetensorsError/tensorNotFound(name:)``.
  /// - Complexity: O(scalar count).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func tensor<Scalar: TensorScalar>(named name: String, as type: Scalar.Type = Scalar.self) throws -> Tensor<Scalar> {
    let info = try info(named: name)
    var result = Tensor<Scalar>(uninitializedShape: info.shape)
    guard result.scalarCount > 0 else { return result }
    let start = dataStart + info.byteRange.lowerBound
    contents.withUnsafeBytes { raw in
      result.withUnsafeMutableBufferPointer { target in
        Self.convert(info.dataType, from: raw.baseAddress! + start, into: target)
      }
    }
    return result
  }

  /// Every tensor, converted to `Scalar`, by name.
  /// - Complexity: O(file size).
  public func allTensors<Scalar: TensorScalar>(as type: Scalar.Type = Scalar.self) -> [String: Tensor<Scalar>] {
    // The names come from the file itself, so the lookups cannot fail.
    Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, try! tensor(named: $0.name, as: Scalar.self)) })
  }

  /// Widens or narrows little-endian elements of `dataType` into `target`.
  @inline(__always)
  static func convert<Scalar: TensorScalar>(
    _ dataType: SafetensorsDataType, from source: UnsafeRawPointer, into target: UnsafeMutableBufferPointer<Scalar>
  ) {
    switch dataType {
    case .float16:
      for index in target.indices {
        let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self))
        target[index] = Scalar(HalfPrecision.float(fromFloat16: bits))
      }
    case .bfloat16:
      for index in target.indices {
        let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self))
        target[index] = Scalar(HalfPrecision.float(fromBFloat16: bits))
      }
    case .float32:
      for index in target.indices {
        let bits = UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self))
        target[index] = Scalar(Float(bitPattern: bits))
      }
    case .float64:
      for index in target.indices {
        let bits = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self))
        target[index] = Scalar(Double(bitPattern: bits))
      }
    }
  }
}
