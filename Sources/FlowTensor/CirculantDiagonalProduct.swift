import Foundation
import _FlowKernels

/// The product of rows with a circulant-diagonal matrix (CDFlow, Feng & Liao
/// 2025, Eq. 10), fused: each row goes through every diagonal scaling,
/// FFT, spectral product and inverse FFT while it is in cache, instead of
/// the whole batch being swept once per stage.
///
/// W = D₀·C₀·D₁·C₁·…·C_{m−2}·D_{m−1}, applied right to left, where Dⱼ =
/// diag(`diagonals[j]`) and Cⱼ = circ(irfft(`spectra[j]`)) acts as
/// x ↦ irfft(ĉⱼ ⊙ rfft(x)). The imaginary parts of each spectrum's DC bin
/// and, for even n, Nyquist bin are ignored (NumPy's `irfft` convention), so
/// W is real for any input.
///
/// Derivatives (one function each, below): the pullback is the transposed
/// product Wᵀ for the rows (the same pipeline with conjugated spectra in
/// reverse order) and, for the factors, sums over rows of cotangent times
/// activation, with the spectral part ĉ̄ = (w_k / n)·Σ conj(V_k)·Ĝ_k (V the
/// spectrum entering the circulant, Ĝ that of its output's cotangent, w_k
/// 1 for DC and Nyquist, 2 for bins that stand for a conjugate pair). The
/// tangent uses multilinearity: W is linear in x and in each factor, so
/// dW·x = Σ (W with one factor replaced by its tangent)·x, each term
/// computed by this same differentiable op.
///
/// - Parameters:
///   - x: `[rows, n]`.
///   - diagonals: `[m, n]`, m ≥ 1; `diagonals[0]` is applied last.
///   - spectra: `[m − 1, n/2 + 1, 2]`: half spectra as (real, imaginary).
/// - Returns: `[rows, n]`, W·x for every row.
/// - Complexity: O(rows·m·n log n), split across cores; one pass over the data per row block.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func circulantDiagonalProduct<Scalar: TensorScalar>(
  _ x: Tensor<Scalar>, diagonals: Tensor<Scalar>, spectra: Tensor<Scalar>
) -> Tensor<Scalar> {
  let m = diagonals.shape.first ?? 0
  precondition(
    x.rank == 2 && diagonals.rank == 2 && m >= 1 && diagonals.shape[1] == x.shape[1],
    "circulantDiagonalProduct: x \(x.shape) must be [rows, n] and diagonals \(diagonals.shape) [m ≥ 1, n]")
  let n = x.shape[1]
  precondition(
    spectra.shape == [m - 1, n / 2 + 1, 2],
    "circulantDiagonalProduct: spectra \(spectra.shape) must be [\(m - 1), \(n / 2 + 1), 2] for diagonals \(diagonals.shape)")
  guard x.autodiff != nil || diagonals.autodiff != nil || spectra.autodiff != nil else {
    return CirculantDiagonalKernel.product(x, diagonals: diagonals, spectra: spectra).value
  }
  // Keep what the pullback reads (each circulant's input spectrum and
  // output) when a backward pass may come, instead of recomputing it there.
  let keep = Recording.isActive && (x.requiresGradient || diagonals.requiresGradient || spectra.requiresGradient)
  let (value, saved) = CirculantDiagonalKernel.product(x, diagonals: diagonals, spectra: spectra, keeping: keep)
  let (plainX, plainDiagonals, plainSpectra) = (x.detached, diagonals.detached, spectra.detached)
  return value.derived(
    from: [x, diagonals, spectra], operation: "circulantDiagonalProduct",
    pullback: { cotangent in
      let (gradientX, gradientDiagonals, gradientSpectra) = CirculantDiagonalKernel.pullback(
        cotangent, x: plainX, diagonals: plainDiagonals, spectra: plainSpectra, saved: saved)
      return [gradientX, gradientDiagonals, gradientSpectra]
    },
    tangent: { inputs, output, tangents in
      circulantDiagonalTangent(inputs[0], inputs[1], inputs[2], output: output, tangents: tangents)
    })
}

