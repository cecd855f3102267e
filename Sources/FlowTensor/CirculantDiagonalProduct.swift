import Foundation

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
enum CirculantDiagonalKernel {
  /// What the forward pass keeps for the pullback: per circulant, the
  /// spectrum entering it (`[m−1, rows, n/2+1, 2]`) and its output (`[m−1, rows, n]`).
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
    let saved =
      keeping
      ? Saved(
        spectra: TensorStorage<Scalar>.make(uninitializedCount: (m - 1) * rows * 2 * (n / 2 + 1)),
        activations: TensorStorage<Scalar>.make(uninitializedCount: (m - 1) * rows * n)) : nil
    run(
      rows: rows, n: n, m: m, x: x.storage.base, diagonals: diagonals.storage.base,
      spectra: spectra.storage.base, output: result.storage.base, spectraStore: saved?.spectra.base,
      activationStore: saved?.activations.base)
    withExtendedLifetime((x, diagonals, spectra)) {}
    return (result, saved)
  }

  /// The forward pipeline on rows; optionally keeps, per circulant j, the
  /// spectrum entering it (`spectraStore`, `[m−1, rows, n/2+1, 2]`) and its
  /// output (`activationStore`, `[m−1, rows, n]`) for the pullback.
  static func run<Scalar: TensorScalar>(
    rows: Int, n: Int, m: Int, x: UnsafePointer<Scalar>, diagonals: UnsafePointer<Scalar>,
    spectra: UnsafePointer<Scalar>, output: UnsafeMutablePointer<Scalar>,
    spectraStore: UnsafeMutablePointer<Scalar>?, activationStore: UnsafeMutablePointer<Scalar>?
  ) {
    let bins = n / 2 + 1
    let complexRow = 2 * bins
    let scratch = TensorStorage<Scalar>.make(uninitializedCount: rows * complexRow)
    let inverseLength = 1 / Scalar(n)
    forEachRowBlock(rows: rows, n: n, Scalar.self) { block in
      let count = block.count
      let y = output + block.lowerBound * n
      let z = scratch.base + block.lowerBound * complexRow
      let last = diagonals + (m - 1) * n
      // Per-row pointers keep index arithmetic out of the inner loops
      // (Swift's overflow checks there stop vectorisation).
      for row in 0..<count {
        let source = x + (block.lowerBound + row) * n
        let target = y + row * n
        for i in 0..<n { target[i] = source[i] * last[i] }
      }
      for j in stride(from: m - 2, through: 0, by: -1) {
        transform(.realToComplex, n: n, count: count, input: y, output: z)
        if let spectraStore {
          (spectraStore + (j * rows + block.lowerBound) * complexRow).update(from: z, count: count * complexRow)
        }
        multiplySpectra(z, rows: count, n: n, by: spectra + j * complexRow, conjugate: false, scale: inverseLength)
        transform(.complexToReal, n: n, count: count, input: z, output: y)
        if let activationStore {
          (activationStore + (j * rows + block.lowerBound) * n).update(from: y, count: count * n)
        }
        let diagonal = diagonals + j * n
        for row in 0..<count {
          let target = y + row * n
          for i in 0..<n { target[i] *= diagonal[i] }
        }
      }
    }
    withExtendedLifetime(scratch) {}
  }

  /// Cotangents of x, the diagonals and the spectra for output cotangent `g`.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  static func pullback<Scalar: TensorScalar>(
    _ g: Tensor<Scalar>, x: Tensor<Scalar>, diagonals: Tensor<Scalar>, spectra: Tensor<Scalar>,
    saved: Saved<Scalar>?
  ) -> (Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>) {
    let (rows, n, m) = (x.shape[0], x.shape[1], diagonals.shape[0])
    let bins = n / 2 + 1
    let complexRow = 2 * bins
    let gradientDiagonals = Tensor<Scalar>.zeros(shape: diagonals.shape)
    let gradientSpectra = Tensor<Scalar>.zeros(shape: spectra.shape)
    let gradientX = Tensor<Scalar>(uninitializedShape: x.shape)
    guard rows > 0, n > 0 else { return (gradientX, gradientDiagonals, gradientSpectra) }
    let (xBase, dBase, cBase) = (x.storage.base, diagonals.storage.base, spectra.storage.base)
    // What the forward pass kept, or the forward pass again when it did not
    // (a pullback of a product computed while recording was paused).
    let kept =
      saved
      ?? product(x, diagonals: diagonals, spectra: spectra, keeping: true).saved!
    let (spectraStore, activationStore) = (kept.spectra, kept.activations)
    let scratch = TensorStorage<Scalar>.make(uninitializedCount: rows * complexRow)
    let gv = gradientX.storage.base  // the running cotangent, finally x's
    gv.update(from: g.storage.base, count: rows * n)
    let inverseLength = 1 / Scalar(n)
    let lock = NSLock()
    // Fresh tensors, owned here alone: written through their storage.
    let dOut = gradientDiagonals.storage.base
    let cOut = gradientSpectra.storage.base
    forEachRowBlock(rows: rows, n: n, Scalar.self) { block in
      let count = block.count
      var partialDiagonals = [Scalar](repeating: 0, count: m * n)
      var partialSpectra = [Scalar](repeating: 0, count: Swift.max(m - 1, 0) * complexRow)
      let v = gv + block.lowerBound * n
      let z = scratch.base + block.lowerBound * complexRow
      for j in 0..<(m - 1) {
        let activation = activationStore.base + (j * rows + block.lowerBound) * n
        let diagonal = dBase + j * n
        partialDiagonals.withUnsafeMutableBufferPointer { partial in
          let sums = partial.baseAddress! + j * n
          for row in 0..<count {
            let (cotangent, input) = (v + row * n, activation + row * n)
            for i in 0..<n {
              sums[i] += cotangent[i] * input[i]
              cotangent[i] *= diagonal[i]
            }
          }
        }
        transform(.realToComplex, n: n, count: count, input: v, output: z)
        // ĉ̄ += (w_k / n)·Σ conj(V)·Ĝ.
        let entering = spectraStore.base + (j * rows + block.lowerBound) * complexRow
        partialSpectra.withUnsafeMutableBufferPointer { partial in
          let sums = partial.baseAddress! + j * complexRow
          for row in 0..<count {
            let (spectrum, cotangent) = (entering + row * complexRow, z + row * complexRow)
            for k in 0..<bins {
              let (real, imaginary) = (k &* 2, k &* 2 &+ 1)
              let (a, b) = (spectrum[real], spectrum[imaginary])
              let (p, q) = (cotangent[real], cotangent[imaginary])
              sums[real] += a * p + b * q
              sums[imaginary] += a * q - b * p
            }
          }
        }
        multiplySpectra(z, rows: count, n: n, by: cBase + j * complexRow, conjugate: true, scale: inverseLength)
        transform(.complexToReal, n: n, count: count, input: z, output: v)
      }
      let lastDiagonal = dBase + (m - 1) * n
      partialDiagonals.withUnsafeMutableBufferPointer { partial in
        let sums = partial.baseAddress! + (m - 1) * n
        for row in 0..<count {
          let (source, cotangent) = (xBase + (block.lowerBound + row) * n, v + row * n)
          for i in 0..<n {
            sums[i] += cotangent[i] * source[i]
            cotangent[i] *= lastDiagonal[i]
          }
        }
      }
      lock.withLock {
        for index in 0..<(m * n) { dOut[index] += partialDiagonals[index] }
        for index in 0..<partialSpectra.count { cOut[index] += partialSpectra[index] }
      }
    }
    // Bin weights: a bin standing for itself and its conjugate counts twice.
    for j in 0..<(m - 1) {
      for k in 0..<bins {
        let weight: Scalar = (k == 0 || (n % 2 == 0 && k == n / 2)) ? 1 : 2
        cOut[j * complexRow + 2 * k] *= weight * inverseLength
        cOut[j * complexRow + 2 * k + 1] *= weight * inverseLength
      }
    }
    withExtendedLifetime((x, diagonals, spectra, g, spectraStore, activationStore, scratch)) {}
    return (gradientX, gradientDiagonals, gradientSpectra)
  }

  /// z[row, k] ← z[row, k]·ĉ_k (or ·conj(ĉ_k))·scale, with the imaginary
  /// parts of DC and, for even n, Nyquist set to zero (c2r's contract).
  @inline(__always)
  static func multiplySpectra<Scalar: TensorScalar>(
    _ z: UnsafeMutablePointer<Scalar>, rows: Int, n: Int, by spectrum: UnsafePointer<Scalar>, conjugate: Bool,
    scale: Scalar
  ) {
    let bins = n / 2 + 1
    let complexRow = 2 * bins
    let sign: Scalar = conjugate ? -1 : 1
    for row in 0..<rows {
      let entry = z + row * complexRow
      for k in 0..<bins {
        // Wrapping index arithmetic: k < n/2 + 1 cannot overflow, and a
        // checked multiply here stops vectorisation.
        let (real, imaginary) = (k &* 2, k &* 2 &+ 1)
        let (a, b) = (entry[real], entry[imaginary])
        let (p, q) = (spectrum[real] * scale, sign * spectrum[imaginary] * scale)
        entry[real] = a * p - b * q
        entry[imaginary] = a * q + b * p
      }
      entry[1] = 0
      if n % 2 == 0 { entry[2 * (bins - 1) + 1] = 0 }
    }
  }

  /// One batched FFTW transform of `count` contiguous rows.
  @inline(__always)
  static func transform<Scalar: TensorScalar>(
    _ kind: FFTKind, n: Int, count: Int, input: UnsafeMutablePointer<Scalar>, output: UnsafeMutablePointer<Scalar>
  ) {
    let aligned = Scalar._fftwAlignment(of: input) == 0 && Scalar._fftwAlignment(of: output) == 0
    let plan = FFTPlanCache.shared.plan(kind: kind, length: n, count: count, input: input, output: output, aligned: aligned)
    plan.execute(input: input, output: output)
  }

  /// Bytes of real data a tile of rows should hold: small enough that the
  /// tile's real and complex buffers stay in the per-core L2 cache while it
  /// passes through every stage.
  static let tileBytes = 1 << 17

  /// Calls `body` on tiles of rows, split across cores: each tile starts
  /// at a 64-byte-aligned row of both the real and the complex buffers and
  /// holds about ``tileBytes`` of real data, so every stage of the pipeline
  /// finds it in cache.
  @inline(__always)
  static func forEachRowBlock<Scalar>(rows: Int, n: Int, _: Scalar.Type, _ body: (Range<Int>) -> Void) {
    let unit = FFTDriver.lcm(
      FFTDriver.alignedRowBlock(rowScalars: n, Scalar.self),
      FFTDriver.alignedRowBlock(rowScalars: 2 * (n / 2 + 1), Scalar.self))
    let tileUnits = Swift.max(1, tileBytes / (unit * n * MemoryLayout<Scalar>.stride))
    let tiles = (rows + unit * tileUnits - 1) / (unit * tileUnits)
    let tileRows = unit * tileUnits
    Parallel.forEachRange(count: tiles, grain: Swift.max(1, FFTDriver.grain / (tileRows * n))) { range in
      for tile in range {
        body((tile * tileRows)..<Swift.min(rows, (tile + 1) * tileRows))
      }
    }
  }
}
