import Foundation
import RLCore
import Testing

@testable import RunStore

/// Starts `tradesim args…` without waiting for it.
func startCLI(_ args: [String]) throws -> Process {
    let p = Process()
    p.environment = ProcessInfo.processInfo.environment.merging(["OPENBLAS_NUM_THREADS": "1"]) { $1 }
    p.executableURL = URL(fileURLWithPath: tradesimBinary)
    p.arguments = args
    p.currentDirectoryURL = URL(fileURLWithPath: repoRoot)
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    return p
}

/// SIGKILL at random points of a training run (every step row logged, a checkpoint every 128 steps): the store passes
/// `PRAGMA integrity_check`, every committed episode is whole, `tradesim runs` shows the run `interrupted`, and
/// `train --resume` finishes it with the same final weights as a run that was never killed. On SQLite and PostgreSQL.
@Test(arguments: StoreKind.all) func trainingKilledAtRandomPointsLeavesAResumableStore(_ kind: StoreKind) throws {
    let steps = 2_048
    var urls: [String] = []
    defer { urls.forEach(dropPostgresTestStore) }
    func experiment() throws -> (dir: String, experiment: String, store: String) {
        let t = try checkpointingExperiment(steps: steps)
        let text = try String(contentsOfFile: t.experiment, encoding: .utf8)
            .replacingOccurrences(of: "checkpointEvery: 256", with: "checkpointEvery: 128\nlogEvery: 1")
        try text.write(toFile: t.experiment, atomically: true, encoding: .utf8)
        guard kind == .postgres, let url = postgresTestStore("crash") else { return t }
        urls.append(url)
        return try useStore(url, in: t)
    }
    let whole = try experiment()
    #expect(try runCLI(["train", whole.experiment]).status == 0)
    let reference = try finalNetworkHash(try RunStore(path: whole.store))

    var rng = Xoshiro256(seed: 2026)
    for seed in 0..<3 {
        let cut = try experiment()
        let p = try startCLI(["train", cut.experiment])
        // Once the second checkpoint folder exists (so the first one's rows are committed), wait a random fraction of
        // twice the time the run took from the first to the second, and kill, wherever the run is: inside an episode,
        // a checkpoint, or between them (at least 3/4 of the run remain).
        let deadline = Date().addingTimeInterval(300)
        var first: Date?
        while Date() < deadline && p.isRunning {
            let runs = (try? FileManager.default.contentsOfDirectory(atPath: cut.dir + "/checkpoints")) ?? []
            let folder = runs.first.map { cut.dir + "/checkpoints/\($0)/step-" }
            if let folder, first == nil, FileManager.default.fileExists(atPath: folder + "128") { first = Date() }
            if let folder, FileManager.default.fileExists(atPath: folder + "256") { break }
            usleep(2_000)
        }
        // (at least 10 ms, should both folders have appeared between two polls)
        let interval = max(Date().timeIntervalSince(first ?? Date()), 0.01)
        usleep(UInt32(Double.random(in: 0..<(2 * interval), using: &rng) * 1e6))
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal, "seed \(seed): the run finished before it could be killed")
        if p.terminationReason != .uncaughtSignal { continue }

        let store = try RunStore(path: cut.store)
        #expect(try store.integrityCheck() == "ok", "seed \(seed)")
        let run = try #require(try store.runs().first)
        #expect(run.status == .interrupted, "seed \(seed)")
        let listed = try runCLI(["runs", "--store", cut.store])
        #expect(listed.stdout.contains("interrupted"), "\(listed.stdout)")
        for e in try store.episodes(runId: run.id!) {
            #expect(
                try store.steps(episodeId: e.id!).count == Int(e.steps), "seed \(seed): episode \(e.id!) is not whole")
        }
        let orphans = try store.backend.read { db in
            try db.count("SELECT COUNT(*) FROM step WHERE episodeId NOT IN (SELECT id FROM episode)")
        }
        #expect(orphans == 0)
        // A checkpoint's files are recorded together or not at all.
        let perStep = Dictionary(grouping: try store.checkpoints(runId: run.id!), by: \.globalStep).mapValues(\.count)
        #expect(Set(perStep.values).count <= 1, "seed \(seed): \(perStep)")

        let resumed = try runCLI(["train", "--resume", "\(run.id!)", "--store", cut.store])
        #expect(resumed.status == 0, "seed \(seed): \(resumed.stderr)")
        #expect(try store.run(id: run.id!).status == .finished)
        #expect(try finalNetworkHash(store).sha == reference.sha, "seed \(seed)")
        let indices = try store.episodes(runId: run.id!, split: .train).map(\.index)
        #expect(indices == Array(0..<Int64(indices.count)))
    }
}

/// Several processes creating the same new store at the same instant all succeed: the WAL switch (SQLite), the schema
/// (PostgreSQL) and the migrations are serialised, every run is stored.
@Test(arguments: StoreKind.all) func processesCreatingOneNewStoreAtOnceAllSucceed(_ kind: StoreKind) throws {
    let t = try tinyExperiment(steps: 1)
    let text = try String(contentsOfFile: t.experiment, encoding: .utf8).replacingOccurrences(
        of: "evaluateOn: [validation]", with: "evaluateOn: []")
    try text.write(toFile: t.experiment, atomically: true, encoding: .utf8)
    for round in 0..<3 {
        let url = kind == .postgres ? postgresTestStore("new\(round)") : nil
        defer { dropPostgresTestStore(url) }
        let store = url ?? t.dir + "/new-\(round)/runs.sqlite"
        let processes = (1...4).map { seed in
            let p = Process()
            p.environment = ProcessInfo.processInfo.environment.merging(["OPENBLAS_NUM_THREADS": "1"]) { $1 }
            p.executableURL = URL(fileURLWithPath: tradesimBinary)
            p.arguments =
                ["train", t.experiment, "--seed", "\(seed)", "--store", store]
                + (url == nil ? [] : ["--checkpoints", t.dir + "/checkpoints"])
            let err = Pipe()
            p.standardOutput = FileHandle.nullDevice
            p.standardError = err
            return (p, err)
        }
        for (p, _) in processes { try p.run() }
        for (p, err) in processes {
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "round \(round): \(message)")
        }
        let runs = try RunStore(path: store).runs()
        #expect(Set(runs.map(\.seed)) == [1, 2, 3, 4], "round \(round)")
        #expect(runs.allSatisfy { $0.status == .finished })
    }
}

/// `train --resume` of a run whose process is alive (this test's) is refused with one line.
@Test(arguments: StoreKind.all) func resumingARunningRunIsOneErrorLine(_ kind: StoreKind) throws {
    let dir = try temporaryDirectory()
    let url = kind == .postgres ? postgresTestStore("live") : nil
    defer { dropPostgresTestStore(url) }
    let path = url ?? dir + "/runs.sqlite"
    let store = try RunStore(path: path)
    let live = try store.createRun(
        experiment: "x", agent: "dqn", seed: 1, experimentYAML: "", configJSON: "{}", configHash: "0",
        codeVersion: "test")
    let r = try runCLI(["train", "--resume", "\(live.id!)", "--store", path])
    #expect(r.status != 0 && r.stderrLines.count == 1 && r.stderr.contains("is still running"), "\(r.stderr)")
}