/// dW·x + W·dx by multilinearity, batched tangents looped over.
func circulantDiagonalTangent<Scalar: TensorScalar>(
  _ x: Tensor<Scalar>, _ diagonals: Tensor<Scalar>, _ spectra: Tensor<Scalar>, output: Tensor<Scalar>,
  tangents: [Tensor<Scalar>?]
) -> Tensor<Scalar> {
  let n = x.shape[1]
  let batchShape = tangents.enumerated().compactMap { index, tangent -> [Int]? in
    guard let tangent else { return nil }
    let primalRank = [2, 2, 3][index]
    return Array(tangent.shape[..<(tangent.rank - primalRank)])
  }.first ?? []
  let batchCount = batchShape.reduce(1, *)
  var total: Tensor<Scalar>? = nil
  func add(_ term: Tensor<Scalar>) { total = total.map { $0 + term } ?? term }
  if let dx = tangents[0] {
    add(circulantDiagonalProduct(dx.reshaped(to: [-1, n]), diagonals: diagonals, spectra: spectra)
      .reshaped(to: batchShape + x.shape))
  }
  // A factor's tangent replaces that factor (W is linear in each).
  func replacing(_ factors: Tensor<Scalar>, row: Int, with replacement: Tensor<Scalar>) -> Tensor<Scalar> {
    var maskShape = factors.shape
    maskShape[0] = 1
    let mask = Tensor<Scalar>(
      shape: [factors.shape[0]] + Array(repeating: 1, count: factors.rank - 1),
      scalars: (0..<factors.shape[0]).map { $0 == row ? 1 : 0 })
    return factors * (1 - mask) + replacement.expandingShape(at: 0) * mask
  }
  for (index, factors) in [(1, diagonals), (2, spectra)] {
    guard let tangent = tangents[index] else { continue }
    let flat = tangent.reshaped(to: [batchCount] + factors.shape)
    var perDirection: [Tensor<Scalar>] = []
    for direction in 0..<batchCount {
      let slice = flat.sliced(alongAxis: 0, from: direction, to: direction + 1).squeezingShape(at: 0)
      var sum: Tensor<Scalar>? = nil
      for row in 0..<factors.shape[0] {
        let rowTangent = slice.sliced(alongAxis: 0, from: row, to: row + 1).squeezingShape(at: 0)
        let term =
          index == 1
          ? circulantDiagonalProduct(x, diagonals: replacing(diagonals, row: row, with: rowTangent), spectra: spectra)
          : circulantDiagonalProduct(x, diagonals: diagonals, spectra: replacing(spectra, row: row, with: rowTangent))
        sum = sum.map { $0 + term } ?? term
      }
      perDirection.append((sum ?? Tensor.zeros(shape: x.shape)).expandingShape(at: 0))
    }
    add(Tensor(concatenating: perDirection, alongAxis: 0).reshaped(to: batchShape + x.shape))
  }
  return total ?? Tensor.zeros(shape: batchShape + output.shape)
}

/// The fused loops, on raw buffers; FFTs through cached FFTW plans.
///
/// Rows travel in pairs packed as one complex signal, u = x₂ₚ + i·x₂ₚ₊₁:
/// every factor of W is real (real diagonals; circulants of real kernels),
/// so W·u = W·x₂ₚ + i·W·x₂ₚ₊₁, and one complex FFT of length n serves two
/// rows. FFTW's complex transforms of the pairs, in the layout below, ran
/// 2-3.7x faster than its batched r2c/c2r on the same rows (this project's
/// machine, FFTW 3.3.10, [4096, n] Float, n from 16 to 1024; at n = 8 they
/// tie), and the packing is
/// fused with the diagonal scalings, which sweep the data anyway. A last
/// unpaired row travels with a zero imaginary part. See ``PairLayout`` for
/// how a pair is laid out.
enum CirculantDiagonalKernel {
  /// How a pair's complex signal of n points sits in its 2n scalars.
  ///
  /// FFTW's split-format transforms (the n real parts, then the n imaginary
  /// parts) are the fastest measured for powers of two from 128 on (n =
  /// 1024: 1.4-2.3x faster than interleaved), and 1.9-2.5x slower than
  /// interleaved (real, imaginary) pairs for other lengths (n = 96, 100,
  /// 192, 384, 768) and for smaller powers of two; at n = 64 split wins by
  /// 15% with FFTW_MEASURE plans but loses 4x with FFTW_ESTIMATE ones, the
  /// default. So the layout is chosen by length.
  enum PairLayout {
    case interleaved
    case split

