import Foundation
import FlowTensor

/// Reads fixtures written by the numpy/scipy scripts committed beside them
/// (`Tests/<Module>Tests/Fixtures/*.json`).
public enum Fixtures {
  /// The directory `Fixtures` next to the test file that calls this.
  public static func directory(besides file: StaticString = #filePath) -> URL {
    URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("Fixtures")
  }

  /// Decodes `name` (a JSON file) from the fixtures directory beside `file`.
  public static func load<Value: Decodable>(
    _ type: Value.Type, named name: String, besides file: StaticString = #filePath
  ) throws -> Value {
    let url = directory(besides: file).appendingPathComponent(name)
    return try JSONDecoder().decode(Value.self, from: Data(contentsOf: url))
  }
}

/// A tensor as fixtures store it: a shape and row-major values, which may
/// be the strings "nan", "inf", "-inf".
public struct FixtureTensor: Decodable {
  public let shape: [Int]
  public let values: [Double]

  private enum CodingKeys: String, CodingKey { case shape, values }

  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    shape = try container.decode([Int].self, forKey: .shape)
    var list = try container.nestedUnkeyedContainer(forKey: .values)
    var values: [Double] = []
    while !list.isAtEnd {
      if let number = try? list.decode(Double.self) {
        values.append(number)
      } else {
        switch try list.decode(String.self) {
        case "nan": values.append(.nan)
        case "inf": values.append(.infinity)
        case "-inf": values.append(-.infinity)
        case let other:
          throw DecodingError.dataCorruptedError(in: list, debugDescription: "unknown value \(other)")
        }
      }
    }
    self.values = values
  }

  /// The fixture as a tensor of either precision.
  public func tensor<Scalar: TensorScalar>(_ type: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
    Tensor(shape: shape, scalars: values.map { Scalar($0) })
  }
}
