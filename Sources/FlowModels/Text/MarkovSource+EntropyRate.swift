import FlowTensor

extension MarkovSource {
  /// The largest number of states whose stationary distribution is found
  /// by a direct solve; larger chains use power iteration.
  public static let directSolveStateLimit = 1024

  /// The stationary distribution over states, π = πT (T the state-to-state
  /// matrix): by an LU solve (LAPACK) up to ``directSolveStateLimit``
  /// states, by power iteration beyond.
  /// - Returns: `stateCount` probabilities summing to 1.
  /// - Complexity: O(A^(3k)) for the solve; see
  ///   ``stationaryDistributionByPowerIteration(tolerance:maximumIterations:)``.
  public func stationaryDistribution() -> [Double] {
    let states = stateCount
    guard states > 1 && states <= Self.directSolveStateLimit else {
      return stationaryDistributionByPowerIteration()
    }
    // (Tᵀ − I) π = 0 has rank states − 1 for an irreducible chain; the last
    // equation, implied by the others, gives way to Σ π = 1.
    var system = [Double](repeating: 0, count: states * states)
    for state in 0..<states {
      system[state * states + state] = -1
      for symbol in 0..<alphabetSize {
        let following = self.state(after: state, emitting: symbol)
        system[following * states + state] += transitions[state * alphabetSize + symbol]
      }
    }
    for column in 0..<states { system[(states - 1) * states + column] = 1 }
    var rightHandSide = [Double](repeating: 0, count: states)
    rightHandSide[states - 1] = 1
    guard let solution = try? withoutRecording({
      try solve(Tensor(shape: [states, states], scalars: system), Tensor(shape: [states, 1], scalars: rightHandSide))
    }) else {
      // Unreachable for positive transitions; the iteration needs no solve.
      return stationaryDistributionByPowerIteration()
    }
    return solution.scalars
  }

  /// The stationary distribution over states, π = πT, by power iteration.
  ///
  /// Every transition probability is positive, so after k steps every state
  /// reaches every other and the iteration converges geometrically from the
  /// uniform start (Perron–Frobenius).
  /// - Parameters:
  ///   - tolerance: stop when an iteration moves π by at most this in the
  ///     L1 norm, or once the moves stop shrinking below 1e-10 (rounding
  ///     then dominates them, which happens first for many states).
  ///   - maximumIterations: the cap; precondition that it converges within.
  /// - Returns: `stateCount` probabilities summing to 1.
  /// - Complexity: O(A^(k+1)) per iteration.
  public func stationaryDistributionByPowerIteration(
    tolerance: Double = 1e-14, maximumIterations: Int = 1_000_000
  ) -> [Double] {
    let states = stateCount
    var current = [Double](repeating: 1 / Double(states), count: states)
    var next = [Double](repeating: 0, count: states)
    var previousChange = Double.infinity
    for _ in 0..<maximumIterations {
      for index in next.indices { next[index] = 0 }
      transitions.withUnsafeBufferPointer { table in
        for state in 0..<states {
          let mass = current[state]
          let base = order == 0 ? 0 : (state * alphabetSize) % states
          for symbol in 0..<alphabetSize {
            next[order == 0 ? 0 : base + symbol] += mass * table[state * alphabetSize + symbol]
          }
        }
      }
      let total = Self.compensatedSum(next)
      var change = 0.0
      for index in next.indices {
        next[index] /= total
        change += abs(next[index] - current[index])
      }
      swap(&current, &next)
      if change <= tolerance || (change <= 1e-10 && change >= previousChange) { return current }
      previousChange = change
    }
    preconditionFailure("MarkovSource.stationaryDistribution: no convergence to \(tolerance) in \(maximumIterations) iterations")
  }

  /// The entropy rate in bits per character,
  /// H = −Σ_s π_s Σ_t P(t | s) log₂ P(t | s) (Cover & Thomas, *Elements of
  /// Information Theory*, Theorem 4.2.4): the lowest expected log-loss any
  /// model of the source can reach.
  /// - Complexity: that of ``stationaryDistribution()``.
  public var entropyRate: Double {
    let stationary = stationaryDistribution()
    return Self.compensatedSum((0..<stateCount).lazy.map { state -> Double in
      var conditional = 0.0
      for symbol in 0..<alphabetSize {
        let probability = self.transitions[state * self.alphabetSize + symbol]
        conditional -= probability * Double.log2(probability)
      }
      return stationary[state] * conditional
    })
  }

  /// Σ values with Kahan's compensation, so sums over tens of thousands of
  /// states keep the exact rate to a few ulps rather than n of them.
  static func compensatedSum<Values: Sequence>(_ values: Values) -> Double where Values.Element == Double {
    var total = 0.0
    var compensation = 0.0
    for value in values {
      let corrected = value - compensation
      let next = total + corrected
      compensation = (next - total) - corrected
      total = next
    }
    return total
  }

  /// The mean log-loss of `symbols` under the chain, in bits per character:
  /// −(1 / (n − k)) Σ_{t ≥ k} log₂ P(x_t | x_{t−k..t−1}), over every symbol
  /// that has a full context.
  /// - Parameters:
  ///   - symbols: each in `0..<alphabetSize`. Precondition: more than
  ///     `order` of them.
  public func logLoss(of symbols: [UInt8]) -> Double {
    precondition(symbols.count > order,
      "MarkovSource.logLoss: \(symbols.count) symbols leave none with a context of \(order)")
    var state = self.state(before: order, in: symbols)
    var total = 0.0
    for position in order..<symbols.count {
      let symbol = Int(symbols[position])
      total -= Double.log2(transitions[state * alphabetSize + symbol])
      state = self.state(after: state, emitting: symbol)
    }
    return total / Double(symbols.count - order)
  }
}
