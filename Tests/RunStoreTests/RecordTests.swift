import Foundation
import GRDB
import Testing

@testable import RunStore

/// Every table: what goes in through the store API comes back equal, and the Codable records map onto the columns
/// (inserted with GRDB's record `insert`, read back with the store API and vice versa).
@Suite struct RecordTests {
    @Test(arguments: Backend.all) func runRoundTrip(_ backend: Backend) throws {
        let stores = try TestStores(backend)
        let store = try RunStore(path: stores.path("runs.sqlite"))
        let startedAt = Date(timeIntervalSince1970: 1_763_900_000.25)
        let run = try makeRun(store, startedAt: startedAt)
        #expect(run.id != nil)
        #expect(run.name == "spy-daily__dqn__7__1763900000")
        #expect(run.status == .running)
        #expect(run.startedAt == startedAt)
        #expect(run.endedAt == nil)
        #expect(run.experimentYAML == "environment: spy\nagent: dqn # comment kept\n")
        #expect(try store.run(id: run.id!) == run)

        let endedAt = Date(timeIntervalSince1970: 1_763_903_600.5)
        try store.failRun(run.id!, message: "loss is NaN at step 1200", endedAt: endedAt)
        var failed = run
        failed.status = .failed
        failed.endedAt = endedAt
        failed.message = "loss is NaN at step 1200"
        #expect(try store.run(id: run.id!) == failed)

        try store.finishRun(run.id!, endedAt: endedAt)
        #expect(try store.run(id: run.id!).status == .finished)
        #expect(try store.run(id: run.id!).message == nil)

        // A record inserted by GRDB directly reads back through the store.
        let direct = RunRecord(
            id: 100, name: "x__ppo__1__2", experiment: "x", agent: "ppo", experimentYAML: "a: 1",
            configJSON: "{}", configHash: "h", codeVersion: "v", seed: -3, status: .interrupted,
            startedAt: Date(timeIntervalSince1970: 5), endedAt: Date(timeIntervalSince1970: 6),
            message: "killed")
        try store.backend.write { db in _ = try db.insert(direct, into: "run") }
        #expect(try store.run(id: 100) == direct)
    }

