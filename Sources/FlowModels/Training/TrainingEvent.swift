import Foundation

/// What a ``Trainer`` reports as it runs, to a progress display, a log or a test.
public enum TrainingEvent: Equatable, Sendable {
  /// The run begins at `step` (0, or the step of the resumed checkpoint).
  case started(step: Int, parameterCount: Int, resumed: Bool)
  /// An update step finished.
  case stepped(TrainingStepRecord)
  /// An evaluation on `count` held-out items gave `value` after `step` steps;
  /// `isFinal` for the one at the end of the run.
  case evaluated(step: Int, value: Double, count: Int, isFinal: Bool)
  /// A checkpoint of `step` was written to `path`.
  case checkpointed(step: Int, path: String)
}

/// One update step as it happened.
public struct TrainingStepRecord: Equatable, Sendable {
  /// The step's number, from 1, over all runs.
  public var step: Int
  /// The loss on the step's batch, before the update.
  public var loss: Double
  /// The global gradient norm before clipping.
  public var gradientNorm: Double
  /// The learning rate of the update.
  public var learningRate: Double
  /// The mean loss of the last steps (at most ``TrainingState/recentWindow``).
  public var recentMeanLoss: Double
  /// Seconds since this run started.
  public var runSeconds: Double
  /// Steps taken in this run.
  public var runSteps: Int

  public init(
    step: Int, loss: Double, gradientNorm: Double, learningRate: Double, recentMeanLoss: Double,
    runSeconds: Double, runSteps: Int
  ) {
    self.step = step
    self.loss = loss
    self.gradientNorm = gradientNorm
    self.learningRate = learningRate
    self.recentMeanLoss = recentMeanLoss
    self.runSeconds = runSeconds
    self.runSteps = runSteps
  }
}

/// The figures of a finished run.
public struct TrainingSummary: Equatable, Sendable {
  /// ``TrainableModel/modelName``.
  public var model: String
  /// ``TrainableModel/metricName`` and ``TrainableModel/metricKey``.
  public var metricName: String
  public var metricKey: String
  /// Steps taken in total (over all runs) and in this run.
  public var steps: Int
  public var runSteps: Int
  /// Seconds of training in total (over all runs) and in this run.
  public var seconds: Double
  public var runSeconds: Double
  /// The mean training loss of the last steps (at most ``TrainingState/recentWindow``).
  public var trainMetric: Double
  /// The evaluation at the end, and on how many held-out items; `nil` without a held-out set.
  public var testMetric: Double?
  public var testCount: Int?
  /// The held-out split's name (``Trainer/heldOutName``): the JSON keys
  /// `<name>_<key>` and `<name>_count`.
  public var heldOutName: String
  /// The checkpoint written at the end, if any.
  public var checkpoint: String?
  /// The model's parameter count.
  public var parameterCount: Int

  public init(
    model: String, metricName: String, metricKey: String, steps: Int, runSteps: Int, seconds: Double,
    runSeconds: Double, trainMetric: Double, testMetric: Double?, testCount: Int?, checkpoint: String?,
    parameterCount: Int, heldOutName: String = CurveRecord.evaluation
  ) {
    self.model = model
    self.metricName = metricName
    self.metricKey = metricKey
    self.steps = steps
    self.runSteps = runSteps
    self.seconds = seconds
    self.runSeconds = runSeconds
    self.trainMetric = trainMetric
    self.testMetric = testMetric
    self.testCount = testCount
    self.checkpoint = checkpoint
    self.parameterCount = parameterCount
    self.heldOutName = heldOutName
  }

  /// The flat JSON fields of `flows train --json` (DESIGN.md, "Machine-readable
  /// output"): `model`, `steps`, `seconds`, `train_<key>`, `test_<key>` (or the split's name),
  /// `checkpoint`, and a few more. Non-finite numbers become `null`.
  public var jsonFields: [(key: String, value: JSONValue)] {
    [
      ("model", .string(model)),
      ("steps", .number(Double(steps))),
      ("run_steps", .number(Double(runSteps))),
      ("seconds", .number(seconds)),
      ("run_seconds", .number(runSeconds)),
      ("train_\(metricKey)", .number(trainMetric)),
      ("\(heldOutName)_\(metricKey)", testMetric.map(JSONValue.number) ?? .null),
      ("\(heldOutName)_count", testCount.map { .number(Double($0)) } ?? .null),
      ("parameters", .number(Double(parameterCount))),
      ("checkpoint", checkpoint.map(JSONValue.string) ?? .null),
    ]
  }
}
