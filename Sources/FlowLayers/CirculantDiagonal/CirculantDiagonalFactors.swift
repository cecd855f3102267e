import FlowTensor

/// How the factors of a circulant-diagonal matrix start.
public enum CirculantDiagonalInitialization: String, Codable, Sendable, CaseIterable {
  /// W = I: every log-magnitude and phase 0, every sign +1. Draws nothing
  /// from the generator.
  case identity
  /// A random orthogonal W: every diagonal entry a random ±1, every
  /// circulant spectrum bin of modulus 1 with a uniform random phase in
  /// [−π, π) (its DC bin and, for even n, its Nyquist bin a random ±1).
  /// Each factor is then orthogonal, so |det W| = 1 and log|det W| = 0.
  case random
}

/// The factors of CDFlow's circulant-diagonal matrix (Feng & Liao,
/// "CDFlow", NeurIPS 2025, Eq. 10):
/// W = D₁·C₁·D₂·C₂·…·C_{m−1}·D_m, with m diagonal factors D_j = diag(d_j)
/// and m − 1 circulant factors C_j = circ(c_j), all `[n, n]` and real.
/// W acts right to left: D_m first.
///
/// Each circulant is held through its spectrum ĉ = F·c (CDFlow, Eq. 11),
/// since circ(c) = F⁻¹·diag(ĉ)·F: C·x = irfft(ĉ ⊙ rfft(x)) costs
/// O(n log n). Only the half spectrum of a real FFT is stored (bins
/// 0…n/2); the other bins are the complex conjugates of these, so C is real
/// for every parameter value. The paper does not say how it keeps C real;
/// this layout is one way that needs no constraint.
///
/// **Never singular.** Every factor's eigenvalues have modulus exp(·) > 0:
/// a diagonal entry is sign·exp(logMagnitude) with a fixed sign ±1, and a
/// spectrum bin, which is an eigenvalue of its circulant, is
/// exp(logMagnitude)·(cos φ, sin φ), the DC bin and, for even n, the
/// Nyquist bin being real: sign·exp(logMagnitude) with a fixed sign. No
/// parameter value, noise or optimizer step included, reaches a zero
/// eigenvalue (short of exp underflowing, at logMagnitude ≈ −745 in
/// Double, −103 in Float). A circulant has exactly n real parameters, as
/// its real first column c has: n/2 + 1 log-magnitudes and ⌈n/2⌉ − 1 phases.
///
/// **Log-determinant** (CDFlow, §3.1): det W is the product of all the
/// factors' eigenvalues, so log|det W| = Σ_j Σ_i logMagnitude(D_j)ᵢ +
/// Σ_j Σ_k log|ĉ_{j,k}| over all n bins k; a stored bin with a distinct
/// conjugate partner (k ≠ 0 and, for even n, k ≠ n/2) counts twice. It is
/// a weighted sum of the log-magnitudes, O(mn), and touches neither the
/// input nor any FFT, so its gradient is analytic.
///
/// Parameters (visited as `diagonals.j.logMagnitude`,
/// `circulants.j.logMagnitude` and `circulants.j.phase`): the
/// log-magnitudes and phases. The signs are fixed at initialisation and
/// are not parameters, so a checkpoint does not hold them: rebuild the
/// factors as they were made (the same seed) or with
/// ``init(diagonals:circulants:)`` before loading one.
public struct CirculantDiagonalFactors<Scalar: TensorScalar>: Layer {
  /// D₁…D_m, left to right in the product.
  public var diagonals: [Diagonal]
  /// C₁…C_{m−1}, left to right in the product: C_j sits between D_j and D_{j+1}.
  public var circulants: [Circulant]

  /// One diagonal factor, diag(sign·exp(logMagnitude)).
  public struct Diagonal: Layer {
    /// The fixed sign of each entry, `[n]`, each ±1.
    public let sign: Tensor<Scalar>
    /// log|d|, `[n]`.
    public var logMagnitude: Tensor<Scalar>