    @Test(arguments: Backend.all) func sameNameGetsSuffix(_ backend: Backend) throws {
        let stores = try TestStores(backend)
        let store = try RunStore(path: stores.path("runs.sqlite"))
        let a = try makeRun(store)
        let b = try makeRun(store)
        let c = try makeRun(store)
        #expect(
            [a.name, b.name, c.name] == [
                "spy-daily__dqn__7__1763900000", "spy-daily__dqn__7__1763900000-2",
                "spy-daily__dqn__7__1763900000-3",
            ])
    }

    @Test(arguments: Backend.all) func listAndFindRuns(_ backend: Backend) throws {
        let stores = try TestStores(backend)
        let path = stores.path("runs.sqlite")
        let store = try RunStore(path: path)
        let a = try makeRun(store, experiment: "spy", agent: "dqn", seed: 1)
        let b = try makeRun(store, experiment: "spy", agent: "ppo", seed: 1)
        let c = try makeRun(store, experiment: "qqq", agent: "dqn", seed: 2)
        try store.finishRun(b.id!)
        #expect(try store.runs().map(\.id) == [a.id, b.id, c.id])
        #expect(try store.runs(experiment: "spy").map(\.id) == [a.id, b.id])
        #expect(try store.runs(status: .running).map(\.id) == [a.id, c.id])
        #expect(try store.runs(experiment: "spy", status: .finished).map(\.id) == [b.id])
        #expect(try store.run(namePrefix: "spy__ppo").id == b.id)
        #expect(try store.run(reference: "qqq").id == c.id)
        #expect(try store.run(reference: "\(a.id!)").id == a.id)
        #expect(throws: RunStoreError(path: path, reason: "'spy__' matches 2 runs: \(a.name), \(b.name)")) {
            try store.run(namePrefix: "spy__")
        }
        #expect(throws: RunStoreError(path: path, reason: "no run named 'nope…'")) { try store.run(namePrefix: "nope") }
    }

    @Test(arguments: Backend.all) func unknownIdsAreClearErrors(_ backend: Backend) throws {
        let stores = try TestStores(backend)
        let path = stores.path("runs.sqlite")
        let store = try RunStore(path: path)
        let noRun = RunStoreError(path: path, reason: "no run with id 42")
        #expect(throws: noRun) { try store.run(id: 42) }
        #expect(throws: noRun) { try store.run(reference: "42") }
        #expect(throws: noRun) { try store.episodes(runId: 42) }
        #expect(throws: noRun) { try store.metrics(runId: 42) }
        #expect(throws: noRun) { try store.latestCheckpoint(runId: 42) }
        #expect(throws: noRun) { try store.finishRun(42) }
        #expect(throws: noRun) { try store.writeEpisode(makeEpisode(runId: 42), steps: makeSteps(3)) }
        #expect(throws: noRun) {
            try store.appendMetrics(
                makeMetrics(globalStep: 1).map {
                    var m = $0; m.runId = 42; return m
                })
        }
        #expect(throws: noRun) { try store.addCheckpoint(runId: 42, globalStep: 1, file: "a", sha256: "b") }
        #expect(throws: noRun) { try store.export(runId: 42, what: .steps, format: .csv, to: FileHandle.nullDevice) }
        #expect(throws: RunStoreError(path: path, reason: "no episode with id 9")) { try store.steps(episodeId: 9) }
        #expect(try scalar(store, "SELECT COUNT(*) FROM episode") == 0)
    }

    @Test(arguments: Backend.all) func episodeStepTradeMetricRoundTrip(_ backend: Backend) throws {
        let stores = try TestStores(backend)
        let store = try RunStore(path: stores.path("runs.sqlite"))
        let run = try makeRun(store)
        let episode = makeEpisode(runId: run.id!, split: .validation, index: 3, steps: 40)
        let steps = makeSteps(40, firstBar: 100, multiAsset: true)
        let trades = makeTrades(9)
        let metrics = makeMetrics(globalStep: 4_000)
        let id = try store.writeEpisode(episode, steps: steps, trades: trades, metrics: metrics)

        var storedEpisode = episode
        storedEpisode.id = id
        #expect(try store.episodes(runId: run.id!) == [storedEpisode])
        #expect(try store.episodes(runId: run.id!, split: .validation) == [storedEpisode])
        #expect(try store.episodes(runId: run.id!, split: .train) == [])
        #expect(
            try store.steps(episodeId: id)
                == steps.map {
                    var s = $0; s.episodeId = id; return s
                })
        let storedTrades = try store.trades(episodeId: id)
        #expect(
            storedTrades.map {
                var t = $0; t.id = nil; return t
            }
                == trades.map {
                    var t = $0; t.episodeId = id; return t
                })
        let storedMetrics = try store.metrics(runId: run.id!)
        let expected = metrics.map {
            var m = $0; m.runId = run.id!; return m
        }.sorted { $0.key < $1.key }
        #expect(
            storedMetrics.map {
                var m = $0; m.id = nil; return m
            } == expected)
        #expect(storedMetrics.contains { $0.key == "losses/td" && $0.value.isNaN })
        #expect(try store.metrics(runId: run.id!, key: "charts/sps").map(\.value) == [1.0 / 3.0])

        // Records written by GRDB's record API read back through the store (the Codable mapping matches the columns).
        let direct = StepRecord(
            episodeId: id, barIndex: 999, timestamp: 5, action: 2, position: -1, fillPrice: 99.5,
            reward: -0.25, equity: 9_000, cost: 0.125)
        let directTrade = TradeRecord(
            id: 1_000, episodeId: id, barIndex: 999, timestamp: 5, asset: "QQQ", quantity: -2,
            price: 99.5, cost: 0.1)
        let directMetric = MetricRecord(id: 1_000, runId: run.id!, globalStep: 9, key: "zz", value: 2, wallTime: nil)
        try store.backend.write { db in
            try db.insert(direct, into: "step", returningID: false)
            try db.insert(directTrade, into: "trade")
            try db.insert(directMetric, into: "metric")
        }
        #expect(try store.steps(episodeId: id).last == direct)
        #expect(try store.trades(episodeId: id).last == directTrade)
        #expect(try store.metrics(runId: run.id!, key: "zz") == [directMetric])
    }

    @Test(arguments: Backend.all) func appendMetricsAndCheckpoints(_ backend: Backend) throws {
        let stores = try TestStores(backend)
        let store = try RunStore(path: stores.path("runs.sqlite"))
        let run = try makeRun(store)
        let other = try makeRun(store, seed: 8)
        let batch = (0..<500).map {
            MetricRecord(runId: run.id!, globalStep: Int64($0), key: "losses/td", value: Double($0) / 3)
        }
        try store.appendMetrics(batch)
        try store.appendMetrics([MetricRecord(runId: other.id!, globalStep: 1, key: "losses/td", value: 1)])
        #expect(try store.metrics(runId: run.id!).map(\.value) == batch.map(\.value))

        #expect(try store.latestCheckpoint(runId: run.id!) == nil)
        let createdAt = Date(timeIntervalSince1970: 1_763_900_123)
        // Files inside a SQLite store's folder are recorded relative to it and read back absolute; others stay as
        // given. A PostgreSQL store has no folder: every path stays as given.
        let folder = store.folder ?? stores.dir.path
        let inside = folder + "/checkpoints/a/step-1000/network.safetensors"
        let c1 = try store.addCheckpoint(
            runId: run.id!, globalStep: 1_000, file: inside, sha256: "aa", createdAt: createdAt)
        let c3 = try store.addCheckpoint(
            runId: run.id!, globalStep: 3_000, file: "/elsewhere/ckpt-3000.bin", sha256: "cc", createdAt: createdAt)
        let c2 = try store.addCheckpoint(
            runId: run.id!, globalStep: 2_000, file: folder + "/./b/../ckpt-2000.bin",
            sha256: "bb", createdAt: createdAt)
        try store.addCheckpoint(runId: other.id!, globalStep: 9_000, file: "/other", sha256: "dd", createdAt: createdAt)
        #expect(
            c1
                == CheckpointRecord(
                    id: c1.id, runId: run.id!, globalStep: 1_000, file: inside, sha256: "aa", createdAt: createdAt))
        #expect(c2.file == folder + (backend == .sqlite ? "/ckpt-2000.bin" : "/./b/../ckpt-2000.bin"))
        #expect(try store.latestCheckpoint(runId: run.id!) == c3)
        #expect(try store.checkpoints(runId: run.id!) == [c1, c2, c3])
        let recorded = try store.backend.read { db in
            try db.values(String.self, "SELECT file FROM checkpoint ORDER BY globalStep")
        }
        let firstTwo =
            backend == .sqlite
            ? ["checkpoints/a/step-1000/network.safetensors", "ckpt-2000.bin"]
            : [inside, folder + "/./b/../ckpt-2000.bin"]
        #expect(recorded == firstTwo + ["/elsewhere/ckpt-3000.bin", "/other"])
    }
}
