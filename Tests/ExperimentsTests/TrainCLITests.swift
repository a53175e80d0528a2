import Foundation
import RunStore
import Sweeps
import Testing

@testable import Experiments

/// A tiny experiment (small encoder, a few hundred steps) in a temporary folder, with its own store.
func tinyExperiment(steps: Int = 300, seeds: String = "[3]", logEvery: Int = 0) throws -> (
    dir: String, experiment: String, store: String
) {
    let dir = try temporaryDirectory()
    let yaml =
        tinyDQNExperiment(agent: ["epsilonSteps: 200"]) + """
            seeds: \(seeds)
            steps: \(steps)
            evaluateEvery: 150
            checkpointEvery: \(steps)
            evaluateOn: [validation]
            logEvery: \(logEvery)
            store: \(dir)/runs.sqlite
            """
    try yaml.write(toFile: dir + "/tiny.yaml", atomically: true, encoding: .utf8)
    return (dir, dir + "/tiny.yaml", dir + "/runs.sqlite")
}

@Test func trainWritesARunThatRunsAndExportRead() throws {
    let t = try tinyExperiment()
    let started = Date().timeIntervalSince1970
    let r = try runCLI(["train", t.experiment, "--report", t.dir + "/report.md"])
    #expect(r.status == 0, "\(r.stderr)")
    // every metric row (training, evaluation, the training time) is stamped in unix seconds while the run ran
    let stamps = try RunStore(path: t.store).metrics(runId: try #require(try RunStore(path: t.store).runs().first).id!)
        .map(\.wallTime)
    let ended = Date().timeIntervalSince1970
    #expect(!stamps.isEmpty && stamps.allSatisfy { $0.map { started - 1 <= $0 && $0 <= ended + 1 } == true })
    #expect(r.stdout.contains("buyAndHold") && r.stdout.contains("validation split"))
    let store = try RunStore(path: t.store)
    let run = try #require(try store.runs().first)
    #expect(run.status == .finished)
    #expect(run.name.hasPrefix("tiny__dqn-lstm__3__"))
    #expect(run.experimentYAML.contains("evaluateEvery: 150"))
    #expect(run.configJSON.contains("\"window\":8"))
    let validation = try store.episodes(runId: run.id!, split: .validation)
    #expect(validation.count == 2)  // at 150 steps and at the end
    let steps = try store.steps(episodeId: validation.last!.id!)
    #expect(steps.count == Int(validation.last!.steps))  // evaluation keeps every step
    #expect(try !store.episodes(runId: run.id!, split: .train).isEmpty)
    #expect(try store.metrics(runId: run.id!, key: "eval/validation/sharpe").count == 2)
    // the report names the data file as read, relative to the folder train ran in (the repository's root)
    let report = try String(contentsOfFile: t.dir + "/report.md", encoding: .utf8)
    #expect(report.contains("  - data `data/sp500_1999_2018_arch.csv` (SHA-256 "), "\(report)")

    let listed = try runCLI(["runs", "--store", t.store])
    #expect(listed.status == 0 && listed.stdout.contains(run.name) && listed.stdout.contains("finished"))
    let csv = try runCLI(["export", "\(run.id!)", "--what", "episodes", "--format", "csv", "--store", t.store])
    #expect(csv.status == 0)
    #expect(csv.stdout.split(separator: "\n").count == 1 + (try store.episodes(runId: run.id!).count))
    let missing = try runCLI(["export", "999", "--store", t.store])
    #expect(missing.status != 0 && missing.stderrLines.count == 1 && missing.stderr.contains("no run with id 999"))
}

/// Chunks (here 40 steps, between checkpoints) shorter than an episode (60 bars): each chunk's end cuts its episode,
/// which is logged as an episode of its own (its rewards, costs, equity and steps as far as it ran), and DQN reports the
/// updates of a chunk shorter than its `logInterval` (100 updates) at the chunk's end. Before, such a run logged no
/// training episode and no `losses/td`.
@Test func episodesAndUpdatesCutByAChunkEndAreLogged() throws {
    let dir = try temporaryDirectory()
    let yaml =
        tinyDQNExperiment(agent: ["epsilonSteps: 200"]) + """
            seeds: [3]
            steps: 200
            checkpointEvery: 40
            evaluateOn: []
            logEvery: 1
            store: \(dir)/runs.sqlite
            """
    try yaml.write(toFile: dir + "/cut.yaml", atomically: true, encoding: .utf8)
    let r = try runCLI(["train", dir + "/cut.yaml"])
    #expect(r.status == 0, "\(r.stderr)")
    let store = try RunStore(path: dir + "/runs.sqlite")
    let run = try #require(try store.runs().first)
    let episodes = try store.episodes(runId: run.id!, split: .train)
    #expect(episodes.map(\.globalStep) == [40, 80, 120, 160, 200])
    #expect(episodes.map(\.index) == [0, 1, 2, 3, 4])
    for e in episodes {
        let steps = try store.steps(episodeId: e.id!)
        #expect(e.steps == 40 && steps.count == 40)
        #expect(e.totalReward == steps.reduce(0) { $0 + $1.reward })
        #expect(e.costs == steps.reduce(0) { $0 + $1.cost })
        #expect(e.finalEquity == steps.last?.equity)
        #expect(e.lastTimestamp == steps.last?.timestamp)
    }
    let episodic = try store.metrics(runId: run.id!, key: "charts/episodicLength")
    #expect(episodic.map(\.value) == [40, 40, 40, 40, 40])
    // updates start at step 100 (learningStarts), one every 4 steps: the chunks ending at 120, 160 and 200 report them
    let td = try store.metrics(runId: run.id!, key: "losses/td")
    #expect(td.map(\.globalStep) == [120, 160, 200] && td.allSatisfy { $0.value.isFinite })
    #expect(try store.metrics(runId: run.id!, key: "charts/epsilon").count == 3)
}

/// `annealLearningRate: true` makes PPO's learning rate fall once over the run's steps (the resolved config records
/// them as `annealSteps`), though training stops for a checkpoint every 64 steps.
@Test func ppoAnnealsTheLearningRateOnceOverTheRun() throws {
    let dir = try temporaryDirectory()
    let yaml = """
        environment: \(repoRoot)/environments/sp500-daily.yaml
        agent: \(repoRoot)/agents/ppo-lstm.yaml
        seeds: [1]
        steps: 256
        checkpointEvery: 64
        evaluateOn: []
        store: \(dir)/runs.sqlite
        overrides:
          environment:
            market: {window: 8, episode: {length: 60}}
          agent:
            encoder: {embedding: 8, hidden: 8}
            annealLearningRate: true
            numEnvs: 2
            nSteps: 16
            minibatchSize: 32
            epochs: 1
        """
    try yaml.write(toFile: dir + "/anneal.yaml", atomically: true, encoding: .utf8)
    let r = try runCLI(["train", dir + "/anneal.yaml"])
    #expect(r.status == 0, "\(r.stderr)")
    let store = try RunStore(path: dir + "/runs.sqlite")
    let run = try #require(try store.runs().first)
    #expect(run.configJSON.contains("\"annealSteps\":256"))
    let rates = try store.metrics(runId: run.id!, key: "charts/learning_rate").sorted { $0.globalStep < $1.globalStep }
    // one update per 32-step rollout, at 3e-4 × (1 − steps before it / 256)
    let steps: [Int64] = Array(stride(from: 32, through: 256, by: 32))
    let expected: [Double] = (0..<8).map { (k: Int) -> Double in 3e-4 * (1 - Double(k * 32) / 256) }
    #expect(rates.map(\.globalStep) == steps)
    #expect(rates.map(\.value) == expected, "\(rates.map(\.value))")
}

@Test func sameSeedGivesABitIdenticalRun() throws {
    let a = try tinyExperiment(steps: 200), b = try tinyExperiment(steps: 200)
    #expect(try runCLI(["train", a.experiment]).status == 0)
    #expect(try runCLI(["train", b.experiment]).status == 0)
    let sa = try RunStore(path: a.store), sb = try RunStore(path: b.store)
    let ra = try #require(try sa.runs().first), rb = try #require(try sb.runs().first)
    let ea = try sa.episodes(runId: ra.id!), eb = try sb.episodes(runId: rb.id!)
    #expect(ea.count == eb.count)
    #expect(ea.map(\.actionsHash) == eb.map(\.actionsHash))
    #expect(ea.map(\.finalEquity) == eb.map(\.finalEquity))
    // Everything but the wall-clock measures (steps per second, seconds spent training) is bit-identical.
    func timed(_ m: MetricRecord) -> Bool { m.key.hasPrefix("charts/sps") || m.key == "charts/trainingSeconds" }
    let ma = try sa.metrics(runId: ra.id!).filter { !timed($0) }
    let mb = try sb.metrics(runId: rb.id!).filter { !timed($0) }
    #expect(ma.map(\.key) == mb.map(\.key))
    #expect(zip(ma, mb).allSatisfy { $0.value.bitPattern == $1.value.bitPattern || ($0.value.isNaN && $1.value.isNaN) })
}

@Test(arguments: [
    ("steps: 10\nseedz: [1]\n", "unknown key 'seedz'"),
    ("environment: ENV\nagent: nowhere.yaml\n", "nowhere.yaml"),
    (
        "overrides: {agent: {learningRat: 1}}\nenvironment: ENV\nagent: AGENT\n",
        "bad.yaml: line 1: unknown key 'overrides.agent.learningRat'"
    ),
    ("overrides: {agent: {algo: sac}}\nenvironment: ENV\nagent: AGENT\n", "unknown algorithm 'sac'"),
    ("overrides: {agent: {learningRate: -1}}\nenvironment: ENV\nagent: AGENT\n", "learningRate"),
    ("overrides: {agent: {batchSize: 0}}\nenvironment: ENV\nagent: AGENT\n", "batchSize"),
    ("steps: \(Int.max)\nenvironment: ENV\nagent: AGENT\n", "key 'steps' must be at most 10000000000"),
    ("seeds: [1, 2, 1]\nenvironment: ENV\nagent: AGENT\n", "bad.yaml: key 'seeds' lists 1 twice"),
    (
        "walkForward: {trainYears: \(Int.max)}\nsteps: 10\nenvironment: ENV\nagent: AGENT\n",
        "stepYears ≥ 1, each at most 1000"
    ),
    (
        "overrides: {environment: {market: {reward: {kind: sharpe}}}}\nenvironment: ENV\nagent: AGENT\n",
        "market.reward.kind"
    ),
])
func badExperimentGivesOneErrorLine(yaml: String, expected: String) throws {
    let dir = try temporaryDirectory()
    let text =
        yaml.replacingOccurrences(of: "AGENT", with: repoRoot + "/agents/dqn-lstm.yaml")
        .replacingOccurrences(of: "ENV", with: repoRoot + "/environments/sp500-daily.yaml")
        + "store: \(dir)/runs.sqlite\n"
    try text.write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
    let r = try runCLI(["train", dir + "/bad.yaml"])
    #expect(r.status != 0)
    #expect(r.stderrLines.count == 1, "\(r.stderr)")
    #expect(r.stderr.contains(expected), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/runs.sqlite"))  // nothing written for a bad config
}

@Test func everyShippedAgentAndExperimentDecodesStrictly() throws {
    let agents = try FileManager.default.contentsOfDirectory(atPath: repoRoot + "/agents").filter {
        $0.hasSuffix(".yaml")
    }
    #expect(agents.count >= 4)
    for f in agents { _ = try AgentFile.load(repoRoot + "/agents/" + f) }
    let experiments = try FileManager.default.contentsOfDirectory(atPath: repoRoot + "/experiments").filter {
        $0.hasSuffix(".yaml")
    }
    #expect(!experiments.isEmpty)
    for f in experiments {
        if (try String(contentsOfFile: repoRoot + "/experiments/" + f, encoding: .utf8)).contains("\nlabels:") {
            _ = try PretrainSpec.load(repoRoot + "/experiments/" + f)  // a `tradesim pretrain` file
            continue
        }
        let e = try Experiment.load(repoRoot + "/experiments/" + f)
        _ = try AgentFile.load(e.agentPath, overrides: e.agentOverrides)
        _ = try EnvironmentSpec.load(e.environmentPath, overrides: e.environmentOverrides)
        if e.sweep != nil || e.spec.walkForward.trainYears > 0 {
            // A sweep file: every configuration and window checks strictly.
            #expect(try !SweepPlan(experimentPath: repoRoot + "/experiments/" + f).trials.isEmpty)
        }
    }
    let sweep = try SweepPlan(experimentPath: repoRoot + "/experiments/sp500-sweep.yaml")
    #expect(sweep.trials.count == 24 && Set(sweep.trials.map(\.configuration)).count == 8)
    let walkForward = try SweepPlan(experimentPath: repoRoot + "/experiments/us-stocks-walkforward.yaml")
    #expect(walkForward.windows.map(\.test) == [[2000, 2001], [2004, 2005], [2008, 2009]])
}

@Test func evaluateLogsAFullDeterministicEpisodeOfTheSplit() throws {
    let t = try tinyExperiment(steps: 200)
    #expect(try runCLI(["train", t.experiment]).status == 0)
    let store = try RunStore(path: t.store)
    let run = try #require(try store.runs().first)
    let first = try runCLI(["evaluate", "\(run.id!)", "--split", "test", "--store", t.store])
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stdout.contains("test split") && first.stdout.contains("buyAndHold"))
    #expect(try runCLI(["evaluate", run.name, "--split", "test", "--store", t.store]).status == 0)
    let episodes = try store.episodes(runId: run.id!, split: .test)
    #expect(episodes.map(\.index) == [0, 1])
    #expect(episodes[0].actionsHash == episodes[1].actionsHash)
    #expect(try store.steps(episodeId: episodes[0].id!).count == Int(episodes[0].steps))
    #expect(episodes[0].globalStep == 200)
}

