import Foundation
import GRDB
import Testing

@testable import RunStore

/// A run with one episode (steps, trades, metrics), a metric batch and a two-file checkpoint inside the store's folder.
private func filledRun(_ store: RunStore, _ dir: TemporaryDirectory, seed: Int64) throws -> RunRecord {
    let run = try makeRun(store, seed: seed)
    try store.writeEpisode(
        makeEpisode(runId: run.id!), steps: makeSteps(5), trades: makeTrades(2),
        metrics: makeMetrics(globalStep: 1_000))
    try store.appendMetrics(
        makeMetrics(globalStep: 2_000).map {
            var m = $0; m.runId = run.id!; return m
        })
    try store.addCheckpoint(
        runId: run.id!, globalStep: 1_000,
        files: [
            (dir.file("checkpoints/\(run.name)/step-1000/network.safetensors"), "a"),
            (dir.file("checkpoints/\(run.name)/step-1000/state.json"), "b"),
        ])
    return run
}

/// Rows of each table that belong to `runId`.
private func rowCounts(_ store: RunStore, runId: Int64) throws -> [Int] {
    [
        try scalar(store, "SELECT COUNT(*) FROM run WHERE id = ?", [runId.databaseValue]),
        try scalar(store, "SELECT COUNT(*) FROM episode WHERE runId = ?", [runId.databaseValue]),
        try scalar(
            store, "SELECT COUNT(*) FROM step JOIN episode e ON e.id = episodeId WHERE e.runId = ?",
            [runId.databaseValue]),
        try scalar(
            store, "SELECT COUNT(*) FROM trade JOIN episode e ON e.id = episodeId WHERE e.runId = ?",
            [runId.databaseValue]),
        try scalar(store, "SELECT COUNT(*) FROM metric WHERE runId = ?", [runId.databaseValue]),
        try scalar(store, "SELECT COUNT(*) FROM checkpoint WHERE runId = ?", [runId.databaseValue]),
    ]
}

@Test(arguments: Backend.all) func deleteRunRemovesItsRowsOnlyAndReturnsItsCheckpointFiles(_ backend: Backend) throws {
    let stores = try TestStores(backend), dir = stores.dir
    let store = try RunStore(path: stores.path("runs.sqlite"))
    let doomed = try filledRun(store, dir, seed: 1)
    let kept = try filledRun(store, dir, seed: 2)
    try store.failRun(doomed.id!, message: "boom")
    #expect(try rowCounts(store, runId: doomed.id!) == [1, 1, 5, 2, 6, 2])
    let before = try rowCounts(store, runId: kept.id!)

    let deleted = try store.deleteRun(id: doomed.id!)

    #expect(
        deleted
            == DeletedRun(files: [
                dir.file("checkpoints/\(doomed.name)/step-1000/network.safetensors"),
                dir.file("checkpoints/\(doomed.name)/step-1000/state.json"),
            ]))
    #expect(try rowCounts(store, runId: doomed.id!) == [0, 0, 0, 0, 0, 0])
    #expect(try rowCounts(store, runId: kept.id!) == before)
    #expect(try store.integrityCheck() == "ok")
}

@Test(arguments: Backend.all) func deleteRunLeavesTheSweepTrialWithoutItsRun(_ backend: Backend) throws {
    let stores = try TestStores(backend)
    let store = try RunStore(path: stores.path("runs.sqlite"))
    let run = try makeRun(store)
    try store.finishRun(run.id!)
    let sweep = try store.createSweep(
        SweepRecord(name: "s", experimentPath: "e.yaml", experimentYAML: "", definitionYAML: ""),
        trials: [
            TrialRecord(
                index: 0, configuration: 0, seed: 7, assignmentsJSON: "[]",
                configHash: "h")
        ])
    try execute(
        store, "UPDATE trial SET status = 'finished', runId = ? WHERE sweepId = ?",
        [run.id!.databaseValue, sweep.id!.databaseValue])
    #expect(try store.deleteRun(id: run.id!) == DeletedRun(files: []))
    #expect(try scalar(store, "SELECT COUNT(*) FROM trial WHERE runId IS NULL") == 1)
}

@Test(arguments: Backend.all) func deleteRunRefusesARunWhoseProcessIsAliveAndAnUnknownId(_ backend: Backend) throws {
    let stores = try TestStores(backend), dir = stores.dir
    let store = try RunStore(path: stores.path("runs.sqlite"))
    let run = try filledRun(store, dir, seed: 1)  // owned by this (living) process
    let owner = "process \(getpid()) on \(RunOwner.host)"
    let reason = "run \(run.id!) (\(run.name)) is running in \(owner); stop it first"
    let refusal = RunStoreError(path: store.path, reason: reason)
    #expect(throws: refusal) { try store.deleteRun(id: run.id!) }
    #expect(try rowCounts(store, runId: run.id!) == [1, 1, 5, 2, 6, 2])
    #expect(throws: RunStoreError(path: store.path, reason: "no run with id 99")) { try store.deleteRun(id: 99) }
}

@Test(arguments: Backend.all) func deleteRunKeepsAFileAnotherRunStillNames(_ backend: Backend) throws {
    let stores = try TestStores(backend), dir = stores.dir
    let store = try RunStore(path: stores.path("runs.sqlite"))
    let first = try filledRun(store, dir, seed: 1)
    let second = try makeRun(store, seed: 2)
    let shared = dir.file("checkpoints/\(first.name)/step-1000/network.safetensors")
    try store.addCheckpoint(runId: second.id!, globalStep: 0, file: shared, sha256: "a")
    try store.failRun(first.id!, message: "boom")
    #expect(
        try store.deleteRun(id: first.id!)
            == DeletedRun(files: [dir.file("checkpoints/\(first.name)/step-1000/state.json")]))
}

/// A run copied into a second store borrows its checkpoint files: deleting it there leaves them (the source's run
/// still names them), and the source's own deletion returns them.
@Test(arguments: Backend.all) func deleteRunLeavesTheFilesOfACopiedRun(_ backend: Backend) throws {
    let stores = try TestStores(backend), dir = stores.dir
    let source = try RunStore(path: dir.file("source.sqlite"))
    let run = try filledRun(source, dir, seed: 1)
    try source.failRun(run.id!, message: "boom")
    let copy = try RunStore(path: stores.path("copy.sqlite"))
    #expect(try copy.copy(from: source).runsCopied == 1)
    let copied = try #require(try copy.runs().first)
    #expect(try copy.checkpoints(runId: copied.id!).map(\.borrowed) == [true, true])
    #expect(try source.checkpoints(runId: run.id!).map(\.borrowed) == [false, false])

    #expect(try copy.deleteRun(id: copied.id!) == DeletedRun(files: [], borrowedFiles: 2))
    #expect(try copy.runs().isEmpty)
    #expect(
        try source.deleteRun(id: run.id!)
            == DeletedRun(files: [
                dir.file("checkpoints/\(run.name)/step-1000/network.safetensors"),
                dir.file("checkpoints/\(run.name)/step-1000/state.json"),
            ]))
}
