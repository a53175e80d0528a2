import Foundation
import Testing

@testable import RunStore

/// Agent overrides of the tiny experiments: small networks and buffers so a debug build trains in seconds.
let tinyAgents = [
    "ppo": "encoder: {embedding: 8, hidden: 8}\n    numEnvs: 2\n    nSteps: 32\n    minibatchSize: 32\n    epochs: 2",
    "dqn":
        "encoder: {embedding: 8, hidden: 8}\n    learningStarts: 100\n    batchSize: 16\n    bufferSize: 1000\n    "
        + "targetUpdateInterval: 100",
]

/// A tiny experiment that checkpoints every 256 steps, in its own folder (store and checkpoints inside).
func checkpointingExperiment(steps: Int, algo: String = "ppo") throws -> (
    dir: String, experiment: String, store: String
) {
    let dir = try temporaryDirectory()
    let yaml = """
        environment: \(repoRoot)/environments/sp500-daily.yaml
        agent: \(repoRoot)/agents/\(algo)-lstm.yaml
        seeds: [5]
        steps: \(steps)
        checkpointEvery: 256
        evaluateOn: [validation]
        store: \(dir)/runs.sqlite
        checkpoints: \(dir)/checkpoints
        overrides:
          environment:
            market: {window: 8, episode: {length: 60}}
          agent:
            \(tinyAgents[algo]!)
        """
    try yaml.write(toFile: dir + "/ppo.yaml", atomically: true, encoding: .utf8)
    return (dir, dir + "/ppo.yaml", dir + "/runs.sqlite")
}

/// The SHA-256 recorded for the final network file of the store's only run.
func finalNetworkHash(_ store: RunStore) throws -> (step: Int64, sha: String) {
    let run = try #require(try store.runs().first)
    let last = try #require(try store.checkpoints(runId: run.id!).last { $0.file.hasSuffix("network.safetensors") })
    return (last.globalStep, last.sha256)
}

@Test(arguments: ["ppo", "dqn"])
func killedRunResumesToTheSameWeightsAsAnUninterruptedRun(algo: String) throws {
    let steps = 2_048
    let whole = try checkpointingExperiment(steps: steps, algo: algo)
    let r = try runCLI(["train", whole.experiment])
    #expect(r.status == 0, "\(r.stderr)")
    let reference = try finalNetworkHash(try RunStore(path: whole.store))
    #expect(reference.step == Int64(steps))

    // Start the same experiment elsewhere and SIGKILL it once it has written its first checkpoint.
    let cut = try checkpointingExperiment(steps: steps, algo: algo)
    let p = Process()
    p.environment = ProcessInfo.processInfo.environment.merging(["OPENBLAS_NUM_THREADS": "1"]) { $1 }
    p.executableURL = URL(fileURLWithPath: tradesimBinary)
    p.arguments = ["train", cut.experiment]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    // Poll the file system, not the store (opening the store would take locks the run needs): once the second
    // checkpoint folder exists, the first checkpoint's rows are committed.
    let deadline = Date().addingTimeInterval(300)
    while Date() < deadline && p.isRunning {
        let runs = (try? FileManager.default.contentsOfDirectory(atPath: cut.dir + "/checkpoints")) ?? []
        if let run = runs.first, FileManager.default.fileExists(atPath: cut.dir + "/checkpoints/\(run)/step-512") {
            kill(p.processIdentifier, SIGKILL)
            break
        }
        usleep(5_000)
    }
    p.waitUntilExit()
    #expect(p.terminationReason == .uncaughtSignal, "the run finished before it could be killed")

    let store = try RunStore(path: cut.store)
    #expect(try store.integrityCheck() == "ok")
    let run = try #require(try store.runs().first)
    #expect(run.status == .interrupted)  // its process is gone
    let killedAt = try #require(try store.latestCheckpoint(runId: run.id!)).globalStep
    #expect(killedAt >= 256 && killedAt < Int64(steps))
    // Every episode committed before the kill is there, whole: up to the checkpoint they equal the uninterrupted run's.
    let wholeStore = try RunStore(path: whole.store)
    let wholeRun = try #require(try wholeStore.runs().first)
    func upTo(_ s: RunStore, _ id: Int64) throws -> [String] {
        try s.episodes(runId: id, split: .train).filter { $0.globalStep <= killedAt }.map {
            "\($0.globalStep):\($0.actionsHash):\($0.finalEquity)"
        }
    }
    #expect(try !upTo(store, run.id!).isEmpty)
    #expect(try upTo(store, run.id!) == upTo(wholeStore, wholeRun.id!))
    // A temporary file a killed process left in a checkpoint's folder does not become part of the checkpoint.
    let last = cut.dir + "/checkpoints/\(run.name)/step-\(steps)"
    try FileManager.default.createDirectory(atPath: last, withIntermediateDirectories: true)
    try Data("partial".utf8).write(to: URL(fileURLWithPath: last + "/.dat.nosync1A2B.x"))
    let resumed = try runCLI(["train", "--resume", "\(run.id!)", "--store", cut.store, "--report", cut.dir + "/r.md"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    // It ends as `train` does: the comparison with the baselines and the report.
    #expect(
        resumed.stdout.contains("validation split, greedy policy vs baselines") && resumed.stdout.contains("buyAndHold")
    )
    #expect(try String(contentsOfFile: cut.dir + "/r.md", encoding: .utf8).contains("run `\(run.name)`: finished"))
    #expect(try store.run(id: run.id!).status == .finished)
    let after = try finalNetworkHash(store)
    #expect(after.step == reference.step)
    #expect(after.sha == reference.sha)
    let recorded = try store.checkpoints(runId: run.id!).filter { $0.globalStep == Int64(steps) }.map(\.file)
    #expect(!recorded.isEmpty && !recorded.contains { $0.contains("nosync") }, "\(recorded)")
    // no duplicate training episodes: indices are 0..<n
    let indices = try store.episodes(runId: run.id!, split: .train).map(\.index)
    #expect(indices == Array(0..<Int64(indices.count)))
}

@Test func corruptCheckpointIsRefusedWithOneLine() throws {
    let t = try checkpointingExperiment(steps: 256)
    #expect(try runCLI(["train", t.experiment]).status == 0)
    let store = try RunStore(path: t.store)
    let run = try #require(try store.runs().first)
    try store.setStatus(ofRun: run.id!, to: .interrupted)
    let file = try #require(try store.checkpoints(runId: run.id!).first { $0.file.hasSuffix("network.safetensors") })
        .file
    var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
    bytes[bytes.count - 1] ^= 0xff
    try bytes.write(to: URL(fileURLWithPath: file))
    let r = try runCLI(["train", "--resume", "\(run.id!)", "--store", t.store])
    #expect(r.status != 0)
    #expect(r.stderrLines.count == 1, "\(r.stderr)")
    #expect(r.stderr.contains(file) && r.stderr.contains("checksum mismatch"))
    #expect(try store.run(id: run.id!).status == .interrupted)  // untouched
}

/// A checkpoint that passes its checksum but cannot be loaded (a file damaged before its SHA-256 was recorded) fails
/// the resume in one line before anything is removed: the rows logged after the checkpoint (which a resume deletes and
/// logs again) stay, and so does the run's status.
@Test func aResumeWhoseCheckpointCannotBeLoadedRemovesNoRow() throws {
    let t = try checkpointingExperiment(steps: 512)
    #expect(try runCLI(["train", t.experiment]).status == 0)
    let store = try RunStore(path: t.store)
    let run = try #require(try store.runs().first)
    try store.setStatus(ofRun: run.id!, to: .interrupted)
    // The run as if killed before its checkpoint at step 512: the latest is step 256's, with rows logged after it.
    #expect(try store.backend.write { db in try db.execute("DELETE FROM checkpoint WHERE globalStep = 512", []) } > 0)
    let file = try #require(try store.checkpoints(runId: run.id!).last { $0.file.hasSuffix("network.safetensors") })
        .file
    #expect(file.contains("step-256"))
    #expect(try store.episodes(runId: run.id!, split: .train).contains { $0.globalStep > 256 })
    let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
    try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: file))
    try rerecordChecksum(of: file, store: t.store)
    let before = try StoreSnapshot(t.store)
    #expect(before.counts["episode"]! > 0 && before.counts["step"]! > 0)

    let r = try runCLI(["train", "--resume", "\(run.id!)", "--store", t.store])
    #expect(r.failsWithOneErrorLine, "\(r.stderr)")
    #expect(r.stderr.contains("cannot restore the agent"), "\(r.stderr)")
    #expect(try StoreSnapshot(t.store) == before)
}