@Test func trainingStepRowsAreDecimatedAndEpisodesCarryCosts() throws {
    let t = try tinyExperiment(steps: 300, logEvery: 7)
    #expect(try runCLI(["train", t.experiment]).status == 0)
    let store = try RunStore(path: t.store)
    let run = try #require(try store.runs().first)
    let train = try store.episodes(runId: run.id!, split: .train)
    #expect(!train.isEmpty)
    for e in train {
        let rows = try store.steps(episodeId: e.id!)
        // every 7th step, plus the last step when the length is not a multiple of 7
        #expect(rows.count == Int(e.steps) / 7 + (e.steps % 7 == 0 ? 0 : 1))
        #expect(rows.last?.equity == e.finalEquity)
        #expect(e.costs > 0 && e.actionsHash.count == 16)
    }
}

@Test func parallelSeedsShareOneStore() throws {
    let t = try tinyExperiment(steps: 150, seeds: "[1, 2]")
    let r = try runCLI(["train", t.experiment, "--parallel", "--report", t.dir + "/report.md"])
    #expect(r.status == 0, "\(r.stderr) \(r.stdout)")
    let runs = try RunStore(path: t.store).runs()
    #expect(Set(runs.map(\.seed)) == [1, 2])
    #expect(runs.allSatisfy { $0.status == .finished })
    // one summary of both seeds, as without --parallel: each table has one row of the two runs, mean ± std
    #expect(r.stdout.components(separatedBy: "validation split, greedy policy vs baselines").count == 2, "\(r.stdout)")
    let rows = r.stdout.split(separator: "\n").filter { $0.hasPrefix("tiny/dqn-lstm #") }
    #expect(!rows.isEmpty && rows.allSatisfy { $0.split(separator: " ")[2] == "2" }, "\(r.stdout)")
    let report = try String(contentsOfFile: t.dir + "/report.md", encoding: .utf8)
    #expect(runs.allSatisfy { report.contains("- run `\($0.name)`") }, "\(report)")
}

