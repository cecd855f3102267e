import RealModule

/// Constructors: constants, ranges, the identity and random tensors.
extension Tensor {
  /// A tensor of zeros.
  public static func zeros(shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }

  /// A tensor of ones.
  public static func ones(shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

  /// A tensor with every scalar equal to `value`.
  public static func full(_ value: Scalar, shape: [Int]) -> Tensor { Tensor(repeating: value, shape: shape) }

  /// The rank-1 tensor `start, start + step, …` of the values below `end`
  /// (above it when `step` is negative), as NumPy's `arange`.
  /// - Parameters:
  ///   - step: nonzero.
  /// - Complexity: O(⌈(end − start) / step⌉).
  public static func arange(from start: Scalar = 0, to end: Scalar, by step: Scalar = 1) -> Tensor {
    precondition(step != 0 && step.isFinite, "arange: step \(step) must be finite and nonzero")
    precondition(start.isFinite && end.isFinite, "arange: bounds \(start) and \(end) must be finite")
    let count = max(0, Int(((end - start) / step).rounded(.up)))
    var scalars = [Scalar]()
    scalars.reserveCapacity(count)
    for index in 0..<count { scalars.append(start + Scalar(index) * step) }
    return Tensor(shape: [count], scalars: scalars)
  }

  /// The `size`×`size` identity matrix.
  public static func identity(size: Int) -> Tensor {
    var result = zeros(shape: [size, size])
    result.withUnsafeMutableBufferPointer { buffer in
      for index in 0..<size { buffer[index * size + index] = 1 }
    }
    return result
  }

  /// Independent normal samples, N(mean, standardDeviation²).
  ///
  /// Pairs of uniform draws become pairs of normals by the Box–Muller
  /// transform, computed in `Double` for both precisions, so a `Float`
  /// tensor holds the rounded values of the `Double` one of the same seed.
  /// - Complexity: O(n); sequential, so the stream does not depend on the
  ///   number of cores.
  public static func randomNormal<Generator: RandomNumberGenerator>(
    shape: [Int], mean: Scalar = 0, standardDeviation: Scalar = 1, using generator: inout Generator
  ) -> Tensor {
    var result = Tensor(uninitializedShape: shape)
    let count = result.scalarCount
    let mean = Double(mean)
    let deviation = Double(standardDeviation)
    result.withUnsafeMutableBufferPointer { buffer in
      var index = 0
      while index < count {
        let radius = (-2 * Double.log(generator.nextOpenUnitDouble())).squareRoot()
        let angle = 2 * Double.pi * generator.nextUnitDouble()
        buffer[index] = Scalar(mean + deviation * radius * Double.cos(angle))
        if index + 1 < count { buffer[index + 1] = Scalar(mean + deviation * radius * Double.sin(angle)) }
        index += 2
      }
    }
    return result
  }

  /// Independent uniform samples in [lowerBound, upperBound).
  public static func randomUniform<Generator: RandomNumberGenerator>(
    shape: [Int], in range: Range<Scalar> = 0..<1, using generator: inout Generator
  ) -> Tensor {
    var result = Tensor(uninitializedShape: shape)
    let low = Double(range.lowerBound)
    let width = Double(range.upperBound) - low
    result.withUnsafeMutableBufferPointer { buffer in
      for index in buffer.indices {
        // Rounding to Float can land on the upper bound; keep it half-open.
        var value = Scalar(low + width * generator.nextUnitDouble())
        if value >= range.upperBound { value = range.upperBound.nextDown }
        buffer[index] = value
      }
    }
    return result
  }

  /// Independent Rademacher samples: −1 or +1 with equal probability.
  public static func randomRademacher<Generator: RandomNumberGenerator>(
    shape: [Int], using generator: inout Generator
  ) -> Tensor {
    var result = Tensor(uninitializedShape: shape)
    result.withUnsafeMutableBufferPointer { buffer in
      var bits: UInt64 = 0
      for index in buffer.indices {
        if index % 64 == 0 { bits = generator.next() }
        buffer[index] = (bits >> UInt64(index % 64)) & 1 == 1 ? 1 : -1
      }
    }
    return result
  }
}
