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

/// Runs `body` `warmups` times untimed, then `repetitions` times timed.
func measure(warmups: Int, repetitions: Int, _ body: () -> Void) -> Timing {
  for _ in 0..<warmups { body() }
  var seconds: [Double] = []
  seconds.reserveCapacity(repetitions)
  for _ in 0..<repetitions {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
  }
  return Timing(seconds: seconds)
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
