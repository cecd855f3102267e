/// The invertible map a ``TransformerAutoregressiveFlow`` applies at each
/// position, with parameters predicted from the positions before it
/// (TarFlowLM, arXiv 2507.00425, §3.2).
public enum AutoregressiveTransform: Equatable, Sendable {
  /// z = (x − μ)·exp(−α), log-det = −Σα (TarFlow).
  case affine
  /// Mix-1: each feature through a `components`-Gaussian mixture CDF, then
  /// Φ⁻¹; the features of one position are made autoregressive by a
  /// ``MaskedAutoregressiveHead`` of `hiddenSize` units, which also
  /// receives the transformer's output.
  case mixtureCDF(components: Int, hiddenSize: Int)
  /// Mix-d: each token's channels through a Mixture-Rosenblatt flow over a
  /// shared ``RosenblattMixture`` of `components` Gaussians (a codebook),
  /// whose weights the transformer predicts per token and Bayes' rule
  /// updates channel by channel.
  case mixtureRosenblatt(components: Int)
}

/// The order in which a ``TransformerAutoregressiveFlow`` reads positions:
/// stacks alternate the two so that every position sees both sides.
public enum SequenceOrder: Equatable, Sendable {
  /// Position i is conditioned on positions 0 ..< i.
  case identity
  /// Position i is conditioned on the positions after it.
  case reversed
}

/// What a ``TransformerAutoregressiveFlow``'s transformer reads at each
/// position.
public enum ConditionerInput: Equatable, Sendable {
  /// The block's input features themselves (TarFlow, TarFlowLM).
  case features
  /// Each token's posterior over a codebook of `components` Gaussians
  /// (``CodebookPosterior``), for a block whose input is codebook latents:
  /// `patchSize·components` features per position instead of `patchSize·channels`.
  case codebookPosterior(components: Int)
}
