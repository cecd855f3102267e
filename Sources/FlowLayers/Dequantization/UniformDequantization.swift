import FlowTensor

/// Uniform dequantization of 8-bit data (Theis, van den Oord & Bethge, "A
/// note on the evaluation of generative models", ICLR 2016; Real NVP and
/// Glow train on data prepared this way): a continuous density cannot be
/// fitted to integer pixels (it would pile infinite density on them), so
/// each pixel is spread uniformly over its bin,
///
///   x = (level + u)/L,          u ~ U[0, 1), L = 2^bits levels,
///   x = (level + u)/L − ½       when centred (Glow's preprocessing, used by CDFlow),
///
/// which puts x in [0, 1) (centred: [−½, ½)), each level owning a bin of
/// width 1/L. With the default 8 bits, level = pixel and L = 256; fewer bits
/// keep the high bits of each pixel, level = ⌊pixel / 2^(8 − bits)⌋, as
/// Glow's `n_bits`.
///
/// The scaling by 1/L is a change of variables of log-determinant
/// −D·log L for D pixels; ``bitsPerDimension(negativeLogLikelihood:dimensions:bits:)``
/// adds it back to report the discrete data's code length. The centring
/// shift has unit Jacobian and changes nothing in that accounting.
public struct UniformDequantization: Sendable, Equatable {
  /// The bit depth kept, 1…8.
  public let bits: Int
  /// Whether ½ is subtracted, mapping the data to [−½, ½).
  public let isCentred: Bool

  /// - Parameters:
  ///   - bits: in 1…8; pixels keep their `bits` high bits.
  ///   - centred: subtract ½ (x in [−½, ½) instead of [0, 1)).
  public init(bits: Int = 8, centred: Bool = false) {
    precondition((1...8).contains(bits), "UniformDequantization(bits: \(bits)): bits must lie in 1...8")
    self.bits = bits
    self.isCentred = centred
  }

  /// L = 2^bits, the number of levels (256 for 8 bits).
  public var levels: Int { 1 << bits }

  /// What is subtracted after scaling: ½ when centred, else 0.
  public var offset: Double { isCentred ? 0.5 : 0 }

  /// Dequantises 8-bit pixel values held as scalars.
  ///
  /// Each element draws one u in [0, 1) from 53 bits of `generator`, in
  /// row-major order; the value is computed in `Double` and rounded, then
  /// kept strictly below its bin's upper end (in `Float`, (255 + u)/256
  /// would round to 1 for u within 2⁻²⁵ of 1, where a following logit is
  /// infinite).
  /// - Parameters:
  ///   - pixels: any shape; every value an integer in 0...255.
  ///   - generator: the source of the noise.
  /// - Returns: `pixels`' shape, each value in [level/L, (level + 1)/L),
  ///   minus ½ when centred.
  /// - Complexity: O(n), sequential (the noise stream does not depend on
  ///   the number of cores).
  @_specialize(where Scalar == Float, Generator == SeededGenerator)
  @_specialize(where Scalar == Double, Generator == SeededGenerator)
  public func dequantize<Scalar: TensorScalar, Generator: RandomNumberGenerator>(
    _ pixels: Tensor<Scalar>, using generator: inout Generator
  ) -> Tensor<Scalar> {
    var result = Tensor<Scalar>.zeros(shape: pixels.shape)
    pixels.withUnsafeBufferPointer { source in
      result.withUnsafeMutableBufferPointer { destination in
        for index in source.indices {
          let pixel = Double(source[index])
          precondition(
            pixel >= 0 && pixel <= 255 && pixel.rounded(.down) == pixel,
            "UniformDequantization.dequantize: element \(index) is \(pixel), not an integer in 0...255")
          destination[index] = dequantized(Int(pixel), using: &generator)
        }
      }
    }
    return result
  }

  /// Dequantises raw 8-bit pixels (as read from an IDX or PNG file), as
  /// the tensor form of `dequantize(_:using:)`, with the same noise for the same generator state.
  /// - Parameters:
  ///   - pixels: row-major, `shape`'s product of them.
  ///   - shape: the result's shape.
  /// - Returns: `shape`, values as for the tensor form.
  /// - Complexity: O(n), sequential.
  @_specialize(where Scalar == Float, Generator == SeededGenerator)
  @_specialize(where Scalar == Double, Generator == SeededGenerator)
  public func dequantize<Scalar: TensorScalar, Generator: RandomNumberGenerator>(
    _ pixels: [UInt8], shape: [Int], using generator: inout Generator
  ) -> Tensor<Scalar> {
    precondition(
      shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == pixels.count,
      "UniformDequantization.dequantize: \(pixels.count) pixels do not fill shape \(shape)")
    var result = Tensor<Scalar>.zeros(shape: shape)
    result.withUnsafeMutableBufferPointer { destination in
      for index in pixels.indices {
        destination[index] = dequantized(Int(pixels[index]), using: &generator)
      }
    }
    return result
  }

  /// One pixel's dequantised value, strictly inside its bin's half-open range.
  @inline(__always)
  private func dequantized<Scalar: TensorScalar, Generator: RandomNumberGenerator>(
    _ pixel: Int, using generator: inout Generator
  ) -> Scalar {
    let level = pixel >> (8 - bits)
    let scale = 1 / Double(levels)
    let u = Double(generator.next() >> 11) * 0x1p-53
    let value = Scalar((Double(level) + u) * scale - offset)
    // (level + 1)/L − offset is a multiple of 2^−bits below 1 in magnitude: exact in Float.
    let upper = Scalar(Double(level + 1) * scale - offset)
    return value < upper ? value : upper.nextDown
  }

  /// Maps dequantised (or model-sampled) values back to 8-bit pixel values:
  /// level = ⌊L·(x + offset)⌋ clamped to 0…L − 1, returned as
  /// level·2^(8 − bits) (the pixel itself for 8 bits). NaN maps to 0.
  /// - Parameters:
  ///   - x: any shape.
  /// - Returns: `x`'s shape, integers in 0...255. Not differentiable.
  /// - Complexity: O(n).
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func quantize<Scalar: TensorScalar>(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
    let levels = Double(self.levels)
    let offset = self.offset
    let step = Double(1 << (8 - bits))
    var result = Tensor<Scalar>.zeros(shape: x.shape)
    x.withUnsafeBufferPointer { source in
      result.withUnsafeMutableBufferPointer { destination in
        for index in source.indices {
          let level = ((Double(source[index]) + offset) * levels).rounded(.down)
          // `!(level >= 0)` also catches NaN.
          let clamped = !(level >= 0) ? 0 : Swift.min(level, levels - 1)
          destination[index] = Scalar(clamped * step)
        }
      }
    }
    return result
  }

  /// ``bitsPerDimension(negativeLogLikelihood:dimensions:bits:)`` at this bit depth.
  public func bitsPerDimension(negativeLogLikelihood: Double, dimensions: Int) -> Double {
    FlowLayers.bitsPerDimension(negativeLogLikelihood: negativeLogLikelihood, dimensions: dimensions, bits: bits)
  }

  /// ``bitsPerDimension(negativeLogLikelihood:dimensions:bits:)`` at this bit depth, per sample.
  public func bitsPerDimension<Scalar: TensorScalar>(negativeLogLikelihood: Tensor<Scalar>, dimensions: Int) -> Tensor<Scalar> {
    FlowLayers.bitsPerDimension(negativeLogLikelihood: negativeLogLikelihood, dimensions: dimensions, bits: bits)
  }
}