/// A bad key in the agent file fails `--parallel` once, in one line, before any child starts or any run is created; so
/// does an agent that the environment cannot drive.
@Test func parallelSeedsWithABadAgentFileFailInOneLine() throws {
    let t = try tinyExperiment(steps: 150, seeds: "[1, 2, 3]")
    let agent = t.dir + "/agent.yaml"
    try (String(contentsOfFile: repoRoot + "/agents/dqn-lstm.yaml", encoding: .utf8) + "bogus: 1\n")
        .write(toFile: agent, atomically: true, encoding: .utf8)
    let text = try String(contentsOfFile: t.experiment, encoding: .utf8)
        .replacingOccurrences(of: repoRoot + "/agents/dqn-lstm.yaml", with: agent)
    try text.write(toFile: t.experiment, atomically: true, encoding: .utf8)
    let r = try runCLI(["train", t.experiment, "--parallel"])
    #expect(r.failsWithOneErrorLine && r.stderr.contains("bogus"), "\(r.stderr)")
    // So does an agent the environment cannot drive (DQN on continuous weights).
    try text.replacingOccurrences(of: agent, with: repoRoot + "/agents/dqn-lstm.yaml")
        .replacingOccurrences(of: "episode: {length: 60}}", with: "episode: {length: 60}, actions: {kind: weights}}")
        .write(toFile: t.experiment, atomically: true, encoding: .utf8)
    let dqn = try runCLI(["train", t.experiment, "--parallel"])
    #expect(dqn.failsWithOneErrorLine && dqn.stderr.contains("a DQN agent needs discrete actions"), "\(dqn.stderr)")
    #expect(!FileManager.default.fileExists(atPath: t.store))
}

