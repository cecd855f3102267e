import ArgumentParser
import Foundation
import NormalizingFlows

extension Eval {
  /// `flows eval` of a `flows train tarflowlm` or `flows train charlm`
  /// checkpoint: the held-out windows the run used, evaluated as its
  /// ``Trainer`` did (same seed and batches), so the figure repeats the
  /// run's `test_bpc`. For TarFlowLM, `--importance-samples S` adds the
  /// importance-weighted bound over S encoder draws per window (tighter
  /// than the ELBO, still an upper bound on the model's bits per character),
  /// and `--flow-gains` what each flow adds (``TarFlowLM/flowGains(_:)``).
  /// - Throws: `TrainingError`, `CharacterCorpusError`.
  func evaluateText(_ stored: TrainingCheckpoint) throws {
    let source = TextCorpusSource(dataset ?? stored.metadata["corpus"] ?? "shakespeare")
    if let problem = source.problem { throw reportFailure(command: "flows eval", message: problem) }
    let split = try resolvedHeldOut()
    let corpus = try source.load()
    var configuration = stored.configuration
    if let seed { configuration.seed = seed }
    let clock = ContinuousClock()
    let start = clock.now
    let bound: Double
    var weighted: Double?
    var gains: [Double]?
    let windows: CharacterWindows
    switch stored.modelName {
    case TarFlowLM<Float>.modelName:
      let model = try stored.model(TarFlowLM<Float>.self)
      windows = CharacterWindows(symbols: corpus[split], length: model.length).firstWindows(count)
      bound = model.evaluate(on: windows, following: configuration)
      if let importanceSamples {
        // Its own stream, so adding the option leaves the ELBO figure unchanged.
        var generator = SeededGenerator(seed: configuration.evaluationSeed &+ UInt64(importanceSamples))
        weighted = model.evaluateImportanceWeighted(
          on: windows, samples: importanceSamples,
          batchSize: Swift.max(1, configuration.evaluationBatchSize / importanceSamples), using: &generator)
      }
      if flowGains {
        var generator = SeededGenerator(seed: configuration.evaluationSeed ^ 0xF10E_6A1E)
        gains = model.evaluateFlowGains(on: windows, batchSize: configuration.evaluationBatchSize, using: &generator)
      }
    default:
      if importanceSamples != nil {
        throw reportFailure(
          command: "flows eval", message: "--importance-samples: \(stored.modelName) has an exact likelihood, no bound")
      }
      let model = try stored.model(CharacterLanguageModel<Float>.self)
      windows = CharacterWindows(symbols: corpus[split], length: model.length).firstWindows(count)
      bound = model.evaluate(on: windows, following: configuration)
    }
    let seconds = (clock.now - start).seconds
    let entropyRate = source.markovSource.map(\.entropyRate)
    if json {
      var fields: [(key: String, value: JSONValue)] = [
        ("model", .string(stored.modelName)),
        ("checkpoint", .string(checkpoint)),
        ("corpus", .string(source.specification)),
        ("steps", .number(Double(stored.state.step))),
        ("seconds", .number(seconds)),
        ("train_bpc", stored.state.recentMeanLoss.map(JSONValue.number) ?? .null),
        ("\(split.rawValue)_bpc", .number(bound)),
        ("\(split.rawValue)_count", .number(Double(windows.count))),
      ]
      if let weighted, let importanceSamples {
        fields.append(("\(split.rawValue)_iw_bpc", .number(weighted)))
        fields.append(("importance_samples", .number(Double(importanceSamples))))
      }
      if let gains { fields.append(("\(split.rawValue)_flow_gains_bpc", .array(gains.map(JSONValue.number)))) }
      if let entropyRate { fields.append(("entropy_rate_bpc", .number(entropyRate))) }
      print(JSONValue.object(fields))
    } else {
      var text = "\(checkpoint): \(stored.modelName) after \(stored.state.step) steps: \(split.rawValue) "
        + String(format: "%.4f", bound) + " bits/char"
      if stored.modelName == TarFlowLM<Float>.modelName { text += " (−ELBO)" }
      if let weighted, let importanceSamples {
        text += ", " + String(format: "%.4f", weighted) + " (importance-weighted, \(importanceSamples) samples)"
      }
      if let gains {
        text += "; the flows, data side first, lower it by "
          + gains.map { String(format: "%.4f", $0) }.joined(separator: ", ") + " bits/char"
      }
      text += " on \(windows.count) windows of \(source.specification)"
      if let entropyRate { text += "; entropy rate " + String(format: "%.4f", entropyRate) }
      print(text)
    }
  }

  /// `--held-out`'s split: test unless given.
  private func resolvedHeldOut() throws -> CharacterCorpus.Split {
    guard let heldOut else { return .test }
    guard let split = CharacterCorpus.Split(rawValue: heldOut.lowercased()) else {
      throw reportFailure(command: "flows eval", message: "--held-out \(heldOut): expected test, validation or train")
    }
    return split
  }
}

extension CharacterWindows {
  /// The first `count` windows, or all when `nil`.
  fileprivate func firstWindows(_ count: Int?) -> CharacterWindows { count.map { prefix($0) } ?? self }
}
