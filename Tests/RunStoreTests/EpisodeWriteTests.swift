import Foundation
import GRDB
import Testing

@testable import RunStore

@Suite struct EpisodeWriteTests {
    @Test(arguments: Backend.all) func failedEpisodeWriteLeavesNothing(_ backend: Backend) throws {
        let stores = try TestStores(backend)
        let store = try RunStore(path: stores.path("atomic.sqlite"))
        let path = store.path
        let run = try makeRun(store)
        let first = try store.writeEpisode(
            makeEpisode(runId: run.id!, index: 0), steps: makeSteps(50), trades: makeTrades(3),
            metrics: makeMetrics(globalStep: 1_000))

        // The last of 50 steps has a NaN reward: the episode row, 49 steps, the trades and metrics must all be rolled
        // back.
        var steps = makeSteps(50)
        steps[49].reward = .nan
        #expect(
            throws: RunStoreError(
                path: path,
                reason:
                    "cannot write episode train #1 of run \(run.id!): "
                    + "a value is NaN or missing (NOT NULL constraint failed: step.reward)"
            )
        ) {
            try store.writeEpisode(
                makeEpisode(runId: run.id!, index: 1), steps: steps, trades: makeTrades(3),
                metrics: makeMetrics(globalStep: 2_000))
        }
        // A duplicate bar index fails the same way.
        var duplicate = makeSteps(10)
        duplicate[9].barIndex = 0
        let reason =
            "cannot write episode train #1 of run \(run.id!): "
            + "UNIQUE constraint failed: step.episodeId, step.barIndex"
        #expect(throws: RunStoreError(path: path, reason: reason)) {
            try store.writeEpisode(makeEpisode(runId: run.id!, index: 1), steps: duplicate)
        }
        #expect(try store.episodes(runId: run.id!).map(\.id) == [first])
        #expect(try scalar(store, "SELECT COUNT(*) FROM step") == 50)
        #expect(try scalar(store, "SELECT COUNT(*) FROM trade") == 3)
        #expect(try scalar(store, "SELECT COUNT(*) FROM metric") == 3)

        // The store keeps working after the failure.
        let next = try store.writeEpisode(makeEpisode(runId: run.id!, index: 1), steps: makeSteps(50))
        #expect(try store.steps(episodeId: next).count == 50)
        #expect(try store.integrityCheck() == "ok")
    }

    /// A step row needs its episode, and deleting an episode deletes its steps (on PostgreSQL by statement-level
    /// triggers, see `RunStoreSchema.postgresStepReference`).
    @Test(arguments: Backend.all) func stepsBelongToAnEpisode(_ backend: Backend) throws {
        let stores = try TestStores(backend)
        let store = try RunStore(path: stores.path("keys.sqlite"))
        let run = try makeRun(store)
        let kept = try store.writeEpisode(makeEpisode(runId: run.id!, index: 0), steps: makeSteps(7))
        let gone = try store.writeEpisode(makeEpisode(runId: run.id!, index: 1), steps: makeSteps(5))
        #expect(throws: RunStoreError(path: store.path, reason: "orphan: FOREIGN KEY constraint failed")) {
            try store.write("orphan") { db in try db.insertSteps(makeSteps(3, firstBar: 100), episodeId: gone + 100) }
        }
        try execute(store, "DELETE FROM episode WHERE id = ?", sqlArguments(gone))
        #expect(try scalar(store, "SELECT COUNT(*) FROM step") == 7)
        #expect(try scalar(store, "SELECT COUNT(*) FROM step WHERE episodeId = ?", sqlArguments(kept)) == 7)
        #expect(try store.integrityCheck() == "ok")
    }

    @Test(arguments: Backend.all) func partialAndEmptyStepLists(_ backend: Backend) throws {
        let stores = try TestStores(backend)
        let store = try RunStore(path: stores.path("partial.sqlite"))
        let run = try makeRun(store)
        // Every 10th step of a 1000-step episode (decimated by the caller), and an episode stored without steps.
        let decimated = makeSteps(1_000).enumerated().filter { $0.offset % 10 == 0 }.map(\.element)
        let a = try store.writeEpisode(makeEpisode(runId: run.id!, index: 0, steps: 1_000), steps: decimated)
        let b = try store.writeEpisode(makeEpisode(runId: run.id!, index: 1, steps: 1_000), steps: [])
        #expect(try store.steps(episodeId: a).map(\.barIndex) == Array(stride(from: 0, to: 1_000, by: 10)))
        #expect(try store.steps(episodeId: b) == [])
        #expect(try store.episodes(runId: run.id!).map(\.steps) == [1_000, 1_000])
    }

    @Test(arguments: Backend.all) func writesSurviveReopening(_ backend: Backend) throws {
        let stores = try TestStores(backend)
        let path = stores.path("reopen.sqlite")
        var ids: [Int64] = []
        var runId: Int64 = 0
        do {
            let store = try RunStore(path: path)
            runId = try makeRun(store).id!
            for i in 0..<5 {
                ids.append(try store.writeEpisode(makeEpisode(runId: runId, index: Int64(i)), steps: makeSteps(20)))
            }
        }
        let reopened = try RunStore(path: path)
        #expect(try reopened.episodes(runId: runId).map(\.id!) == ids)
        #expect(try scalar(reopened, "SELECT COUNT(*) FROM step") == 100)
    }
}