/// A run is only evaluated (or replayed, or resumed) on the data it was trained on: one changed bar in its data file
/// is refused in one line that names the file.
@Test func aRunRefusesDataThatChangedSinceItsTraining() throws {
    let t = try tinyExperiment(steps: 100)
    try FileManager.default.copyItem(atPath: repoRoot + "/data/sp500_1999_2018_arch.csv", toPath: t.dir + "/d.csv")
    try String(contentsOfFile: repoRoot + "/environments/sp500-daily.yaml", encoding: .utf8)
        .replacingOccurrences(of: "../data/sp500_1999_2018_arch.csv", with: "d.csv")
        .write(toFile: t.dir + "/env.yaml", atomically: true, encoding: .utf8)
    let text = try String(contentsOfFile: t.experiment, encoding: .utf8)
        .replacingOccurrences(of: repoRoot + "/environments/sp500-daily.yaml", with: t.dir + "/env.yaml")
    try text.write(toFile: t.experiment, atomically: true, encoding: .utf8)
    let trained = try runCLI(["train", t.experiment])
    #expect(trained.status == 0, "\(trained.stderr)")
    let evaluate = ["evaluate", "1", "--split", "validation", "--store", t.store]
    #expect(try runCLI(evaluate).status == 0)
    var lines = sp500Lines
    setField(&lines, line: 3000, column: 6, to: "1")  // one bar's volume
    try lines.joined(separator: "\n").write(toFile: t.dir + "/d.csv", atomically: true, encoding: .utf8)
    for command in [evaluate, ["replay", "1", "--store", t.store]] {
        let r = try runCLI(command)
        #expect(r.failsWithOneErrorLine, "\(command): \(r.stderr)")
        #expect(r.stderr.contains("d.csv: the data file is not the one the run was trained on"), "\(r.stderr)")
    }
}