    /// Split for powers of two ≥ 128, interleaved otherwise.
    static func choosing(length n: Int) -> PairLayout {
      n >= 128 && n & (n - 1) == 0 ? .split : .interleaved
    }

    /// Calls `body(stride, imaginaryOffset)`: a signal's point i has its
    /// real part at `i·stride` and its imaginary part at `imaginaryOffset +
    /// i·stride`. The two calls get constants, so inlined loops vectorise.
    @inline(__always)
    func withStrides(length n: Int, _ body: (Int, Int) -> Void) {
      switch self {
      case .interleaved: body(2, 1)
      case .split: body(1, n)
      }
    }
  }

  /// What the forward pass keeps for the pullback, per circulant j and row
  /// pair: the packed spectrum entering Cⱼ and Cⱼ's packed output
  /// (each `[m−1, pairs, 2n]`, pairs = ⌈rows/2⌉, in the ``PairLayout`` of n).
  struct Saved<Scalar: TensorScalar> {
    let spectra: TensorStorage<Scalar>
    let activations: TensorStorage<Scalar>
  }

  /// W·x for every row, and, when `keeping`, what the pullback reads.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  static func product<Scalar: TensorScalar>(
    _ x: Tensor<Scalar>, diagonals: Tensor<Scalar>, spectra: Tensor<Scalar>, keeping: Bool = false
  ) -> (value: Tensor<Scalar>, saved: Saved<Scalar>?) {
    let (rows, n, m) = (x.shape[0], x.shape[1], diagonals.shape[0])
    let result = Tensor<Scalar>(uninitializedShape: [rows, n])
    guard rows > 0, n > 0 else { return (result, nil) }
    let storeCount = (m - 1) * pairCount(rows: rows) * 2 * n
    let saved =
      keeping && m > 1
      ? Saved(
        spectra: TensorStorage<Scalar>.make(uninitializedCount: storeCount),
        activations: TensorStorage<Scalar>.make(uninitializedCount: storeCount)) : nil
    run(
      rows: rows, n: n, m: m, x: x.storage.base, diagonals: diagonals.storage.base,
      spectra: spectra.storage.base, output: result.storage.base, spectraStore: saved?.spectra.base,
      activationStore: saved?.activations.base)
    withExtendedLifetime((x, diagonals, spectra)) {}
    return (result, saved)
  }

  /// ⌈rows/2⌉: the complex signals `rows` real rows pack into.
  @inline(__always)
  static func pairCount(rows: Int) -> Int { (rows + 1) / 2 }

  /// The forward pipeline on rows; optionally keeps, per circulant j, the
  /// packed spectrum entering it (`spectraStore`) and its packed output
  /// (`activationStore`), each `[m−1, pairs, 2n]`, for the pullback.
  static func run<Scalar: TensorScalar>(
    rows: Int, n: Int, m: Int, x: UnsafePointer<Scalar>, diagonals: UnsafePointer<Scalar>,
    spectra: UnsafePointer<Scalar>, output: UnsafeMutablePointer<Scalar>,
    spectraStore: UnsafeMutablePointer<Scalar>?, activationStore: UnsafeMutablePointer<Scalar>?
  ) {
    let last = diagonals + (m - 1) * n
    guard m > 1 else {
      // W = D₀: no transform, no packing.
      Parallel.forEachRange(count: rows, grain: Swift.max(1, Parallel.elementwiseGrain / n)) { range in
        for row in range {
          let (source, target) = (x + row * n, output + row * n)
          for i in 0..<n { target[i] = source[i] * last[i] }
        }
      }
      return
    }
    let layout = PairLayout.choosing(length: n)
    let pairs = pairCount(rows: rows)
    let pairScalars = 2 * n
    let full = fullSpectra(spectra, circulants: m - 1, n: n, layout: layout, conjugate: false)
    forEachRowBlock(rows: rows, n: n, Scalar.self) { block, u, z in
      let firstPair = block.lowerBound / 2
      let count = pairCount(rows: block.count)
      pack(x + block.lowerBound * n, rows: block.count, n: n, layout: layout, scaledBy: last, into: u)
      for j in stride(from: m - 2, through: 0, by: -1) {
        transform(n: n, count: count, layout: layout, inverse: false, input: u, output: z)
        if let spectraStore {
          (spectraStore + (j * pairs + firstPair) * pairScalars).update(from: z, count: count * pairScalars)
        }
        multiply(z, pairs: count, n: n, layout: layout, by: full.base + j * pairScalars)
        transform(n: n, count: count, layout: layout, inverse: true, input: z, output: u)
        if let activationStore {
          (activationStore + (j * pairs + firstPair) * pairScalars).update(from: u, count: count * pairScalars)
        }
        if j > 0 {
          scale(u, pairs: count, n: n, layout: layout, by: diagonals + j * n)
        } else {
          unpack(u, rows: block.count, n: n, layout: layout, scaledBy: diagonals, into: output + block.lowerBound * n)
        }
      }
    }
    withExtendedLifetime(full) {}
  }

  /// Cotangents of x, the diagonals and the spectra for output cotangent `g`.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  static func pullback<Scalar: TensorScalar>(
    _ g: Tensor<Scalar>, x: Tensor<Scalar>, diagonals: Tensor<Scalar>, spectra: Tensor<Scalar>,
    saved: Saved<Scalar>?
  ) -> (Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>) {
    let (rows, n, m) = (x.shape[0], x.shape[1], diagonals.shape[0])
    let gradientDiagonals = Tensor<Scalar>.zeros(shape: diagonals.shape)
    let gradientSpectra = Tensor<Scalar>.zeros(shape: spectra.shape)
    let gradientX = Tensor<Scalar>(uninitializedShape: x.shape)
    guard rows > 0, n > 0 else { return (gradientX, gradientDiagonals, gradientSpectra) }
    let (xBase, dBase, gBase) = (x.storage.base, diagonals.storage.base, g.storage.base)
    let layout = PairLayout.choosing(length: n)
    let pairs = pairCount(rows: rows)
    let pairScalars = 2 * n
    let circulants = Swift.max(m - 1, 0)
    // What the forward pass kept, or the forward pass again when it did not
    // (a pullback of a product computed while recording was paused).
    let kept = m > 1 ? (saved ?? product(x, diagonals: diagonals, spectra: spectra, keeping: true).saved!) : nil
    // Wᵀ has the conjugate spectra (the transposed circulants).
    let conjugates = fullSpectra(spectra.storage.base, circulants: circulants, n: n, layout: layout, conjugate: true)
    // Σ over pairs of conj(U_k)·G_k on the full spectrum, per circulant.
    let spectrumSums = TensorStorage<Scalar>.make(repeating: 0, count: circulants * pairScalars)
    let lock = NSLock()
    // Fresh tensors, owned here alone: written through their storage.
    let (dOut, gxOut) = (gradientDiagonals.storage.base, gradientX.storage.base)
    forEachRowBlock(rows: rows, n: n, Scalar.self) { block, u, z in
      var partialDiagonals = [Scalar](repeating: 0, count: m * n)
      var partialSpectra = [Scalar](repeating: 0, count: circulants * pairScalars)
      let lastDiagonal = dBase + (m - 1) * n
      let (source, cotangent) = (xBase + block.lowerBound * n, gBase + block.lowerBound * n)
      let target = gxOut + block.lowerBound * n
      partialDiagonals.withUnsafeMutableBufferPointer { partialD in
        let partialD = partialD.baseAddress!
        guard let kept else {
          // Wᵀ = D₀ alone.
          for row in 0..<block.count {
            let (v, input, out) = (cotangent + row * n, source + row * n, target + row * n)
            for i in 0..<n {
              partialD[i] += v[i] * input[i]
              out[i] = v[i] * lastDiagonal[i]
            }
          }
          return
        }
        let firstPair = block.lowerBound / 2
        let count = pairCount(rows: block.count)
        pack(cotangent, rows: block.count, n: n, layout: layout, scaledBy: nil, into: u)
        partialSpectra.withUnsafeMutableBufferPointer { partialS in
          let partialS = partialS.baseAddress!
          for j in 0..<(m - 1) {
            let activation = kept.activations.base + (j * pairs + firstPair) * pairScalars
            accumulateAndScale(
              u, pairs: count, n: n, layout: layout, times: activation, into: partialD + j * n,
              scaledBy: dBase + j * n)
            transform(n: n, count: count, layout: layout, inverse: false, input: u, output: z)
            accumulateSpectra(
              entering: kept.spectra.base + (j * pairs + firstPair) * pairScalars, cotangent: z, pairs: count, n: n,
              layout: layout, into: partialS + j * pairScalars)
            multiply(z, pairs: count, n: n, layout: layout, by: conjugates.base + j * pairScalars)
            transform(n: n, count: count, layout: layout, inverse: true, input: z, output: u)
          }
        }
        // The last (rightmost) diagonal, and x's cotangent unpacked.
        let sums = partialD + (m - 1) * n
        layout.withStrides(length: n) { stride, imaginaryOffset in
          for row in 0..<block.count {
            let v = u + (row / 2) * pairScalars + (row % 2) * imaginaryOffset
            let (input, out) = (source + row * n, target + row * n)
            for i in 0..<n {
              let value = v[i &* stride]
              sums[i] += value * input[i]
              out[i] = value * lastDiagonal[i]
            }
          }
        }
      }
      lock.withLock {
        for index in 0..<(m * n) { dOut[index] += partialDiagonals[index] }
        for index in 0..<partialSpectra.count { spectrumSums.base[index] += partialSpectra[index] }
      }
    }
    // Fold the full-spectrum sums S onto the half-spectrum parameters: a
    // pair's packed spectra give Σ conj(X₁)·G₁ + conj(X₂)·G₂ at bin k as
    // ½·(S_k + conj(S_{n−k})); a bin standing for itself and its conjugate
    // (all but DC and Nyquist) counts twice; the product used ĉ/n.
    let cOut = gradientSpectra.storage.base
    let (bins, inverseLength) = (n / 2 + 1, 1 / Scalar(n))
    layout.withStrides(length: n) { stride, imaginaryOffset in
      for j in 0..<circulants {
        let sums = spectrumSums.base + j * pairScalars
        for k in 0..<bins {
          let mirror = (n - k) % n
          let weight: Scalar = (k == 0 || (n % 2 == 0 && k == n / 2)) ? 1 : 2
          let factor = weight * inverseLength / 2
          cOut[(j * bins + k) * 2] = factor * (sums[k * stride] + sums[mirror * stride])
          cOut[(j * bins + k) * 2 + 1] =
            factor * (sums[imaginaryOffset + k * stride] - sums[imaginaryOffset + mirror * stride])
        }
      }
    }
    withExtendedLifetime((x, diagonals, spectra, g, kept, conjugates, spectrumSums)) {}
    return (gradientX, gradientDiagonals, gradientSpectra)
  }

  /// The full spectra (`[circulants, 2n]` in `layout`) of the circulants
  /// whose half spectra are `half` (`[circulants, n/2 + 1, 2]`), divided by
  /// n (FFTW's backward transform is unnormalised), conjugated for Wᵀ when
  /// asked. The kernels are real: bin n − k is the conjugate of bin k, and
  /// the imaginary parts of DC and, for even n, Nyquist are taken as zero.
  static func fullSpectra<Scalar: TensorScalar>(
    _ half: UnsafePointer<Scalar>, circulants: Int, n: Int, layout: PairLayout, conjugate: Bool
  ) -> TensorStorage<Scalar> {
    let bins = n / 2 + 1
    let full = TensorStorage<Scalar>.make(uninitializedCount: Swift.max(circulants, 0) * 2 * n)
    let scale = 1 / Scalar(n)
    let sign: Scalar = conjugate ? -1 : 1
    layout.withStrides(length: n) { stride, imaginaryOffset in
      for j in 0..<Swift.max(circulants, 0) {
        let (source, target) = (half + j * 2 * bins, full.base + j * 2 * n)
        for k in 0..<n {
          let isSelfConjugate = k == 0 || (n % 2 == 0 && k == n / 2)
          let (index, mirrored) = k < bins ? (k, false) : (n - k, true)
          let imaginary = isSelfConjugate ? 0 : source[2 * index + 1] * scale * (mirrored ? -1 : 1)
          target[k * stride] = source[2 * index] * scale
          target[imaginaryOffset + k * stride] = sign * imaginary
        }
      }
    }
    return full
  }

  /// `pointer` as Float, for the C kernels of the Float stages
  /// (`_FlowKernels/CirculantDiagonal.c`: AVX2 where available; Swift's
  /// loops compile for 128-bit vectors only). Call only when Scalar is Float.
  @inline(__always)
  static func floats<Scalar>(_ pointer: UnsafePointer<Scalar>) -> UnsafePointer<Float> {
    UnsafeRawPointer(pointer).assumingMemoryBound(to: Float.self)
  }

  @inline(__always)
  static func floats<Scalar>(_ pointer: UnsafeMutablePointer<Scalar>) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: Float.self)
  }

  /// Packs `rows` real rows of n into ⌈rows/2⌉ complex signals (row 2p the
  /// real part, row 2p + 1 the imaginary part, zero for a last odd row),
  /// multiplied elementwise by `diagonal` when given.
  @inline(__always)
  static func pack<Scalar: TensorScalar>(
    _ x: UnsafePointer<Scalar>, rows: Int, n: Int, layout: PairLayout, scaledBy diagonal: UnsafePointer<Scalar>?,
    into u: UnsafeMutablePointer<Scalar>
  ) {
    if Scalar.self == Float.self {
      flow_cd_pack_f32(
        floats(x), rows, n, layout == .split ? 1 : 0, diagonal.map { floats($0) }, floats(u))
      return
    }
    layout.withStrides(length: n) { stride, imaginaryOffset in
      for pair in 0..<pairCount(rows: rows) {
        let first = x + 2 * pair * n
        let (real, imaginary) = (u + pair * 2 * n, u + pair * 2 * n + imaginaryOffset)
        if 2 * pair + 1 == rows {
          for i in 0..<n { imaginary[i &* stride] = 0 }
          if let diagonal {
            for i in 0..<n { real[i &* stride] = first[i] * diagonal[i] }
          } else {
            for i in 0..<n { real[i &* stride] = first[i] }
          }
          continue
        }
        let second = first + n
        if let diagonal {
          for i in 0..<n {
            real[i &* stride] = first[i] * diagonal[i]
            imaginary[i &* stride] = second[i] * diagonal[i]
          }
        } else {
          for i in 0..<n {
            real[i &* stride] = first[i]
            imaginary[i &* stride] = second[i]
          }
        }
      }
    }
  }

  /// The inverse of ``pack(_:rows:n:layout:scaledBy:into:)``, multiplied by `diagonal`.
  @inline(__always)
  static func unpack<Scalar: TensorScalar>(
    _ u: UnsafePointer<Scalar>, rows: Int, n: Int, layout: PairLayout, scaledBy diagonal: UnsafePointer<Scalar>,
    into y: UnsafeMutablePointer<Scalar>
  ) {
    if Scalar.self == Float.self {
      flow_cd_unpack_f32(floats(u), rows, n, layout == .split ? 1 : 0, floats(diagonal), floats(y))
      return
    }
    layout.withStrides(length: n) { stride, imaginaryOffset in
      for pair in 0..<pairCount(rows: rows) {
        let first = y + 2 * pair * n
        let (real, imaginary) = (u + pair * 2 * n, u + pair * 2 * n + imaginaryOffset)
        if 2 * pair + 1 == rows {
          for i in 0..<n { first[i] = real[i &* stride] * diagonal[i] }
          continue
        }
        let second = first + n
        for i in 0..<n {
          first[i] = real[i &* stride] * diagonal[i]
          second[i] = imaginary[i &* stride] * diagonal[i]
        }
      }
    }
  }

  /// u ← u·diag(d) on both parts of every packed signal.
  @inline(__always)
  static func scale<Scalar: TensorScalar>(
    _ u: UnsafeMutablePointer<Scalar>, pairs: Int, n: Int, layout: PairLayout, by diagonal: UnsafePointer<Scalar>
  ) {
    if Scalar.self == Float.self {
      flow_cd_scale_f32(floats(u), pairs, n, layout == .split ? 1 : 0, floats(diagonal))
      return
    }
    layout.withStrides(length: n) { stride, imaginaryOffset in
      for pair in 0..<pairs {
        let (real, imaginary) = (u + pair * 2 * n, u + pair * 2 * n + imaginaryOffset)
        for i in 0..<n {
          real[i &* stride] *= diagonal[i]
          imaginary[i &* stride] *= diagonal[i]
        }
      }
    }
  }

  /// The pullback through a diagonal: `sums[i] += Σ u·activation` over
  /// both parts of every pair (the diagonal's cotangent), then u ← u·diag(d).
  @inline(__always)
  static func accumulateAndScale<Scalar: TensorScalar>(
    _ u: UnsafeMutablePointer<Scalar>, pairs: Int, n: Int, layout: PairLayout, times activation: UnsafePointer<Scalar>,
    into sums: UnsafeMutablePointer<Scalar>, scaledBy diagonal: UnsafePointer<Scalar>
  ) {
    layout.withStrides(length: n) { stride, imaginaryOffset in
      for pair in 0..<pairs {
        let (real, imaginary) = (u + pair * 2 * n, u + pair * 2 * n + imaginaryOffset)
        let (activationReal, activationImaginary) = (
          activation + pair * 2 * n, activation + pair * 2 * n + imaginaryOffset
        )
        for i in 0..<n {
          let index = i &* stride
          sums[i] += real[index] * activationReal[index] + imaginary[index] * activationImaginary[index]
          real[index] *= diagonal[i]
          imaginary[index] *= diagonal[i]
        }
      }
    }
  }

  /// sums[k] += Σ over pairs conj(entering_k)·cotangent_k, complex, in `layout`.
  @inline(__always)
  static func accumulateSpectra<Scalar: TensorScalar>(
    entering: UnsafePointer<Scalar>, cotangent: UnsafePointer<Scalar>, pairs: Int, n: Int, layout: PairLayout,
    into sums: UnsafeMutablePointer<Scalar>
  ) {
    layout.withStrides(length: n) { stride, imaginaryOffset in
      let (sumReal, sumImaginary) = (sums, sums + imaginaryOffset)
      for pair in 0..<pairs {
        let (x, g) = (entering + pair * 2 * n, cotangent + pair * 2 * n)
        let (xImaginary, gImaginary) = (x + imaginaryOffset, g + imaginaryOffset)
        for k in 0..<n {
          let index = k &* stride
          let (a, b, p, q) = (x[index], xImaginary[index], g[index], gImaginary[index])
          sumReal[index] += a * p + b * q
          sumImaginary[index] += a * q - b * p
        }
      }
    }
  }

  /// z[pair, k] ← z[pair, k]·spectrum[k], complex, over the full spectrum.
  @inline(__always)
  static func multiply<Scalar: TensorScalar>(
    _ z: UnsafeMutablePointer<Scalar>, pairs: Int, n: Int, layout: PairLayout, by spectrum: UnsafePointer<Scalar>
  ) {
    if Scalar.self == Float.self {
      flow_cd_multiply_f32(floats(z), pairs, n, layout == .split ? 1 : 0, floats(spectrum))
      return
    }
    layout.withStrides(length: n) { stride, imaginaryOffset in
      let (p, q) = (spectrum, spectrum + imaginaryOffset)
      for pair in 0..<pairs {
        let (real, imaginary) = (z + pair * 2 * n, z + pair * 2 * n + imaginaryOffset)
        for k in 0..<n {
          // Wrapping index arithmetic: a checked multiply here stops vectorisation.
          let index = k &* stride
          let (a, b) = (real[index], imaginary[index])
          real[index] = a * p[index] - b * q[index]
          imaginary[index] = a * q[index] + b * p[index]
        }
      }
    }
  }

  /// One batched FFTW complex transform of `count` contiguous signals of n
  /// (sign −1, or +1 unnormalised when `inverse`) in `layout`.
  @inline(__always)
  static func transform<Scalar: TensorScalar>(
    n: Int, count: Int, layout: PairLayout, inverse: Bool,
    input: UnsafeMutablePointer<Scalar>, output: UnsafeMutablePointer<Scalar>
  ) {
    var aligned = Scalar._fftwAlignment(of: input) == 0 && Scalar._fftwAlignment(of: output) == 0
    switch layout {
    case .interleaved:
      let plan = FFTPlanCache.shared.plan(
        kind: inverse ? .backward : .forward, length: n, count: count, input: input, output: output,
        aligned: aligned)
      plan.execute(input: input, output: output)
    case .split:
      // The imaginary halves must share the plan's alignment too.
      aligned = aligned && Scalar._fftwAlignment(of: input + n) == 0 && Scalar._fftwAlignment(of: output + n) == 0
      let plan = FFTPlanCache.shared.plan(
        kind: .splitForward, length: n, count: count, input: input, output: output, aligned: aligned)
      plan.executeSplit(input: input, output: output, inverse: inverse)
    }
  }

  /// Bytes of real data a tile of rows should hold: small enough that the
  /// tile's rows and its two packed buffers stay in the per-core L2 cache
  /// while it passes through every stage.
  static let tileBytes = 1 << 17

  /// Calls `body(tile, signals, spectra)` on tiles of rows, split across
  /// cores: each tile starts at an even row that is 64-byte aligned, and
  /// holds about ``tileBytes`` of real data; `signals` and `spectra` are
  /// scratch buffers of the tile's packed size (⌈count/2⌉·2n scalars each),
  /// one pair per thread reused for every tile it runs, so every stage of
  /// the pipeline finds its data in cache.
  @inline(__always)
  static func forEachRowBlock<Scalar: TensorScalar>(
    rows: Int, n: Int, _: Scalar.Type,
    _ body: (Range<Int>, UnsafeMutablePointer<Scalar>, UnsafeMutablePointer<Scalar>) -> Void
  ) {
    let unit = FFTDriver.lcm(FFTDriver.alignedRowBlock(rowScalars: n, Scalar.self), 2)
    let tileUnits = Swift.max(1, tileBytes / (unit * n * MemoryLayout<Scalar>.stride))
    let tiles = (rows + unit * tileUnits - 1) / (unit * tileUnits)
    let tileRows = unit * tileUnits
    // tileRows is even, so a tile's packed size is tileRows·n scalars.
    let scratchCount = Swift.min(tileRows, pairCount(rows: rows) * 2) * n
    Parallel.forEachRange(count: tiles, grain: Swift.max(1, FFTDriver.grain / (tileRows * n))) { range in
      // The thread's own scratch, the same buffer at every call, so it
      // stays in this core's cache (from the shared buffer pool, the two
      // threads' scratch buffers changed hands between calls).
      guard let raw = flow_thread_scratch(2 * scratchCount * MemoryLayout<Scalar>.stride) else {
        fatalError("CirculantDiagonalKernel: no memory for \(2 * scratchCount) scalars of scratch")
      }
      let scratch = raw.assumingMemoryBound(to: Scalar.self)
      for tile in range {
        body((tile * tileRows)..<Swift.min(rows, (tile + 1) * tileRows), scratch, scratch + scratchCount)
      }
    }
  }
}
