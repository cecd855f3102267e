/// A JSON value as the safetensors header needs it. Objects keep their keys
/// in order (the parser rejects duplicate keys); numbers
/// keep their text, so integers stay exact and `2.0` is told apart from `2`.
enum HeaderJSON {
  case object([(key: String, value: HeaderJSON)])
  case array([HeaderJSON])
  case string(String)
  /// `integer` is the value of an integer literal (no fraction, no exponent)
  /// that fits in `Int`, else `nil`.
  case number(text: String, integer: Int?)
  case bool(Bool)
  case null

  /// The value as an `Int` when it is an integer literal that fits.
  var integer: Int? {
    if case let .number(_, integer) = self { return integer }
    return nil
  }

  /// A short rendering for error messages.
  var summary: String {
    switch self {
    case .object: return "an object"
    case .array: return "an array"
    case let .string(text): return "the string \"\(text.prefix(40))\""
    case let .number(text, _): return text.count > 40 ? "the number \(text.prefix(40))…" : text
    case let .bool(value): return "\(value)"
    case .null: return "null"
    }
  }
}

/// A strict RFC 8259 parser over the header bytes (already checked to be
/// UTF-8). Hand-written rather than `JSONSerialization` so that duplicate keys
/// are visible, large integers stay exact, and hostile input (deep nesting,
/// lone surrogates, huge numbers) throws instead of crashing.
struct HeaderJSONParser {
  struct Failure: Error {
    let offset: Int
    let reason: String
    /// The repeated key when the failure is a duplicate key, and the depth of
    /// its object (0 for the outermost).
    var duplicateKey: (key: String, depth: Int)? = nil
  }

  /// Deeper nesting than any safetensors header needs (it uses three levels);
  /// the limit keeps recursion off the end of the stack.
  static let maximumDepth = 64

  private let bytes: UnsafeBufferPointer<UInt8>
  private var position = 0

  /// Parses one JSON value filling `bytes`, with optional surrounding whitespace.
  static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws -> HeaderJSON {
    var parser = HeaderJSONParser(bytes: bytes)
    parser.skipWhitespace()
    let value = try parser.parseValue(depth: 0)
    parser.skipWhitespace()
    guard parser.position == bytes.count else { throw parser.failure("unexpected text after the JSON value") }
    return value
  }

  private init(bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
  }

  private func failure(_ reason: String) -> Failure {
    Failure(offset: position, reason: reason)
  }

  private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

  private mutating func skipWhitespace() {
    while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
  }

  private mutating func expect(_ literal: StaticString, value: HeaderJSON) throws -> HeaderJSON {
    let start = position
    let utf8 = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
    for byte in utf8 {
      guard current == byte else {
        position = start
        throw failure("unknown literal")
      }
      position += 1
    }
    return value
  }

  private mutating func parseValue(depth: Int) throws -> HeaderJSON {
    guard depth < Self.maximumDepth else { throw failure("nesting deeper than \(Self.maximumDepth) levels") }
    guard let byte = current else { throw failure("unexpected end of the header") }
    switch byte {
    case UInt8(ascii: "{"): return try parseObject(depth: depth)
    case UInt8(ascii: "["): return try parseArray(depth: depth)
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"): return try expect("true", value: .bool(true))
    case UInt8(ascii: "f"): return try expect("false", value: .bool(false))
    case UInt8(ascii: "n"): return try expect("null", value: .null)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
    default: throw failure("unexpected character '\(Self.printable(byte))'")
    }
  }

  private mutating func parseObject(depth: Int) throws -> HeaderJSON {
    position += 1
    var members: [(key: String, value: HeaderJSON)] = []
    var keys = Set<String>()
    skipWhitespace()
    if current == UInt8(ascii: "}") {
      position += 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      guard current == UInt8(ascii: "\"") else { throw failure("expected a string key") }
      let keyOffset = position
      let key = try parseString()
      guard keys.insert(key).inserted else {
        throw Failure(offset: keyOffset, reason: "duplicate key \"\(key)\"", duplicateKey: (key, depth))
      }
      skipWhitespace()
      guard current == UInt8(ascii: ":") else { throw failure("expected ':' after a key") }
      position += 1
      skipWhitespace()
      members.append((key, try parseValue(depth: depth + 1)))
      skipWhitespace()
      switch current {
      case UInt8(ascii: ","): position += 1
      case UInt8(ascii: "}"):
        position += 1
        return .object(members)
      case nil: throw failure("unexpected end of the header in an object")
      default: throw failure("expected ',' or '}' in an object")
      }
    }
  }

