import Agents
import Foundation
import RunStore
import Testing

@testable import Experiments

/// A daily market (2000–2003, train 2000–2001, validation 2002, test 2003) with a planted signal: each bar opens at the
/// previous close and moves ±1.2% (plus small noise) in the direction of a coin flip made one bar earlier, which that
/// earlier bar shows in its wicks (range 0.8% wider before a rise). So "up 1% before down 1% within 2 bars" is
/// predictable from the last bar of the window, and tradable at the next open. Returns the folder with `env.yaml`.
func plantedSignalMarket(window: Int = 4) throws -> String {
    let dir = try temporaryDirectory()
    var lines = ["Date,Open,High,Low,Close,Volume"]
    var close = 100.0, signal = 1.0
    var day = DateComponents(
        calendar: Calendar(identifier: .gregorian), timeZone: TimeZone(identifier: "UTC"), year: 2000, month: 1, day: 3
    ).date!
    var seed: UInt64 = 12345
    func uniform() -> Double {
        seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407;
        return Double(seed >> 11) / Double(1 << 53)
    }
    let end = DateComponents(
        calendar: Calendar(identifier: .gregorian), timeZone: TimeZone(identifier: "UTC"), year: 2004, month: 1, day: 1
    ).date!
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyy-MM-dd"
    formatter.timeZone = TimeZone(identifier: "UTC")
    while day < end {
        let weekday = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: day)
            .weekday!
        if weekday != 1 && weekday != 7 {
            let open = close
            close *= 1 + 0.012 * signal + 0.002 * (uniform() - 0.5)  // follows the previous bar's coin flip
            signal = uniform() < 0.5 ? -1 : 1
            let wick = signal > 0 ? 0.004 : 0.0005  // this bar's range shows the next move
            lines.append(
                "\(formatter.string(from: day)),\(open),\(max(open, close) * (1 + wick)),"
                    + "\(min(open, close) * (1 - wick)),\(close),\(1000 + Int(uniform() * 100))"
            )
        }
        day = day.addingTimeInterval(86_400)
    }
    try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/planted.csv", atomically: true, encoding: .utf8)
    let env = """
        data:
          file: planted.csv
          splits: {train: [2000, 2001], validation: [2002, 2002], test: [2003, 2003]}
          features: {volumeWindow: 5, volatilityWindow: 5}
        market:
          window: \(window)
          actions: {kind: discrete, levels: [-1, 0, 1]}
          costs: {commissionBps: 1, halfSpreadBps: 1}
          episode: {mode: random, length: 60}
          observePosition: true
        """
    try env.write(toFile: dir + "/env.yaml", atomically: true, encoding: .utf8)
    return dir
}

/// A pretrain file over the planted market, store and checkpoints inside `dir`.
func pretrainFile(_ dir: String, steps: Int = 300, extra: String = "") throws -> String {
    let yaml = """
        environment: env.yaml
        encoder: {embedding: 8, hidden: 8, layers: 1}
        labels: {up: 0.01, down: 0.01, horizon: 2, classes: 2}
        steps: \(steps)
        batch: 32
        learningRate: 0.01
        seed: 3
        evaluateOn: [validation, test]
        store: \(dir)/runs.sqlite
        checkpoints: \(dir)/checkpoints
        \(extra)
        """
    try yaml.write(toFile: dir + "/pretrain.yaml", atomically: true, encoding: .utf8)
    return dir + "/pretrain.yaml"
}

