import Foundation
import RLCore
import Testing

@testable import RunStore
@testable import Sweeps

/// A tiny DQN experiment with a sweep over `grid` (YAML lines under `grid:`), in its own folder and store.
func sweepExperiment(grid: String, seeds: String = "[1, 2]", steps: Int = 400, extra: String = "")
    throws -> (dir: String, experiment: String, store: String)
{
    let dir = try temporaryDirectory()
    let yaml =
        tinyDQNExperiment(agent: ["bufferSize: 1000"]) + """
            seeds: \(seeds)
            steps: \(steps)
            checkpointEvery: 100
            evaluateOn: [validation]
            store: \(dir)/runs.sqlite
            \(extra)
            sweep:
              grid:
            \(grid)
            """
    try yaml.write(toFile: dir + "/sw.yaml", atomically: true, encoding: .utf8)
    return (dir, dir + "/sw.yaml", dir + "/runs.sqlite")
}

/// Each finished trial's final network file hash, by (configuration, seed).
func trialWeights(_ store: RunStore, sweep: String) throws -> [String: String] {
    let trials = try store.trials(sweepId: try store.sweep(named: sweep).id!)
    var result: [String: String] = [:]
    for t in trials where t.status == .finished {
        let last = try store.checkpoints(runId: t.runId!).last { $0.file.hasSuffix("network.safetensors") }
        result["\(t.configuration)/\(t.seed)"] = last?.sha256
    }
    return result
}

/// The plan is deterministic: the same file gives the same trials, assignments and configuration hashes, which
/// differ between configurations and not between seeds of one.
@Test func sweepPlanIsStable() throws {
    let t = try sweepExperiment(grid: "    agent.learningRate: [1.0e-4, 1.0e-3]\n    agent.gamma: [0.9, 0.99]")
    let a = try SweepPlan(experimentPath: t.experiment), b = try SweepPlan(experimentPath: t.experiment)
    #expect(a.trials == b.trials && a.trials.count == 8)
    #expect(
        a.trials.map(\.seed) == [1, 2, 1, 2, 1, 2, 1, 2] && a.trials.map(\.configuration) == [0, 0, 1, 1, 2, 2, 3, 3])
    #expect(Set(a.trials.map(\.configHash)).count == 8)
    #expect(a.trials[2].assignmentsJSON == #"[["agent.learningRate","1.0e-4"],["agent.gamma","0.99"]]"#)
    let withSeeds = try SweepPlan(experimentPath: t.experiment, sets: ["agent.gamma=0.5"], seeds: [7])
    #expect(withSeeds.trials.count == 2 && withSeeds.trials.allSatisfy { $0.seed == 7 })
}

