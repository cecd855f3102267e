import Foundation

/// Wall-clock timings of repeated runs of one case.
struct Timing {
  /// Seconds per run, in the order measured.
  let seconds: [Double]

  var median: Double {
    let sorted = seconds.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
  }
  var minimum: Double { seconds.min() ?? .nan }
  var maximum: Double { seconds.max() ?? .nan }
}

/// Runs `body` `warmups` times untimed, then `repetitions` timed samples.
///
/// A body faster than ``minimumSampleSeconds`` runs several times per
/// sample and each sample is divided by that count, so that the clock's own
/// cost (two readings, tens of nanoseconds) is not charged to a
/// sub-microsecond op.
func measure(warmups: Int, repetitions: Int, _ body: () -> Void) -> Timing {
  for _ in 0..<warmups { body() }
  var callsPerSample = 1
  let first = clockSeconds(body)
  if first < minimumSampleSeconds {
    callsPerSample = Int((minimumSampleSeconds / Swift.max(first, 1e-9)).rounded(.up))
  }
  var seconds: [Double] = []
  seconds.reserveCapacity(repetitions)
  for _ in 0..<repetitions {
    seconds.append(clockSeconds { for _ in 0..<callsPerSample { body() } } / Double(callsPerSample))
  }
  return Timing(seconds: seconds)
}

/// The shortest timed sample: shorter bodies are repeated within one.
let minimumSampleSeconds = 50e-6

private func clockSeconds(_ body: () -> Void) -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  body()
  return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
}

/// Keeps a value alive so the optimiser cannot drop the work that made it.
@inline(never)
func blackHole<Value>(_ value: Value) {
  withExtendedLifetime(value) {}
}

/// Whether this binary was built with optimisation.
var isOptimizedBuild: Bool {
  #if DEBUG
    return false
  #else
    return true
  #endif
}
