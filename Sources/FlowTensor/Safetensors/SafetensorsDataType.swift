/// The element types of safetensors that this package reads: IEEE 754
/// binary16, bfloat16, binary32 and binary64, stored little-endian.
public enum SafetensorsDataType: String, CaseIterable, Sendable {
  /// IEEE 754 binary16: 1 sign, 5 exponent, 10 fraction bits.
  case float16 = "F16"
  /// bfloat16: the upper half of a binary32 (1 sign, 8 exponent, 7 fraction bits).
  case bfloat16 = "BF16"
  /// IEEE 754 binary32, `Float`.
  case float32 = "F32"
  /// IEEE 754 binary64, `Double`.
  case float64 = "F64"

  /// The bytes per element.
  public var byteCount: Int {
    switch self {
    case .float16, .bfloat16: return 2
    case .float32: return 4
    case .float64: return 8
    }
  }

  /// The type a ``Tensor`` of `Scalar` is written as.
  static func of<Scalar: TensorScalar>(_: Scalar.Type) -> SafetensorsDataType {
    Scalar.self == Double.self ? .float64 : .float32
  }
}

/// Widening conversions from the 16-bit formats, by bit manipulation so they
/// are exact on every platform (Swift's `Float16` is missing on some).
enum HalfPrecision {
  /// The `Float` equal to a binary16 bit pattern. Exact: every binary16 value
  /// is a binary32 value, subnormals included; NaN payloads are kept.
  @inline(__always)
  static func float(fromFloat16 bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = UInt32(bits >> 10) & 0x1F
    let fraction = UInt32(bits & 0x03FF)
    switch exponent {
    case 0x1F:
      // Infinity (fraction 0) or NaN: the widest exponent, fraction shifted up.
      return Float(bitPattern: sign | 0x7F80_0000 | fraction << 13)
    case 0:
      guard fraction != 0 else { return Float(bitPattern: sign) }
      // A subnormal, fraction·2⁻²⁴, is a normal binary32: with its highest set
      // bit at position p it is 1.f·2^(p − 24), so the biased exponent is
      // p − 24 + 127 and the bits below p become the fraction.
      let p = UInt32(31 - fraction.leadingZeroBitCount)
      let normalFraction = (fraction << (23 - p)) & 0x007F_FFFF
      return Float(bitPattern: sign | (p + 103) << 23 | normalFraction)
    default:
      // Rebias the exponent from 15 to 127.
      return Float(bitPattern: sign | (exponent + 112) << 23 | fraction << 13)
    }
  }

  /// The `Float` equal to a bfloat16 bit pattern: its upper 16 bits.
  @inline(__always)
  static func float(fromBFloat16 bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
  }
}
