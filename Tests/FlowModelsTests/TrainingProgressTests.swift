import FlowModels
import Foundation
import XCTest

final class TrainingProgressTests: XCTestCase {
  func testStepTargetLines() {
    let progress = TrainingProgress(
      step: 120, targetSteps: 1000, runSeconds: 40, runSteps: 100, loss: 4.12345, evaluation: 4.2,
      metricName: "bits/dim")
    // 100 steps in 40 s: 2.5 steps/s; 880 steps left: 352 s.
    XCTAssertEqual(progress.stepsPerSecond, 2.5)
    XCTAssertEqual(progress.remainingSeconds, 352)
    XCTAssertEqual(
      progress.logLine, "step 120/1000 (12%)  loss 4.1235 bits/dim  test 4.2000  2.50 steps/s  ETA 5m52s")
    XCTAssertEqual(
      progress.terminalLine(barWidth: 10),
      "step 120/1000 ▕█▏        ▏ 12% loss 4.1235 bits/dim test 4.2000 2.50 steps/s ETA 5m52s")
  }

  func testTimeBudgetLinesAndTheFirstStep() {
    let budget = TrainingProgress(
      step: 3012, timeBudget: 300, runSeconds: 225, runSteps: 3000, loss: 3.9, metricName: "bits/dim")
    XCTAssertEqual(budget.fraction, 0.75)
    XCTAssertEqual(budget.logLine, "step 3012 (75%)  loss 3.9000 bits/dim  13.3 steps/s  ETA 1m15s")
    let start = TrainingProgress(step: 0, targetSteps: 10, runSeconds: 0, runSteps: 0, metricName: "nats")
    XCTAssertNil(start.stepsPerSecond)
    XCTAssertNil(start.remainingSeconds)
    XCTAssertEqual(start.logLine, "step 0/10 (0%)")
    let diverging = TrainingProgress(
      step: 5, runSeconds: 0.5, runSteps: 5, loss: .nan, evaluation: .infinity, metricName: "nats")
    XCTAssertEqual(diverging.logLine, "step 5  loss nan nats  test inf  10.0 steps/s")
  }

  func testDurationsAndBars() {
    XCTAssertEqual(TrainingProgress.duration(0), "0s")
    XCTAssertEqual(TrainingProgress.duration(36.2), "37s")
    XCTAssertEqual(TrainingProgress.duration(60), "1m00s")
    XCTAssertEqual(TrainingProgress.duration(3599), "59m59s")
    XCTAssertEqual(TrainingProgress.duration(3600), "1h00m")
    XCTAssertEqual(TrainingProgress.duration(3725), "1h03m")
    XCTAssertEqual(TrainingProgress.duration(.infinity), "?")
    XCTAssertEqual(TrainingProgress.bar(fraction: 0, width: 4), "    ")
    XCTAssertEqual(TrainingProgress.bar(fraction: 0.5, width: 4), "██  ")
    XCTAssertEqual(TrainingProgress.bar(fraction: 0.5 + 3.0 / 32, width: 4), "██▍ ")
    XCTAssertEqual(TrainingProgress.bar(fraction: 1, width: 4), "████")
    XCTAssertEqual(TrainingProgress.bar(fraction: 7, width: 4), "████")
    for fraction in stride(from: 0.0, through: 1, by: 0.01) {
      XCTAssertEqual(TrainingProgress.bar(fraction: fraction, width: 13).count, 13, "fraction \(fraction)")
    }
  }