/// A run killed after its last checkpoint (in its final evaluations, or after `patience` stopped it early) resumes to
/// the rows of the run that was not killed: the final evaluations are not logged twice, and training does not go on
/// past the early stop. The kill is the state it leaves: every row written, the run not marked finished.
@Test(arguments: [0, 1])
func aRunKilledAfterItsLastCheckpointResumesToTheSameRows(patience: Int) throws {
    let t = patience == 0 ? try tinyExperiment(steps: 400) : try selectingExperiment(patience: patience)
    try (String(contentsOfFile: t.experiment, encoding: .utf8) + "\ntensorboard: \(t.dir)/tb\n")
        .write(toFile: t.experiment, atomically: true, encoding: .utf8)
    let trained = try runCLI(["train", t.experiment])
    #expect(trained.status == 0, "\(trained.stderr)")
    let store = try RunStore(path: t.store)
    let run = try #require(try store.runs().first)
    if patience > 0 { #expect(trained.stderr.contains("stopped early"), "\(trained.stderr)") }
    /// The run's episodes, checkpoints and metrics (with the values of the evaluations, not of the wall times).
    func rows() throws -> [String] {
        try store.episodes(runId: run.id!).map { "\($0.split) \($0.index) \($0.globalStep) \($0.actionsHash)" }
            + store.checkpoints(runId: run.id!).map { "\($0.globalStep) \($0.sha256)" }
            + store.metrics(runId: run.id!).map {
                "\($0.key) \($0.globalStep) \($0.key.hasPrefix("eval/") ? $0.value : 0)"
            }
    }
    let before = try rows()
    try store.setStatus(ofRun: run.id!, to: .interrupted)
    let resumed = try runCLI(["train", "--resume", "\(run.id!)", "--store", t.store])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(try rows() == before)
    let after = try store.run(id: run.id!)
    #expect(after.status == .finished && after.policyStep == run.policyStep)
    // The resumed process's event file starts its session at the checkpoint's step, and holds every row the store has
    // at that step: those kept from before the checkpoint, logged again, and the final evaluations.
    let folder = URL(fileURLWithPath: t.dir + "/tb/" + run.name)
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    let step = try #require(try store.latestCheckpoint(runId: run.id!)).globalStep
    #expect(files.count == 2)
    let events = try readEventFile(folder.appendingPathComponent(try #require(files.last)))
    #expect(events.count > 1 && events[1].sessionStart && events[1].step == step)
    let atStep = events.filter { $0.step == step }.flatMap(\.scalars).map(\.tag).sorted()
    let stored = try store.metrics(runId: run.id!).filter { $0.globalStep == step }.map(\.key).sorted()
    #expect(atStep == stored, "\(atStep) \(stored)")
}
