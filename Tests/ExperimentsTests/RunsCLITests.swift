import Foundation
import GRDB
import Testing

@testable import RunStore

/// A store in a fresh folder with five runs: two finished and one failed run of experiment `alpha`, each with an
/// episode and a two-file checkpoint under `checkpoints/` beside the store; an interrupted run of `beta` (its process
/// is gone) without a checkpoint; and a `beta` run that this living test process owns.
private struct RunsFixture {
    let dir: String
    let store: RunStore
    let kept: RunRecord, finished: RunRecord, failed: RunRecord, interrupted: RunRecord, live: RunRecord

    init() throws {
        let dir = try temporaryDirectory()
        let store = try RunStore(path: dir + "/runs.sqlite")
        self.dir = dir
        self.store = store
        func run(_ experiment: String, seed: Int64) throws -> RunRecord {
            try store.createRun(
                experiment: experiment, agent: "dqn", seed: seed, experimentYAML: "", configJSON: "{}",
                configHash: "h", codeVersion: "test")
        }
        func checkpointed(_ experiment: String, seed: Int64) throws -> RunRecord {
            let r = try run(experiment, seed: seed)
            let episode = EpisodeRecord(
                runId: r.id!, split: .train, index: 0, firstTimestamp: 0, lastTimestamp: 1,
                steps: 1, totalReward: 0, finalEquity: 1, costs: 0, globalStep: 10,
                actionsHash: "h")
            try store.writeEpisode(episode, steps: [])
            let folder = "\(dir)/checkpoints/\(r.name)/step-10"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let files = ["network.safetensors", "state.json"].map { folder + "/" + $0 }
            for f in files { try Data("x".utf8).write(to: URL(fileURLWithPath: f)) }
            try store.addCheckpoint(runId: r.id!, globalStep: 10, files: files.map { ($0, "sha") })
            return r
        }
        let (kept, finished, failed) = (
            try checkpointed("alpha", seed: 1), try checkpointed("alpha", seed: 2),
            try checkpointed("alpha", seed: 3)
        )
        let interrupted = try run("beta", seed: 4)
        (self.kept, self.finished, self.failed, self.interrupted) = (kept, finished, failed, interrupted)
        live = try run("beta", seed: 5)
        try store.finishRun(kept.id!)
        try store.finishRun(finished.id!)
        try store.failRun(failed.id!, message: "boom")
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        try store.pool.write { db in
            try db.execute(
                sql: "UPDATE run SET ownerPid = ? WHERE id = ?",
                arguments: [gone.processIdentifier, interrupted.id!])
        }
    }

    var storePath: String { dir + "/runs.sqlite" }
    func checkpointFolder(_ run: RunRecord) -> String { "\(dir)/checkpoints/\(run.name)" }
    func remainingIds() throws -> [Int64] { try store.runs().map { $0.id! } }
    func rm(_ args: [String]) throws -> CLIResult { try runCLI(["runs", "rm", "--store", storePath] + args) }
}

@Test func runsRmOffATerminalWithoutYesDeletesNothing() throws {
    let f = try RunsFixture()
    let r = try f.rm(["\(f.failed.id!)"])
    #expect(r.failsWithOneErrorLine, "\(r.stderr)")
    #expect(r.stderr.contains("pass --yes"), "\(r.stderr)")
    #expect(try f.remainingIds() == [f.kept, f.finished, f.failed, f.interrupted, f.live].map { $0.id! })
    #expect(FileManager.default.fileExists(atPath: f.checkpointFolder(f.failed) + "/step-10/state.json"))
}

