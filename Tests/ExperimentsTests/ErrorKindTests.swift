import Agents
import Foundation
import GRDB
import Testing

@testable import Experiments
@testable import RunStore

/// Each failure is thrown as the error type of its kind: a bad configuration (`ConfigError`), a run in the wrong state
/// (`RunStateError`), a broken checkpoint (`CheckpointError`) and a replay that differs from the store
/// (`ReplayMismatchError`).
@Test func eachFailureThrowsTheErrorTypeOfItsKind() throws {
    let t = try tinyExperiment(steps: 200)
    try (try String(contentsOfFile: t.experiment, encoding: .utf8) + "\ncheckpoints: \(t.dir)/checkpoints\n")
        .write(toFile: t.experiment, atomically: true, encoding: .utf8)
    #expect(throws: ConfigError.self) { try Experiment.load(t.dir + "/missing.yaml") }
    let run = try #require(try runExperiment(try Experiment.load(t.experiment)).first?.run)
    let store = try RunStore(path: t.store)

    #expect(throws: RunStateError.self) { try resumeRun(run.name, store: store) }
    #expect(throws: RunStateError.self) { try SavedRun(run, store: store, step: 7) }
    #expect(throws: RunStateError.self) { try EpisodeReplay(run.name, split: .test, index: nil, store: store) }

    // A stored action altered: verification is a mismatch, not a configuration problem.
    let episode = try #require(try store.episodes(runId: run.id!, split: .validation).last)
    let step = try #require(try store.steps(episodeId: episode.id!).first)
    try store.pool.write { db in
        try db.execute(
            sql: "UPDATE step SET action = ? WHERE episodeId = ? AND barIndex = ?",
            arguments: [step.action == 0 ? 2.0 : 0.0, episode.id!, step.barIndex])
    }
    let replay = try EpisodeReplay(run.name, split: .validation, index: nil, store: store)
    #expect(throws: ReplayMismatchError.self) { try replay.verify() }

    // One byte appended to a checkpoint file: the checksum no longer matches.
    let file = try #require(try store.checkpoints(runId: run.id!).first?.file)
    let handle = try #require(FileHandle(forWritingAtPath: file))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data([0]))
    try handle.close()
    #expect(throws: CheckpointError.self) { try SavedRun(run, store: store) }
}