    /// The factor diag(sign·exp(logMagnitude)).
    /// - Parameters:
    ///   - sign: `[n]`, each entry −1 or +1.
    ///   - logMagnitude: `[n]`.
    public init(sign: Tensor<Scalar>, logMagnitude: Tensor<Scalar>) {
      precondition(
        sign.rank == 1 && logMagnitude.shape == sign.shape,
        "CirculantDiagonalFactors.Diagonal(sign:logMagnitude:): sign \(sign.shape) and logMagnitude "
          + "\(logMagnitude.shape) are not both [n]")
      checkSigns(sign, operation: "CirculantDiagonalFactors.Diagonal(sign:logMagnitude:)")
      self.sign = sign
      self.logMagnitude = logMagnitude
    }

    /// n.
    public var size: Int { sign.shape[0] }

    /// The diagonal d = sign·exp(logMagnitude), `[n]`; differentiable.
    public var entries: Tensor<Scalar> { sign * exp(logMagnitude) }

    /// The inverse's diagonal 1/d = sign·exp(−logMagnitude), `[n]`; differentiable.
    var inverseEntries: Tensor<Scalar> { sign * exp(-logMagnitude) }

    public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
      visitor.visit("logMagnitude", &logMagnitude)
    }
  }

  /// One circulant factor circ(c), held through the half spectrum ĉ = rfft(c).
  ///
  /// Bin k (k = 0…n/2) is sign_k·exp(logMagnitude_k)·(cos φ_k, sin φ_k),
  /// where φ_0 = 0 and, for even n, φ_{n/2} = 0 (those bins of a real
  /// sequence's spectrum are real), and φ_1…φ_{⌈n/2⌉−1} are `phase`.
  public struct Circulant: Layer {
    /// n, the order of the matrix (n = 2b − 2 and n = 2b − 1 both have b
    /// stored bins, so the bins do not imply it).
    public let length: Int
    /// The fixed sign of each stored bin, `[n/2 + 1]`, each ±1; the only
    /// way the real DC and Nyquist bins can be negative. On the other
    /// bins −1 is a phase offset of π (the initialisations set them to +1).
    public let sign: Tensor<Scalar>
    /// log|ĉ_k| of the stored bins k = 0…n/2, `[n/2 + 1]`.
    public var logMagnitude: Tensor<Scalar>
    /// The phases of bins 1…⌈n/2⌉ − 1, `[(n − 1)/2]`: the bins with a
    /// distinct conjugate partner.
    public var phase: Tensor<Scalar>

    /// The factor circ(c) with the given half spectrum.
    /// - Parameters:
    ///   - length: n ≥ 1.
    ///   - sign: `[n/2 + 1]`, each entry −1 or +1.
    ///   - logMagnitude: `[n/2 + 1]`.
    ///   - phase: `[(n − 1)/2]` (integer division: empty for n ≤ 2).
    public init(length: Int, sign: Tensor<Scalar>, logMagnitude: Tensor<Scalar>, phase: Tensor<Scalar>) {
      let operation = "CirculantDiagonalFactors.Circulant(length:sign:logMagnitude:phase:)"
      precondition(length >= 1, "\(operation): length \(length) is not at least 1")
      let bins = length / 2 + 1
      precondition(
        sign.shape == [bins] && logMagnitude.shape == [bins] && phase.shape == [(length - 1) / 2],
        "\(operation): sign \(sign.shape), logMagnitude \(logMagnitude.shape) and phase \(phase.shape) "
          + "are not [\(bins)], [\(bins)] and [\((length - 1) / 2)] for length \(length)")
      checkSigns(sign, operation: operation)
      self.length = length
      self.sign = sign
      self.logMagnitude = logMagnitude
      self.phase = phase
      // Built once: this module's generic code is not specialised, so a
      // per-call loop over the bins cost more than the rest of the log-det.
      binMultiplicity = Tensor(shape: [bins], scalars: (0..<bins).map { k in k == 0 || 2 * k == length ? 1 : 2 })
    }

    /// The number of stored bins, n/2 + 1.
    public var binCount: Int { length / 2 + 1 }

    /// The phase of every stored bin, `[n/2 + 1]`: 0 at the DC bin and,
    /// for even n, at the Nyquist bin; differentiable.
    var phaseOfEveryBin: Tensor<Scalar> {
      phase.padded(with: [(before: 1, after: length % 2 == 0 ? 1 : 0)])
    }

    /// The stored half spectrum ĉ = rfft(c), `[n/2 + 1, 2]` (real, imaginary);
    /// differentiable.
    public var spectrum: Tensor<Scalar> {
      let parts = spectrumParts(inverted: false)
      return Tensor(concatenating: [parts.real, parts.imaginary], alongAxis: 1)
    }

    /// The real and imaginary parts of the stored bins, each `[n/2 + 1, 1]`
    /// (shaped to broadcast against bins `[rows, n/2 + 1, 2]`): of ĉ, or
    /// with `inverted` of 1/ĉ = conj(ĉ)/|ĉ|² = sign·exp(−logMagnitude)·(cos φ, −sin φ).
    func spectrumParts(inverted: Bool) -> (real: Tensor<Scalar>, imaginary: Tensor<Scalar>) {
      let magnitude = sign * exp(inverted ? -logMagnitude : logMagnitude)
      let angle = phaseOfEveryBin
      let imaginary = magnitude * sin(angle)
      return (
        (magnitude * cos(angle)).reshaped(to: [binCount, 1]),
        (inverted ? -imaginary : imaginary).reshaped(to: [binCount, 1])
      )
    }

    /// How often each stored bin's log-magnitude enters log|det C|,
    /// `[n/2 + 1]`: 1 for the DC bin and, for even n, the Nyquist bin; 2
    /// for the others, which stand for themselves and their conjugates.
    let binMultiplicity: Tensor<Scalar>

    /// log|det C| = Σ_k log|ĉ_k| over all n bins, rank 0; differentiable.
    /// - Complexity: O(n).
    public func logAbsoluteDeterminant() -> Tensor<Scalar> {
      (logMagnitude * binMultiplicity).sum()
    }

    public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
      visitor.visit("logMagnitude", &logMagnitude)
      visitor.visit("phase", &phase)
    }
  }

  /// The product of the given factors.
  /// - Parameters:
  ///   - diagonals: m ≥ 1 factors, all of the same size n.
  ///   - circulants: m − 1 factors, all of length n.
  public init(diagonals: [Diagonal], circulants: [Circulant]) {
    let operation = "CirculantDiagonalFactors(diagonals:circulants:)"
    precondition(!diagonals.isEmpty, "\(operation): needs at least one diagonal factor")
    precondition(
      circulants.count == diagonals.count - 1,
      "\(operation): \(diagonals.count) diagonal factors need \(diagonals.count - 1) circulant factors, "
        + "got \(circulants.count)")
    let n = diagonals[0].size
    precondition(
      diagonals.allSatisfy { $0.size == n } && circulants.allSatisfy { $0.length == n },
      "\(operation): the diagonal sizes \(diagonals.map(\.size)) and circulant lengths "
        + "\(circulants.map(\.length)) are not all equal")
    self.diagonals = diagonals
    self.circulants = circulants
  }

  /// m diagonal and m − 1 circulant factors of order n, initialised as `initialization` says.
  /// - Parameters:
  ///   - size: n ≥ 1.
  ///   - diagonalCount: m ≥ 1 (CDFlow uses m = 2 in all its experiments).
  ///   - initialization: ``CirculantDiagonalInitialization/identity`` or
  ///     ``CirculantDiagonalInitialization/random``.
  ///   - generator: the source of the random signs and phases.
  /// - Complexity: O(mn).
  public init(
    size: Int, diagonalCount: Int = 2, initialization: CirculantDiagonalInitialization = .random,
    using generator: inout SeededGenerator
  ) {
    precondition(size >= 1, "CirculantDiagonalFactors(size:diagonalCount:): size \(size) is not at least 1")
    precondition(
      diagonalCount >= 1,
      "CirculantDiagonalFactors(size:diagonalCount:): diagonalCount \(diagonalCount) is not at least 1")
    let bins = size / 2 + 1
    let phases = (size - 1) / 2
    func signs(_ count: Int) -> Tensor<Scalar> {
      initialization == .random
        ? Tensor.randomRademacher(shape: [count], using: &generator) : Tensor.ones(shape: [count])
    }
    var diagonals: [Diagonal] = []
    var circulants: [Circulant] = []
    for index in 0..<diagonalCount {
      diagonals.append(Diagonal(sign: signs(size), logMagnitude: .zeros(shape: [size])))
      guard index < diagonalCount - 1 else { break }
      // Only the real bins (DC, Nyquist) take a random sign; the phases
      // of the others already cover the circle.
      var binSigns = [Scalar](repeating: 1, count: bins)
      let realBins = size % 2 == 0 && size > 1 ? [0, bins - 1] : [0]
      let realSigns = signs(realBins.count).scalars
      for (bin, value) in zip(realBins, realSigns) { binSigns[bin] = value }
      let phase: Tensor<Scalar> =
        initialization == .random
        ? .randomUniform(shape: [phases], in: -Scalar.pi..<Scalar.pi, using: &generator) : .zeros(shape: [phases])
      circulants.append(
        Circulant(
          length: size, sign: Tensor(shape: [bins], scalars: binSigns), logMagnitude: .zeros(shape: [bins]),
          phase: phase))
    }
    self.init(diagonals: diagonals, circulants: circulants)
  }

  /// n, the order of W.
  public var size: Int { diagonals[0].size }

  /// m, the number of diagonal factors (one more than the circulant ones).
  public var diagonalCount: Int { diagonals.count }

  /// log|det W| (CDFlow, §3.1), rank 0: the weighted sum of the
  /// log-magnitudes described on the type; differentiable, analytically.
  /// - Complexity: O(mn); no FFT.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func logAbsoluteDeterminant() -> Tensor<Scalar> {
    // The whole log-det is a few hundred scalars, so overhead is most of
    // its cost: with no derivative in play, add them up as plain numbers;
    // otherwise one op over every log-magnitude.
    let differentiated =
      diagonals.contains { $0.logMagnitude.requiresGradient || $0.logMagnitude.tangent != nil }
      || circulants.contains { $0.logMagnitude.requiresGradient || $0.logMagnitude.tangent != nil }
    if !differentiated {
      var total: Scalar = 0
      for diagonal in diagonals { total += detachedWeightedSum(diagonal.logMagnitude, weights: nil) }
      for circulant in circulants {
        total += detachedWeightedSum(circulant.logMagnitude, weights: circulant.binMultiplicity)
      }
      return Tensor(total)
    }
    var tensors: [Tensor<Scalar>] = []
    var weights: [Tensor<Scalar>?] = []
    tensors.reserveCapacity(diagonals.count + circulants.count)
    weights.reserveCapacity(diagonals.count + circulants.count)
    for diagonal in diagonals {
      tensors.append(diagonal.logMagnitude)
      weights.append(nil)
    }
    for circulant in circulants {
      tensors.append(circulant.logMagnitude)
      weights.append(circulant.binMultiplicity)
    }
    return weightedSum(tensors, weights: weights)
  }

  /// An upper bound on the spectral norm ‖W‖₂ (its largest singular
  /// value), rank 0: Π_j max|d_j| · Π_j max_k |ĉ_{j,k}|, by
  /// submultiplicativity, since a diagonal's norm is its largest |entry|
  /// and a circulant, being normal (unitarily diagonalised by the DFT), has
  /// its largest |eigenvalue| as its norm. It is exact for m = 1 (W is
  /// diagonal) and at the identity, and may be loose otherwise; it is
  /// cheap enough to rescale by, in the spirit of the spectral
  /// normalisation CDFlow trains with (§4.1). Differentiable (through the
  /// maxima, whose gradient goes to the largest entries).
  /// - Complexity: O(mn); no FFT.
  public func spectralNormBound() -> Tensor<Scalar> {
    exp(logSpectralNormBound())
  }

  /// The logarithm of ``spectralNormBound()``, rank 0: the sum of every
  /// factor's largest log-magnitude. Differentiable as the bound is.
  /// - Complexity: O(mn); no FFT.
  public func logSpectralNormBound() -> Tensor<Scalar> {
    var exponent = diagonals[0].logMagnitude.max()
    for diagonal in diagonals.dropFirst() { exponent = exponent + diagonal.logMagnitude.max() }
    for circulant in circulants { exponent = exponent + circulant.logMagnitude.max() }
    return exponent
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {
    visitor.visit("diagonals", &diagonals)
    visitor.visit("circulants", &circulants)
  }
}

/// Checks that every entry of `sign` is −1 or +1.
private func checkSigns<Scalar: TensorScalar>(_ sign: Tensor<Scalar>, operation: String) {
  precondition(
    sign.scalars.allSatisfy { $0 == 1 || $0 == -1 }, "\(operation): sign \(sign.scalars) has entries other than ±1")
}
