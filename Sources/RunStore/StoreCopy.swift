import Foundation
import GRDB

/// What `RunStore.copy` did: runs and sweeps added, and those the destination had already (left as they were).
public struct StoreCopyReport: Equatable, Sendable {
    public var runsCopied = 0
    public var runsPresent = 0
    public var sweepsCopied = 0
    public var sweepsPresent = 0
    /// Step rows written.
    public var steps = 0
}

extension RunStore {
    /// Copies runs (with their episodes, steps, trades, metrics and checkpoint records) and sweeps (with their trials)
    /// from `source` into this store, between any two backends. Runs are matched by name and sweeps by name: one the
    /// destination has is left as it is, so copying twice adds nothing; ids are the destination's own, and every
    /// reference (an episode's run, a step's episode, a trial's run) is remapped. Checkpoint files are recorded by
    /// their absolute paths as the source resolves them, so the destination can still verify them, and as borrowed:
    /// deleting a copied run leaves its files to the source's run.
    /// - Parameters:
    ///   - runs: the runs to copy; nil copies every run and every sweep (when `sweep` is nil too).
    ///   - sweep: a sweep name: copies that sweep, its trials, and the runs of its trials.
    /// - Note: each run is copied in one transaction of the destination (all of it or nothing); its episodes are
    ///   read one at a time, so memory holds one episode's steps.
    public func copy(from source: RunStore, runs: [RunRecord]? = nil, sweep: String? = nil) throws -> StoreCopyReport {
        var report = StoreCopyReport()
        let sweeps = try sweep.map { [try source.sweep(named: $0)] } ?? (runs == nil ? source.sweeps() : [])
        var selected = try runs ?? (sweep == nil ? source.runs() : [])
        for s in sweeps {
            let ids = Set(try source.trials(sweepId: s.id!).compactMap(\.runId))
            selected += try source.runs().filter { ids.contains($0.id!) && !selected.contains($0) }
        }
        for run in selected {
            if try copyRun(run, from: source, report: &report) {
                report.runsCopied += 1
            } else {
                report.runsPresent += 1
            }
        }
        for s in sweeps {
            if try copySweep(s, from: source) { report.sweepsCopied += 1 } else { report.sweepsPresent += 1 }
        }
        return report
    }

    /// Copies one run unless a run of its name is here; returns whether it did.
    private func copyRun(_ run: RunRecord, from source: RunStore, report: inout StoreCopyReport) throws -> Bool {
        // Metrics and trades in the order they were written, so the new ids keep it.
        let metrics = try source.read("cannot read metrics of run \(run.name)") { db in
            try db.fetchAll(MetricRecord.self, "SELECT * FROM metric WHERE runId = ? ORDER BY id", sqlArguments(run.id))
        }
        let checkpoints = try source.checkpoints(runId: run.id!)
        let episodes = try source.episodes(runId: run.id!)
        var steps = 0
        let copied: Bool = try write("cannot copy run \(run.name)") { db in
            guard try db.count("SELECT COUNT(*) FROM run WHERE name = ?", sqlArguments(run.name)) == 0 else {
                return false
            }
            var row = try source.read("cannot read run \(run.name)") { source in  // as stored, not as observed
                try source.fetchOne(RunRecord.self, "SELECT * FROM run WHERE id = ?", sqlArguments(run.id))!
            }
            row.id = nil
            let runId = try db.insert(row, into: "run")!
            for episode in episodes {
                var e = episode
                e.id = nil
                e.runId = runId
                let episodeId = try db.insert(e, into: "episode")!
                let episodeSteps = try source.steps(episodeId: episode.id!)
                try db.insertSteps(episodeSteps, episodeId: episodeId)
                let trades = try source.read("cannot read trades of run \(run.name)") { db in
                    try db.fetchAll(
                        TradeRecord.self, "SELECT * FROM trade WHERE episodeId = ? ORDER BY id",
                        sqlArguments(episode.id))
                }
                try Self.insertTrades(trades, episodeId: episodeId, db)
                steps += episodeSteps.count
            }
            try Self.insertMetrics(metrics, runId: runId, db)
            for c in checkpoints {
                try db.insert(
                    CheckpointRecord(
                        runId: runId, globalStep: c.globalStep, file: recordedPath(c.file),
                        sha256: c.sha256, createdAt: c.createdAt, borrowed: true), into: "checkpoint")
            }
            return true
        }
        if copied { report.steps += steps }
        return copied
    }

    /// Copies a sweep with its trials unless a sweep of its name is here; a trial's run is the run of the same name
    /// here. Returns whether it did.
    private func copySweep(_ sweep: SweepRecord, from source: RunStore) throws -> Bool {
        let trials = try source.trials(sweepId: sweep.id!)
        let runNames = Dictionary(uniqueKeysWithValues: try source.runs().map { ($0.id!, $0.name) })
        return try write("cannot copy sweep \(sweep.name)") { db in
            guard try db.count("SELECT COUNT(*) FROM sweep WHERE name = ?", sqlArguments(sweep.name)) == 0 else {
                return false
            }
            let remapped = try trials.map { trial in
                var t = trial
                t.runId = try t.runId.flatMap { runNames[$0] }.flatMap { name in
                    try db.values(Int64.self, "SELECT id FROM run WHERE name = ?", sqlArguments(name)).first ?? nil
                }
                return t
            }
            _ = try insertSweep(sweep, trials: remapped, db)
            return true
        }
    }
}
