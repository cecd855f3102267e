import Foundation

/// One axis of a chart: a range widened to round numbers and its tick
/// values, by Heckbert's "nice numbers" (Graphics Gems, 1990, "Nice Numbers
/// for Graph Labels").
struct ChartAxis: Equatable {
  /// The drawn range; `lower < upper` always.
  let lower: Double, upper: Double
  /// Tick values from `lower` to `upper`, evenly spaced.
  let ticks: [Double]
  /// Digits after the decimal point that tell the ticks apart.
  let fractionDigits: Int

  /// An axis covering the finite `values`, with about `tickCount` ticks.
  /// No values gives 0 … 1; equal values get a band around them.
  init(covering values: [Double], tickCount: Int = 6) {
    var low = values.min() ?? 0
    var high = values.max() ?? 1
    if low == high {
      let margin = low == 0 ? 1 : abs(low) * 0.1
      low -= margin
      high += margin
    }
    let spacing = ChartAxis.niceNumber(
      ChartAxis.niceNumber(high - low, rounding: false) / Double(max(tickCount - 1, 1)), rounding: true)
    let first = (low / spacing).rounded(.down) * spacing
    let last = (high / spacing).rounded(.up) * spacing
    let count = Int(((last - first) / spacing).rounded()) + 1
    // Multiplying rather than accumulating keeps 0.1 * 3 from drifting.
    ticks = (0..<count).map { first + Double($0) * spacing }
    lower = first
    upper = last
    fractionDigits = max(0, -Int(log10(spacing).rounded(.down)))
  }

  /// The number of the form {1, 2, 5} × 10ⁿ nearest `x` (`rounding`) or
  /// the smallest at least `x`.
  static func niceNumber(_ x: Double, rounding: Bool) -> Double {
    let exponent = log10(x).rounded(.down)
    let power = pow(10, exponent)
    let fraction = x / power
    let nice: Double
    if rounding {
      nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
    } else {
      nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
    }
    return nice * power
  }

  /// `value` with ``fractionDigits`` decimals, never "-0".
  func label(_ value: Double) -> String {
    let spacing = ticks.count > 1 ? ticks[1] - ticks[0] : 1
    let cleaned = abs(value) < spacing * 1e-9 ? 0 : value
    return String(format: "%.\(fractionDigits)f", cleaned)
  }

  /// Where `value` falls in 0 … 1 along the axis.
  func fraction(_ value: Double) -> Double { (value - lower) / (upper - lower) }
}
