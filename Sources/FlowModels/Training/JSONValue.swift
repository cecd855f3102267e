import Foundation

/// A JSON scalar, or an array of values, for one-line machine-readable output.
public enum JSONValue: Equatable, Sendable {
  case string(String)
  case number(Double)
  case bool(Bool)
  case null
  case array([JSONValue])

  /// The value as JSON text: integers without a fraction, other numbers
  /// with up to 17 significant digits (they read back exactly), non-finite
  /// numbers as `null`.
  public var jsonText: String {
    switch self {
    case .string(let text): return JSONValue.quoted(text)
    case .bool(let value): return value ? "true" : "false"
    case .null: return "null"
    case .array(let values): return "[" + values.map(\.jsonText).joined(separator: ", ") + "]"
    case .number(let value):
      guard value.isFinite else { return "null" }
      if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
      return "\(value)"
    }
  }

  /// One JSON object on one line, keys in the given order.
  public static func object(_ fields: [(key: String, value: JSONValue)]) -> String {
    "{" + fields.map { "\(quoted($0.key)): \($0.value.jsonText)" }.joined(separator: ", ") + "}"
  }

  static func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case "\t": result += "\\t"
      case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result + "\""
  }
}