@Test func runsRmWithYesDeletesTheRowsAndFilesOfExactlyTheNamedRuns() throws {
    let f = try RunsFixture()
    try FileManager.default.removeItem(atPath: f.checkpointFolder(f.finished) + "/step-10/state.json")
    let r = try f.rm(["\(f.failed.id!)", f.finished.name, "--yes"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("deleted run \(f.failed.id!) (\(f.failed.name)) and 2 checkpoint files\n"), "\(r.stdout)")
    #expect(
        r.stdout.contains(
            "deleted run \(f.finished.id!) (\(f.finished.name)) and 1 checkpoint file (1 already gone)\n"),
        "\(r.stdout)")
    #expect(try f.remainingIds() == [f.kept, f.interrupted, f.live].map { $0.id! })
    #expect(try f.store.episodes(runId: f.kept.id!).count == 1)
    #expect(try f.store.checkpoints(runId: f.kept.id!).count == 2)
    #expect(try f.store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM episode") } == 1)
    for gone in [f.failed, f.finished] {
        #expect(!FileManager.default.fileExists(atPath: f.checkpointFolder(gone)))
    }
    #expect(FileManager.default.fileExists(atPath: f.checkpointFolder(f.kept) + "/step-10/network.safetensors"))
    #expect(FileManager.default.fileExists(atPath: f.checkpointFolder(f.kept) + "/step-10/state.json"))
}

@Test func runsRmStatusInterruptedRemovesAnInterruptedRunThatHasNoCheckpoint() throws {
    let f = try RunsFixture()
    #expect(try f.store.run(id: f.interrupted.id!).status == .interrupted)
    #expect(try f.store.latestCheckpoint(runId: f.interrupted.id!) == nil)
    let r = try f.rm(["--status", "interrupted", "--yes"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("deleted run \(f.interrupted.id!) (\(f.interrupted.name)) and 0 checkpoint files"))
    #expect(try f.remainingIds() == [f.kept, f.finished, f.failed, f.live].map { $0.id! })
}

@Test func runsRmRefusesARunWhoseProcessIsAliveAndDeletesNothing() throws {
    let f = try RunsFixture()
    let r = try f.rm(["\(f.failed.id!)", "\(f.live.id!)", "--yes"])
    #expect(r.failsWithOneErrorLine, "\(r.stderr)")
    #expect(r.stderr.contains("run \(f.live.id!) (\(f.live.name)) is running"), "\(r.stderr)")
    #expect(try f.remainingIds().count == 5)
    #expect(FileManager.default.fileExists(atPath: f.checkpointFolder(f.failed) + "/step-10/state.json"))
}

@Test(arguments: [["--status", "finished", "--yes"], ["--yes"]])
func runsRmBadSelectionGivesOneErrorLine(args: [String]) throws {
    let f = try RunsFixture()
    let r = try f.rm(args)
    #expect(r.failsWithOneErrorLine, "\(r.stderr)")
    #expect(try f.remainingIds().count == 5)
}

/// `--status` takes the statuses deleted by status, and its help lists those alone.
@Test func runsRmStatusNamesOnlyInterruptedAndFailed() throws {
    let help = try runCLI(["runs", "rm", "--help"])
    #expect(help.stdout.contains("interrupted, failed)") && !help.stdout.contains("finished"), "\(help.stdout)")
    let r = try runCLI(["runs", "rm", "--status", "finished", "--yes", "--store", "/nonexistent/runs.sqlite"])
    #expect(r.failsWithOneErrorLine && r.stderr.contains("'interrupted' and 'failed'"), "\(r.stderr)")
}

@Test func runsExperimentTakesTheExperimentFileAsCompareDoes() throws {
    let f = try RunsFixture()
    for experiment in ["alpha", "experiments/alpha.yaml", "/elsewhere/alpha.yaml"] {
        for command in [["runs"], ["runs", "list"]] {
            let r = try runCLI(command + ["--store", f.storePath, "--experiment", experiment])
            #expect(r.status == 0, "\(r.stderr)")
            let listed = r.stdout.split(separator: "\n").dropFirst(2).compactMap { $0.split(separator: " ").first }
            #expect(listed == [f.kept, f.finished, f.failed].map { "\($0.id!)" }, "\(experiment): \(r.stdout)")
        }
    }
}
