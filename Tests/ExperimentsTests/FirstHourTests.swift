import Foundation
import Testing
import TradingEnv

@testable import Experiments
@testable import RunStore
@testable import TradeSimCLI

/// The progress line fits the terminal: 80 columns (and narrower) keep the phase, step count, rate and ETA; wide
/// terminals get the bar and the last return and loss too.
@Test func progressLineFitsTheTerminalWidth() {
    let p = TrainingProgress(
        run: "us-stocks-portfolio-ppo-cnn__ppo-portfolio__1__1796449875", step: 10_400,
        total: 20_000, stepsPerSecond: 812.4, lastEpisodeReturn: -0.0123, loss: 0.0456,
        phase: "evaluating validation")
    #expect(ProgressPrinter.line(p, width: 40).count == 40)
    for width in [60, 80, 120, 200] {
        let line = ProgressPrinter.line(p, width: width)
        #expect(line.count <= width, "\(width): \(line)")
        #expect(line.contains("evaluating validation 10400/20000 812 steps/s ETA 12s"), "\(width): \(line)")
    }
    #expect(ProgressPrinter.line(p, width: 200).contains("[==========          ]") == true)
    #expect(ProgressPrinter.line(p, width: 200).hasSuffix("return -0.0123 loss 0.0456"))
    #expect(ProgressPrinter.line(p, width: 80).hasPrefix("us-stocks"))
    #expect(ProgressPrinter.duration(3_725) == "1h02m" && ProgressPrinter.duration(125) == "2m05s")
}

/// The rate counts training time only: a pause between chunks (an evaluation, a checkpoint) does not lower it, so
/// the ETA does not jump.
@Test func progressRateExcludesPausesBetweenChunks() throws {
    let dir = try temporaryDirectory()
    let store = try RunStore(path: dir + "/runs.sqlite")
    let run = try store.createRun(
        experiment: "e", agent: "a", seed: 1, experimentYAML: "", configJSON: "{}",
        configHash: "h", codeVersion: "t")
    let setup = try MarketSetup(path: repoRoot + "/environments/sp500-daily.yaml")
    var clock = Date(timeIntervalSince1970: 0)
    var logger = RunLogger(
        run: run, store: store, env: try setup.environment(.train), totalSteps: 1_000, keepEvery: 0,
        numeric: .init(policy: .stop), episodes: 0, tensorboard: nil, now: { clock })
    logger.beginChunk(step: 0)
    clock += 10
    try logger.endChunk(step: 100)
    clock += 100  // an evaluation and a checkpoint
    logger.beginChunk(step: 100)
    clock += 10
    var reports: [TrainingProgress] = []
    logger.record(.update(step: 200, metrics: ["losses/td": 0.5]), progress: { reports.append($0) })
    let p = try #require(reports.first)
    #expect(p.stepsPerSecond == 10 && p.secondsLeft == 80 && p.loss == 0.5)
    #expect(logger.progressReport(step: 200, phase: "checkpoint").phase == "checkpoint")
}

/// `train` writes progress to stderr (results to stdout), a first line at once when stderr is a file, and every
/// metric row live to TensorBoard; `--report` and `--steps` are checked before anything runs.
@Test func trainSeparatesProgressFromResultsAndWritesTensorBoard() throws {
    let t = try tinyExperiment(steps: 200)
    let board = t.dir + "/tb"
    let r = try runCLI(["train", t.experiment, "--tensorboard", board, "--report", t.dir + "/r.md"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderrLines.first?.contains("training") == true && r.stderr.contains("evaluating validation"))
    #expect(!r.stdout.contains("steps/s") && r.stdout.contains("validation split, greedy policy vs baselines"))
    let report = try String(contentsOfFile: t.dir + "/r.md", encoding: .utf8)
    #expect(
        report.contains("seed 3") && report.contains("200 steps") && report.contains("SHA-256")
            && report.contains("validation 2011–2012") && report.contains("commission"))

    let store = try RunStore(path: t.store)
    let run = try #require(try store.runs().first)
    let folder = board + "/" + run.name
    let file = try #require(
        try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.contains("tfevents") })
    let events = try readEventFile(URL(fileURLWithPath: folder + "/" + file))
    var logged: [String: [(Int64, Float)]] = [:]
    for e in events { for s in e.scalars { logged[s.tag, default: []].append((e.step, s.value)) } }
    let stored = try store.metrics(runId: run.id!)
    #expect(Set(logged.keys) == Set(stored.map(\.key)))
    let sharpe = try #require(stored.last { $0.key == "eval/validation/sharpe" })
    #expect(
        logged["eval/validation/sharpe"]?.last.map { $0.0 == sharpe.globalStep && $0.1 == Float(sharpe.value) } == true)

    for (args, message) in [
        (["--steps", "-5"], "--steps must be a positive number of steps, got -5"),
        (["--report", t.experiment + "/r.md"], "--report \(t.experiment)/r.md: \(t.experiment) is not a folder"),
    ] {
        let bad = try runCLI(["train", t.experiment] + args)
        #expect(bad.status != 0 && bad.stderrLines.count == 1 && bad.stderr.contains(message), "\(bad.stderr)")
    }
    #expect(try store.runs().count == 1)  // the refused commands trained nothing
    // A missing folder for the report is made, as the store's is (the README's first command writes into runs/).
    #expect(try runCLI(["train", t.experiment, "--steps", "10", "--report", t.dir + "/new/r.md"]).status == 0)
    #expect(FileManager.default.fileExists(atPath: t.dir + "/new/r.md"))
}

/// PPO trains in whole rollouts: the run says up front how many steps the budget becomes, and the progress never
/// counts past its total (no `20480/20000 … ETA -0s`).
@Test func rolloutAgentsStateTheirRoundedBudget() throws {
    let t = try tinyExperiment(steps: 200)
    let ppo = try String(contentsOfFile: t.experiment, encoding: .utf8)
        .replacingOccurrences(of: "dqn-lstm.yaml", with: "ppo-lstm.yaml")
        .replacingOccurrences(of: "checkpointEvery: 200", with: "checkpointEvery: 20")
        .replacingOccurrences(of: "evaluateEvery: 150", with: "evaluateEvery: 0")
        .replacingOccurrences(of: "learningStarts: 100", with: "numEnvs: 2")
        .replacingOccurrences(of: "batchSize: 16", with: "nSteps: 32")
        .replacingOccurrences(of: "epsilonSteps: 200", with: "minibatchSize: 32")
    try ppo.write(toFile: t.experiment, atomically: true, encoding: .utf8)
    let r = try runCLI(["train", t.experiment])
    #expect(r.status == 0, "\(r.stderr)")
    // Chunks end at every 20 steps (checkpoints); each rounds up to a rollout of 64: 64, 128, 192, 256.
    #expect(
        r.stderr.contains("ppo trains in whole rollouts of 64 steps")
            && r.stderr.contains("256 steps for the budget of 200"),
        "\(r.stderr)")
    for line in r.stderrLines where line.contains("steps/s") {
        let counts = line.split(separator: " ").first { $0.contains("/") && $0.first!.isNumber }!.split(separator: "/")
        #expect(Int(counts[0])! <= Int(counts[1])! && counts[1] == "256", "\(line)")
    }
    let store = try RunStore(path: t.store)
    #expect(try store.latestCheckpoint(runId: try #require(try store.runs().first).id!)?.globalStep == 256)
}