  private mutating func parseArray(depth: Int) throws -> HeaderJSON {
    position += 1
    var elements: [HeaderJSON] = []
    skipWhitespace()
    if current == UInt8(ascii: "]") {
      position += 1
      return .array(elements)
    }
    while true {
      skipWhitespace()
      elements.append(try parseValue(depth: depth + 1))
      skipWhitespace()
      switch current {
      case UInt8(ascii: ","): position += 1
      case UInt8(ascii: "]"):
        position += 1
        return .array(elements)
      case nil: throw failure("unexpected end of the header in an array")
      default: throw failure("expected ',' or ']' in an array")
      }
    }
  }

  private mutating func parseString() throws -> String {
    position += 1
    var utf8: [UInt8] = []
    while true {
      guard let byte = current else { throw failure("unterminated string") }
      switch byte {
      case UInt8(ascii: "\""):
        position += 1
        // The header passed UTF-8 validation and escapes add only valid
        // scalars, so decoding cannot repair anything here.
        return String(decoding: utf8, as: UTF8.self)
      case UInt8(ascii: "\\"):
        position += 1
        guard let escaped = current else { throw failure("unterminated escape") }
        position += 1
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escaped)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
          let scalar = try parseUnicodeEscape()
          utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
          position -= 1
          throw failure("unknown escape '\\\(Self.printable(escaped))'")
        }
      case 0x00..<0x20:
        throw failure("control character 0x\(String(byte, radix: 16)) in a string")
      default:
        utf8.append(byte)
        position += 1
      }
    }
  }

  /// The scalar of `\uXXXX` (the `\u` already read), joining a surrogate pair.
  private mutating func parseUnicodeEscape() throws -> Unicode.Scalar {
    let first = try parseHexQuad()
    switch first {
    case 0xD800..<0xDC00:
      guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
      else { throw failure("lone leading surrogate \\u\(String(first, radix: 16))") }
      position += 2
      let second = try parseHexQuad()
      guard (0xDC00..<0xE000).contains(second) else { throw failure("invalid trailing surrogate") }
      return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))!
    case 0xDC00..<0xE000:
      throw failure("lone trailing surrogate \\u\(String(first, radix: 16))")
    default:
      return Unicode.Scalar(first)!
    }
  }

  private mutating func parseHexQuad() throws -> UInt32 {
    var value: UInt32 = 0
    for _ in 0..<4 {
      guard let byte = current else { throw failure("unterminated \\u escape") }
      let digit: UInt32
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
      default: throw failure("invalid hex digit in a \\u escape")
      }
      value = value << 4 | digit
      position += 1
    }
    return value
  }

  private mutating func parseNumber() throws -> HeaderJSON {
    let start = position
    var isInteger = true
    if current == UInt8(ascii: "-") { position += 1 }
    if current == UInt8(ascii: "0") {
      position += 1
    } else if skipDigits() == 0 {
      throw failure("expected a digit")
    }
    if current == UInt8(ascii: ".") {
      isInteger = false
      position += 1
      guard skipDigits() > 0 else { throw failure("expected a digit after '.'") }
    }
    if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
      isInteger = false
      position += 1
      if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
      guard skipDigits() > 0 else { throw failure("expected a digit in the exponent") }
    }
    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    return .number(text: text, integer: isInteger ? Int(text) : nil)
  }

  /// Skips decimal digits and returns how many there were.
  private mutating func skipDigits() -> Int {
    let start = position
    while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { position += 1 }
    return position - start
  }

  private static func printable(_ byte: UInt8) -> String {
    (0x20..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : "0x" + String(byte, radix: 16)
  }
}
