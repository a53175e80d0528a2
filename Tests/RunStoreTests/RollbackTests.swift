import Foundation
import Testing

@testable import RunStore

@Test(arguments: Backend.all) func rollbackRemovesOnlyWhatCameAfterTheStep(_ backend: Backend) throws {
    let stores = try TestStores(backend)
    let store = try RunStore(path: stores.path("r.sqlite"))
    let run = try makeRun(store), other = try makeRun(store, seed: 8)
    for (k, step) in [100, 200, 300].enumerated() {
        var e = makeEpisode(runId: run.id!, index: Int64(k))
        e.globalStep = Int64(step)
        try store.writeEpisode(
            e, steps: makeSteps(5), trades: makeTrades(2), metrics: makeMetrics(globalStep: Int64(step)))
        try store.addCheckpoint(runId: run.id!, globalStep: Int64(step), file: "c\(step)", sha256: "x")
    }
    var kept = makeEpisode(runId: other.id!)
    kept.globalStep = 300
    try store.writeEpisode(kept, steps: makeSteps(5))
    #expect(try store.rollback(runId: run.id!, after: 150) == 2)
    #expect(try store.episodes(runId: run.id!).map(\.globalStep) == [100])
    #expect(try store.metrics(runId: run.id!).allSatisfy { $0.globalStep <= 150 })
    #expect(try store.latestCheckpoint(runId: run.id!)?.globalStep == 100)
    #expect(try store.episodes(runId: other.id!).count == 1)
    #expect(try scalar(store, "SELECT COUNT(*) FROM step") == 10)  // the kept episodes' steps only
    #expect(try store.integrityCheck() == "ok")
}

/// With the rows the run had at its checkpoint, a rollback deletes every row logged later, at the checkpoint's step
/// too (a final evaluation after the last checkpoint), and keeps the earlier ones.
@Test(arguments: Backend.all) func rollbackToACheckpointsRowsRemovesLaterRowsAtItsStep(_ backend: Backend) throws {
    let stores = try TestStores(backend)
    let store = try RunStore(path: stores.path("r.sqlite"))
    let run = try makeRun(store), other = try makeRun(store, seed: 8)
    var episode = makeEpisode(runId: run.id!)
    episode.globalStep = 100
    let kept = try store.writeEpisode(episode, steps: makeSteps(5), metrics: makeMetrics(globalStep: 100))
    try store.addCheckpoint(runId: run.id!, globalStep: 100, file: "c100", sha256: "x")
    let logged = try store.loggedRows(runId: run.id!)
    #expect(logged == LoggedRows(episodes: 1, metrics: makeMetrics(globalStep: 100).count))
    episode.index = 1
    try store.writeEpisode(episode, steps: makeSteps(5), metrics: makeMetrics(globalStep: 100))
    try store.writeEpisode(makeEpisode(runId: other.id!), steps: makeSteps(5), metrics: makeMetrics(globalStep: 100))
    #expect(try store.rollback(runId: run.id!, after: 100, keeping: logged) == 1)
    #expect(try store.loggedRows(runId: run.id!) == logged)
    #expect(try store.episodes(runId: run.id!).map(\.id) == [kept])
    #expect(try store.latestCheckpoint(runId: run.id!)?.globalStep == 100)
    #expect(try store.loggedRows(runId: other.id!) == logged)
}