/// A sweep killed (the pool and its trial processes) at random points and resumed runs exactly the missing work: the
/// trials finished before a kill are left alone, and every trial ends with the weights of an uninterrupted sweep.
@Test func killedSweepResumesToTheSameTrials() throws {
    let grid = "    agent.learningRate: [1.0e-4, 1.0e-3]"
    let whole = try sweepExperiment(grid: grid)
    let r = try runCLI(["sweep", whole.experiment, "--jobs", "2"])
    #expect(r.status == 0, "\(r.stderr)")
    let reference = try trialWeights(try RunStore(path: whole.store), sweep: "sw")
    #expect(reference.count == 4)

    let cut = try sweepExperiment(grid: grid)
    var rng = Xoshiro256(seed: 17)
    var finishedBefore: [Int64: Date] = [:]
    for round in 0..<3 {
        // A new session, so the kill reaches the pool and every trial process it started.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        p.arguments =
            [tradesimBinary]
            + (round == 0 ? ["sweep", cut.experiment] : ["sweep", "sw", "--resume", "--store", cut.store])
            + ["--jobs", "2"]
        p.environment = ProcessInfo.processInfo.environment.merging(["OPENBLAS_NUM_THREADS": "1"]) { $1 }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        usleep(UInt32(Double.random(in: 0.8..<3.0, using: &rng) * 1e6))
        kill(-p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let store = try RunStore(path: cut.store)
        #expect(try store.integrityCheck() == "ok")
        for t in try store.trials(sweepId: try store.sweep(named: "sw").id!) where t.status == .finished {
            let ended = try store.run(id: t.runId!).endedAt!
            if let before = finishedBefore[t.index] { #expect(before == ended, "trial \(t.index) ran again") }
            finishedBefore[t.index] = ended
        }
    }
    let resumed = try runCLI(["sweep", "sw", "--resume", "--store", cut.store, "--jobs", "2"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    let store = try RunStore(path: cut.store)
    #expect(try trialWeights(store, sweep: "sw") == reference)
    let sweep = try store.sweep(named: "sw")
    for t in try store.trials(sweepId: sweep.id!) {
        if let before = finishedBefore[t.index] { #expect(try store.run(id: t.runId!).endedAt == before) }
        // One run per trial, its training episodes numbered without gaps or repeats.
        let indices = try store.episodes(runId: t.runId!, split: .train).map(\.index)
        #expect(indices == Array(0..<Int64(indices.count)), "trial \(t.index)")
    }
    #expect(try store.runs().count == 4)
}

/// A failing trial (its rewards overflow, so its first update is not finite) does not stop the others; its error line
/// is kept in the store, `sweep status` shows it, and the command fails with one line.
@Test func failedTrialKeepsItsErrorAndTheOthersFinish() throws {
    let t = try sweepExperiment(grid: "    agent.rewardScale: [1, 1.0e300]", seeds: "[3]", steps: 300)
    let r = try runCLI(["sweep", t.experiment, "--jobs", "2"])
    #expect(
        r.failsWithOneErrorLine && r.stderr.contains("sweep sw: 1 trial failed (tradesim sweep status sw --store "),
        "\(r.stderr)")
    let store = try RunStore(path: t.store)
    let trials = try store.trials(sweepId: try store.sweep(named: "sw").id!)
    #expect(trials.map(\.status) == [.finished, .failed])
    #expect(trials[1].message?.contains("non-finite update") == true)
    let status = try runCLI(["sweep", "status", "sw", "--store", t.store])
    #expect(status.status == 0 && status.stdout.contains("1 finished") && status.stdout.contains("1 failed"))
    #expect(status.stdout.contains("non-finite"), "\(status.stdout)")
}

/// A trial whose process is killed while the pool runs on leaves the sweep unfinished: the pool says which trials were
/// interrupted and how to continue them, and fails.
@Test func aKilledTrialFailsThePool() throws {
    let t = try sweepExperiment(grid: "    agent.gamma: [0.9, 0.99]", seeds: "[1]", steps: 100_000)
    let killer = Thread {
        // Once both trials' processes have claimed their runs, kill them (not the pool).
        while true {
            usleep(100_000)
            guard let store = try? RunStore(path: t.store), let runs = try? store.runs(), runs.count == 2 else {
                continue
            }
            for pid in runs.compactMap(\.ownerPid) { kill(pid_t(pid), SIGKILL) }
            return
        }
    }
    killer.start()
    let r = try runCLI(["sweep", t.experiment, "--jobs", "2"])
    #expect(r.stdout.contains("2 interrupted\n"), "\(r.stdout)")
    #expect(r.failsWithOneErrorLine, "\(r.stderr)")
    #expect(
        r.stderr.contains(
            "sweep sw: 2 trials interrupted (tradesim sweep status sw --store \(t.store)); run them again with "
                + "tradesim sweep sw --resume --store \(t.store)"), "\(r.stderr)")
}

/// A trial whose run finished while the trial was left running (its process killed between the two writes, as a
/// debugger's kill at `endTrial` does) or failed (its run finished afterwards by `train --resume`) is marked finished,
/// without training, by `run-trial` and by `sweep --resume`; until then `sweep status` shows the running ones
/// interrupted and `sweep results` refuses; after, `sweep results` works.
@Test func aTrialWhoseRunFinishedIsMarkedByRunTrialAndResume() throws {
    let t = try sweepExperiment(grid: "    agent.gamma: [0.99]", seeds: "[1, 2, 3]", steps: 200)
    #expect(try runCLI(["sweep", t.experiment, "--jobs", "2"]).status == 0)
    let store = try RunStore(path: t.store)
    let sweepId = try store.sweep(named: "sw").id!
    let ended = try store.runs().map(\.endedAt)
    try store.backend.write { db in
        _ = try db.execute(#"UPDATE trial SET status = 'running' WHERE "index" IN (1, 2)"#, [])
    }
    try store.endTrial(sweepId: sweepId, index: 0, failure: "disk full")
    let status = try runCLI(["sweep", "status", "sw", "--store", t.store])
    #expect(status.stdout.contains("2 interrupted, 1 failed"), "\(status.stdout)")
    let refused = try runCLI(["sweep", "results", "sw", "--store", t.store])
    #expect(refused.failsWithOneErrorLine && refused.stderr.contains("3 of 3 trials have not finished"))

    let trial = try runCLI(["sweep", "run-trial", "sw", "--index", "1", "--store", t.store])
    #expect(trial.status == 0 && trial.stdout.contains("had finished before"), "\(trial.stderr)")
    #expect(try store.trials(sweepId: sweepId).map(\.status) == [.failed, .finished, .running])
    let resumed = try runCLI(["sweep", "sw", "--resume", "--store", t.store, "--jobs", "2"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stdout.contains("retrying 1 failed trial\n") && resumed.stdout.contains("3 finished\n"))
    #expect(try store.trials(sweepId: sweepId).allSatisfy { $0.status == .finished && $0.message == nil })
    #expect(try store.runs().map(\.endedAt) == ended)  // none trained again
    let results = try runCLI(["sweep", "results", "sw", "--store", t.store])
    #expect(results.status == 0, "\(results.stderr)")
}

/// A trial that failed for a passing reason (its data file was missing when it ran) is retried by `sweep --resume`
/// (from scratch: it had no run), failing again with its new error line while the cause lasts and finishing once it
/// has passed; then `sweep results` works.
@Test func failedTrialsAreRetriedByResume() throws {
    let dir = try temporaryDirectory()
    let data = dir + "/bars.csv"
    try FileManager.default.copyItem(atPath: repoRoot + "/data/sp500_1999_2018_arch.csv", toPath: data)
    let t = try sweepExperiment(grid: "    environment.data.file: [\(data)]", seeds: "[1, 2]", steps: 200)
    let plan = try SweepPlan(experimentPath: t.experiment)
    let store = try RunStore(path: t.store)
    let sweepId = try store.createSweep(
        SweepRecord(
            name: "sw", experimentPath: t.experiment, experimentYAML: plan.experimentYAML,
            definitionYAML: plan.definitionYAML), trials: plan.trials
    ).id!
    try FileManager.default.moveItem(atPath: data, toPath: data + ".away")
    let failing = try runCLI(["sweep", "sw", "--resume", "--store", t.store, "--jobs", "2"])
    #expect(
        failing.failsWithOneErrorLine && failing.stderr.contains("2 trials failed (tradesim sweep status sw"),
        "\(failing.stderr)")
    let first = try store.trials(sweepId: sweepId)
    #expect(first.allSatisfy { $0.status == .failed && $0.message?.contains("bars.csv") == true }, "\(first)")

    try "date,open\n".write(toFile: data, atomically: true, encoding: .utf8)  // another passing cause
    let again = try runCLI(["sweep", "sw", "--resume", "--store", t.store, "--jobs", "2"])
    #expect(again.failsWithOneErrorLine && again.stdout.contains("retrying 2 failed trials\n"), "\(again.stdout)")
    let second = try store.trials(sweepId: sweepId)
    #expect(second.allSatisfy { $0.status == .failed }, "\(second)")
    #expect(second.map(\.message) != first.map(\.message), "\(second)")

    try FileManager.default.removeItem(atPath: data)
    try FileManager.default.moveItem(atPath: data + ".away", toPath: data)
    let resumed = try runCLI(["sweep", "sw", "--resume", "--store", t.store, "--jobs", "2"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stdout.contains("retrying 2 failed trials\n") && resumed.stdout.contains("2 finished\n"))
    #expect(try store.trials(sweepId: sweepId).allSatisfy { $0.status == .finished && $0.message == nil })
    #expect(try store.runs().count == 2)
    let results = try runCLI(["sweep", "results", "sw", "--store", t.store])
    #expect(results.status == 0, "\(results.stderr)")
}

/// Two processes given the same trial: one trains it, the other exits with one line saying it is taken.
@Test func aTrialIsClaimedAtMostOnce() throws {
    let t = try sweepExperiment(grid: "    agent.gamma: [0.99]", seeds: "[1]", steps: 3_000)
    let plan = try SweepPlan(experimentPath: t.experiment)
    let store = try RunStore(path: t.store)
    _ = try store.createSweep(
        SweepRecord(
            name: "sw", experimentPath: t.experiment, experimentYAML: plan.experimentYAML,
            definitionYAML: plan.definitionYAML), trials: plan.trials)
    let first = try startCLI(["sweep", "run-trial", "sw", "--index", "0", "--store", t.store])
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline, try store.trials(sweepId: 1)[0].status == .pending { usleep(20_000) }
    let second = try runCLI(["sweep", "run-trial", "sw", "--index", "0", "--store", t.store])
    #expect(second.failsWithOneErrorLine && second.stderr.contains("trial 0 of sweep sw is taken"), "\(second.stderr)")
    first.waitUntilExit()
    #expect(first.terminationStatus == 0)
    #expect(try store.trials(sweepId: 1)[0].status == .finished && store.runs().count == 1)
}

/// Bad sweeps fail before anything runs, with one line naming the key.
@Test func badSweepKeysFailBeforeAnythingRuns() throws {
    let t = try sweepExperiment(grid: "    agent.learningRate: [1.0e-4]")
    for (args, message) in [
        (["--set", "agent.learningRat=1,2"], "sweep key 'agent.learningRat' value '1'"),
        // No line: a --set value is in no file.
        (["--set", "agent.learningRate=abc"], "key 'overrides.agent.learningRate' must be a number, got 'abc'\n"),
        (["--set", "environment.market.reward.kind=sharpe"], "must be one of logReturn"),
        (["--set", "agent.gamma="], "--set agent.gamma: an empty value"),
        (["--seeds", "1,x"], "--seeds: 'x' is not a seed"),
        (["--seeds", "3,2,3"], "--seeds: 3 is given twice"),
    ] {
        let r = try runCLI(["sweep", t.experiment] + args)
        #expect(r.failsWithOneErrorLine && r.stderr.contains(message), "\(args): \(r.stderr)")
    }
    #expect(!FileManager.default.fileExists(atPath: t.store))
}

/// A sweep's name is the folder of its logs under `sweeps/`: an empty one, or one with `/`, `\`, `..` or a control
/// character, is refused in one line naming --name before anything is recorded or made, in the store's folder or
/// outside it.
@Test func sweepNameMustBeAPlainFolderName() throws {
    let t = try sweepExperiment(grid: "    agent.gamma: [0.99]", seeds: "[1]", steps: 100)
    let escaped = "escaped-" + UUID().uuidString
    for name in ["../../" + escaped, "", "a/b", #"a\b"#, "..", ".", "a\nb", "tab\tname", "\u{7f}"] {
        let r = try runCLI(["sweep", t.experiment, "--name", name])
        #expect(r.failsWithOneErrorLine, "\(name): \(r.stderr)")
        #expect(r.stderr.contains("--name \(String(reflecting: name)): a sweep's name is a folder name"), "\(r.stderr)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: t.dir) == ["sw.yaml"])
    // `sweeps/../../NAME` beside the store would be NAME beside its folder.
    #expect(!FileManager.default.fileExists(atPath: (t.dir as NSString).deletingLastPathComponent + "/" + escaped))
}