  func testDisplayWritesLogLinesOrRedrawsInPlace() {
    var text = ""
    let configuration = TrainingConfiguration(logInterval: 5, stop: .steps(100))
    let log = ProgressDisplay(configuration: configuration, metricName: "bits/dim", isTerminal: false) { text += $0 }
    log.handle(.started(step: 0, parameterCount: 10, resumed: false))
    for step in 1...4 {
      log.handle(.stepped(TrainingStepRecord(
        step: step, loss: 5, gradientNorm: 1, learningRate: 1e-3, recentMeanLoss: 5, runSeconds: Double(step) * 2,
        runSteps: step)))
    }
    log.handle(.evaluated(step: 4, value: 4.5, count: 100, isFinal: false))
    // Lines at the first step and when 5 s have passed since the last (step 4, 8 s).
    XCTAssertEqual(text, """
      training from step 0, 10 parameters, until step 100
      step 1/100 (1%)  loss 5.0000 bits/dim  0.500 steps/s  ETA 3m18s
      step 4/100 (4%)  loss 5.0000 bits/dim  0.500 steps/s  ETA 3m12s
      step 4: test 4.5000 bits/dim on 100 items

      """)

    text = ""
    let tuning = ProgressDisplay(
      configuration: configuration, metricName: "bits/char", heldOutName: "validation", isTerminal: false
    ) { text += $0 }
    tuning.handle(.evaluated(step: 4, value: 2.5, count: 10, isFinal: false))
    tuning.handle(.stepped(TrainingStepRecord(
      step: 5, loss: 3, gradientNorm: 1, learningRate: 1e-3, recentMeanLoss: 3, runSeconds: 10, runSteps: 5)))
    tuning.handle(.evaluated(step: 5, value: 2.25, count: 20, isFinal: true))
    XCTAssertEqual(text, """
      step 4: validation 2.5000 bits/char on 10 items
      step 5/100 (5%)  loss 3.0000 bits/char  validation 2.5000  0.500 steps/s  ETA 3m10s
      step 5: final validation 2.2500 bits/char on 20 items

      """)

    text = ""
    let bar = ProgressDisplay(configuration: configuration, metricName: "bits/dim", isTerminal: true) { text += $0 }
    bar.handle(.stepped(TrainingStepRecord(
      step: 1, loss: 5, gradientNorm: 1, learningRate: 1e-3, recentMeanLoss: 5, runSeconds: 1, runSteps: 1)))
    bar.handle(.checkpointed(step: 1, path: "c.safetensors"))
    bar.finish()
    XCTAssertFalse(text.contains("\n\r"), text)
    XCTAssertTrue(text.hasPrefix("\rstep 1/100 ▕"), text)
    XCTAssertTrue(text.contains("\r\u{1B}[Kstep 1: checkpoint c.safetensors\n"), text)
    XCTAssertTrue(text.hasSuffix("ETA 1m39s\u{1B}[K\n"), text)
  }

  func testSummaryJSONHasTheDesignKeysAndReadsBack() throws {
    let summary = TrainingSummary(
      model: "cdflow", metricName: "bits/dim", metricKey: "bpd", steps: 1200, runSteps: 200, seconds: 61.5,
      runSeconds: 10.25, trainMetric: 4.125, testMetric: nil, testCount: nil, checkpoint: "out/c \"1\".safetensors",
      parameterCount: 536)
    let text = JSONValue.object(summary.jsonFields + [("note", .string("tab\there\u{1}"))])
    XCTAssertFalse(text.contains("\n"))
    let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    for key in ["model", "steps", "seconds", "train_bpd", "test_bpd", "checkpoint"] {
      XCTAssertNotNil(object[key], "missing \(key) in \(text)")
    }
    XCTAssertEqual(object["model"] as? String, "cdflow")
    XCTAssertEqual(object["steps"] as? Int, 1200)
    XCTAssertEqual(object["seconds"] as? Double, 61.5)
    XCTAssertEqual(object["train_bpd"] as? Double, 4.125)
    XCTAssertTrue(object["test_bpd"] is NSNull)
    XCTAssertEqual(object["checkpoint"] as? String, "out/c \"1\".safetensors")
    XCTAssertEqual(object["note"] as? String, "tab\there\u{1}")
    XCTAssertEqual(JSONValue.number(0.1).jsonText, "0.1")
    XCTAssertEqual(JSONValue.number(-3).jsonText, "-3")
    XCTAssertEqual(JSONValue.number(.nan).jsonText, "null")
    XCTAssertEqual(JSONValue.bool(true).jsonText, "true")
    XCTAssertEqual(JSONValue.array([.number(1.5), .null, .array([])]).jsonText, "[1.5, null, []]")
  }
}