@Suite(.serialized) struct PretrainTests {
    @Test func pretrainingLearnsAPlantedSignalWellBeyondTheBaseRate() throws {
        let dir = try plantedSignalMarket()
        let outcome = try runPretrain(try pretrainFile(dir))
        #expect(outcome.reports.map(\.split) == [.validation, .test])
        for r in outcome.reports {
            #expect(r.baseRateLogLoss > 0.6)  // the classes are about balanced
            #expect(r.logLoss < 0.5 * r.baseRateLogLoss, "\(r.line)")
            #expect(r.accuracy > 0.9 && r.accuracy > r.baseRateAccuracy + 0.3, "\(r.line)")
            #expect((r.rocAUC ?? 0) > 0.95, "\(r.line)")
            // Holding the asset only ahead of planted rises beats holding it throughout.
            #expect(r.trading.metrics.totalReturn > r.buyAndHold.metrics.totalReturn + 0.5, "\(r.line)")
        }
        let store = try RunStore(path: dir + "/runs.sqlite")
        let run = try #require(try store.runs().first)
        #expect(run.agent == pretrainRunKind && run.status == .finished)
        let files = try store.checkpoints(runId: run.id!).map { ($0.file as NSString).lastPathComponent }
        #expect(files.sorted() == ["network.safetensors", "pretrain.json"])
        #expect(try store.metrics(runId: run.id!, key: "pretrain/validation/rocAUC").count == 1)
        let evaluate = try runCLI(["evaluate", run.name, "--split", "validation", "--store", dir + "/runs.sqlite"])
        #expect(
            evaluate.status != 0 && evaluate.stderrLines.count == 1 && evaluate.stderr.contains("is a pretrain run"),
            "\(evaluate.stderr)")
        // Same file and seed: bit-identical network.
        let again = try runPretrain(try pretrainFile(dir))
        let a = try loadPretrainedNetwork(run.name, store: store),
            b = try loadPretrainedNetwork(again.run.name, store: store)
        #expect(a.parameters == b.parameters)
    }

    @Test func frozenEncoderStaysBitIdenticalWhileTheHeadsTrain() throws {
        let dir = try plantedSignalMarket()
        let pretrained = try runPretrain(try pretrainFile(dir, steps: 50))
        let store = try RunStore(path: dir + "/runs.sqlite")
        // name prefix: the latest finished pretrain run
        let source = try loadPretrainedNetwork("pretrain", store: store)
        for freeze in [true, false] {
            let agent = """
                algo: a2c
                encoder: {embedding: 8, hidden: 8, layers: 1, from: \(pretrained.run.name), freeze: \(freeze)}
                numEnvs: 2
                nSteps: 16
                learningRate: 0.01
                """
            try agent.write(toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
            let experiment = """
                environment: env.yaml
                agent: agent.yaml
                seeds: [2]
                steps: 320
                evaluateOn: []
                store: \(dir)/runs.sqlite
                checkpoints: \(dir)/checkpoints
                """
            try experiment.write(toFile: dir + "/a2c-\(freeze).yaml", atomically: true, encoding: .utf8)
            let outcome = try #require(try runExperiment(Experiment.load(dir + "/a2c-\(freeze).yaml")).first)
            let saved = try SavedRun(outcome.run, store: store).agent()
            let trained = saved.networks[0]
            let encoder = trained.encoderParameters
            #expect(encoder == source.encoderParameters && encoder.count > 0)
            let initial = makeAgent(try AgentFile.load(dir + "/agent.yaml"), spec: saved.spec, seed: 2).networks[0]
            let heads = encoder.upperBound..<trained.parameters.count
            #expect(trained.parameters[heads] != initial.parameters[heads])  // the heads trained
            if freeze {
                #expect(Array(trained.parameters[encoder]) == Array(source.parameters[encoder]))
            } else {
                #expect(Array(trained.parameters[encoder]) != Array(source.parameters[encoder]))
            }
        }
    }

    @Test(arguments: [
        ("labels: {up: -0.01}", "labels: up"),
        ("labels: {horizon: 0}", "horizon"),
        ("labels: {target: ZZZ}", "target 'ZZZ'"),
        ("labels: {clases: 3}", "unknown key 'labels.clases'"),
        ("batch: 0", "key 'batch'"),
        ("encoder: {from: x}", "'from' and 'freeze'"),
        ("encoder: {kernel: 0}", "encoder.kernel must be at least 1, not 0"),
        ("seed: -1", "key 'seed' must be ≥ 0"),
    ])
    func badPretrainFileGivesOneErrorLine(extra: String, expected: String) throws {
        let dir = try plantedSignalMarket()
        var text = try String(contentsOfFile: try pretrainFile(dir, steps: 5), encoding: .utf8)
        let key = String(extra.prefix { $0 != ":" })
        text =
            text.split(separator: "\n").filter { !$0.hasPrefix(key + ":") }.joined(separator: "\n") + "\n" + extra
            + "\n"
        try text.write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let r = try runCLI(["pretrain", dir + "/bad.yaml"])
        #expect(r.status != 0)
        #expect(r.stderrLines.count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(expected), "\(r.stderr)")
    }

    @Test func agentFromAMissingOrNonPretrainRunIsOneErrorLine() throws {
        let dir = try plantedSignalMarket()
        try "algo: a2c\nencoder: {embedding: 8, hidden: 8, from: nothing-here}\n".write(
            toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
        let experimentFile =
            "environment: env.yaml\nagent: agent.yaml\nsteps: 64\nevaluateOn: []\nstore: "
            + "\(dir)/runs.sqlite\ncheckpoints: \(dir)/cp\n"
        try experimentFile.write(toFile: dir + "/e.yaml", atomically: true, encoding: .utf8)
        let r = try runCLI(["train", dir + "/e.yaml"])
        #expect(
            r.status != 0 && r.stderrLines.count == 1 && r.stderr.contains("encoder.from 'nothing-here'"), "\(r.stderr)"
        )
        try "algo: a2c\nencoder: {freeze: true}\n".write(toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
        let f = try runCLI(["train", dir + "/e.yaml"])
        #expect(f.status != 0 && f.stderrLines.count == 1 && f.stderr.contains("encoder.freeze"), "\(f.stderr)")
    }
}
