import Foundation
import GRDB

/// A sweep: a named set of trials, each one run of one configuration and seed (`tradesim sweep`).
public struct SweepRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "sweep"

    public var id: Int64?
    /// Unique name (the experiment's base name unless given).
    public var name: String
    /// The experiment file the trials are made from, as given, and its text.
    public var experimentPath: String
    public var experimentYAML: String
    /// The sweep as run: the `sweep:` block with the command line's `--set` and `--seeds`, as YAML.
    public var definitionYAML: String
    public var createdAt: Date
    /// `local` or `slurm`, and the Slurm job ids once submitted (comma-separated, one per `sbatch`).
    public var launcher: String
    public var jobId: String?

    public init(
        id: Int64? = nil, name: String, experimentPath: String, experimentYAML: String,
        definitionYAML: String, createdAt: Date = Date(), launcher: String = "local", jobId: String? = nil
    ) {
        self.id = id
        self.name = name
        self.experimentPath = experimentPath
        self.experimentYAML = experimentYAML
        self.definitionYAML = definitionYAML
        self.createdAt = createdAt
        self.launcher = launcher
        self.jobId = jobId
    }
}

/// Where a trial stands. A `running` trial whose run's process is gone is resumed by the next process that claims it,
/// and a `failed` one retried.
public enum TrialStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case pending, running, finished, failed
}

/// One trial of a sweep: a configuration (its assignments), a seed and, in a walk-forward sweep, a window.
public struct TrialRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "trial"

    public var id: Int64?
    public var sweepId: Int64
    /// 0, 1, … in the sweep (a Slurm array index).
    public var index: Int64
    /// Which configuration (0, 1, …) and which walk-forward window (nil: none) the trial runs.
    public var configuration: Int64
    public var window: Int64?
    public var seed: Int64
    /// The configuration's assignments as a JSON list of [key, YAML value] pairs, in the sweep's key order.
    public var assignmentsJSON: String
    /// The hash of the resolved configuration the trial's run gets.
    public var configHash: String
    /// The trial this one starts from (the previous window's, with `warmStart`); it must finish first.
    public var after: Int64?
    public var status: TrialStatus
    /// The trial's run, once claimed.
    public var runId: Int64?
    /// Why the trial failed.
    public var message: String?

    public init(
        id: Int64? = nil, sweepId: Int64 = 0, index: Int64, configuration: Int64, window: Int64? = nil,
        seed: Int64, assignmentsJSON: String, configHash: String, after: Int64? = nil,
        status: TrialStatus = .pending, runId: Int64? = nil, message: String? = nil
    ) {
        self.id = id
        self.sweepId = sweepId
        self.index = index
        self.configuration = configuration
        self.window = window
        self.seed = seed
        self.assignmentsJSON = assignmentsJSON
        self.configHash = configHash
        self.after = after
        self.status = status
        self.runId = runId
        self.message = message
    }
}

/// What claiming a trial found.
public enum TrialClaim: Equatable, Sendable {
    /// The trial was pending (or failed before it had a run): this process created its run and owns it.
    case started(RunRecord)
    /// The trial's run was left by a process that is gone (or failed): this process owns it now and resumes it.
    case resumed(RunRecord)
    /// Another live process is running the trial.
    case taken(RunRecord)
    /// The trial's run has finished (the trial is marked finished if it was not).
    case finished
    /// The trial it starts from has not finished.
    case waiting(after: Int64)
}

extension RunStore {
    /// Creates a sweep with its trials in one transaction and returns it as stored. A name already in the store is
    /// an error.
    public func createSweep(_ sweep: SweepRecord, trials: [TrialRecord]) throws -> SweepRecord {
        try write("cannot create sweep \(sweep.name)") { db in
            if let serialize = db.dialect.serialize { try db.execute(serialize, []) }
            guard try db.count("SELECT COUNT(*) FROM sweep WHERE name = ?", sqlArguments(sweep.name)) == 0 else {
                throw RunStoreError(
                    path: path, reason: "a sweep named '\(sweep.name)' exists (resume it with --resume)")
            }
            let id = try insertSweep(sweep, trials: trials, db)
            return try db.fetchOne(SweepRecord.self, "SELECT * FROM sweep WHERE id = ?", sqlArguments(id))!
        }
    }

    /// Inserts a sweep and its trials with new ids (inside the caller's transaction) and returns the sweep's id.
    func insertSweep(_ sweep: SweepRecord, trials: [TrialRecord], _ db: any StoreConnection) throws -> Int64 {
        var sweep = sweep
        sweep.id = nil
        let id = try db.insert(sweep, into: "sweep")!
        for var t in trials {
            t.id = nil
            t.sweepId = id
            try db.insert(t, into: "trial", returningID: false)
        }
        return id
    }

    /// Sweeps in creation order.
    public func sweeps() throws -> [SweepRecord] {
        try read("cannot list sweeps") { db in
            try db.fetchAll(SweepRecord.self, "SELECT * FROM sweep ORDER BY id", [])
        }
    }

    /// The sweep named `name`; an unknown name is an error.
    public func sweep(named name: String) throws -> SweepRecord {
        try read("cannot read sweep \(name)") { db in
            let found = try db.fetchOne(SweepRecord.self, "SELECT * FROM sweep WHERE name = ?", sqlArguments(name))
            guard let s = found else {
                throw RunStoreError(path: path, reason: "no sweep named '\(name)'")
            }
            return s
        }
    }

    /// The trials of a sweep by index.
    public func trials(sweepId: Int64) throws -> [TrialRecord] {
        try read("cannot read the trials of sweep \(sweepId)") { db in
            try db.fetchAll(
                TrialRecord.self, #"SELECT * FROM trial WHERE sweepId = ? ORDER BY "index""#,
                sqlArguments(sweepId))
        }
    }

    /// Records the launcher's job id of a sweep.
    public func setJob(ofSweep id: Int64, launcher: String, jobId: String?) throws {
        try write("cannot update sweep \(id)") { db in
            try db.execute("UPDATE sweep SET launcher = ?, jobId = ? WHERE id = ?", sqlArguments(launcher, jobId, id))
        }
    }

    /// Trial `index` of a sweep, nil when there is none; `lock` keeps other transactions from changing it until this
    /// one ends (PostgreSQL; a SQLite write transaction holds the whole file).
    func trial(sweepId: Int64, index: Int64, lock: Bool = false, _ db: any StoreConnection) throws -> TrialRecord? {
        try db.fetchOne(
            TrialRecord.self,
            #"SELECT * FROM trial WHERE sweepId = ? AND "index" = ?"#
                + (lock ? db.dialect.forUpdate : ""), sqlArguments(sweepId, index))
    }

    /// Claims trial `index` of a sweep for this process, at most once, in one transaction: a pending trial, or one that
    /// failed before it had a run, gets a new run (made by `makeRun` from the open transaction, owned by this process); a
    /// running or failed trial whose run's process is gone (or was an earlier start of this process's Slurm job `job` on
    /// another host: a requeue), or whose run failed, is taken over for a resume (a failed trial is retried); a trial
    /// whose run has finished is marked finished (its process was killed before marking it, or the run was finished
    /// by `train --resume`); a trial that another live process runs, a finished trial, or one whose `after` trial has
    /// not finished is left as it is. The trial's row is locked while it is claimed, so two processes claiming it at
    /// once take turns.
    public func claimTrial(
        sweepId: Int64, index: Int64, job: String? = RunOwner.job,
        makeRun: (TrialRecord) throws -> RunRecord
    ) throws -> TrialClaim {
        try write("cannot claim trial \(index) of sweep \(sweepId)") { db in
            guard var trial = try self.trial(sweepId: sweepId, index: index, lock: true, db) else {
                throw RunStoreError(path: path, reason: "sweep \(sweepId) has no trial \(index)")
            }
            if let after = trial.after {
                let before = try self.trial(sweepId: sweepId, index: after, db)
                guard before?.status == .finished else { return .waiting(after: after) }
            }
            switch (trial.status, trial.runId) {
            case (.finished, _): return .finished
            case (.pending, _), (.failed, nil):
                var run = try makeRun(trial)
                run.status = .running
                run.ownerPid = Int64(getpid())
                run.ownerHost = RunOwner.host
                run.ownerJob = job
                run.heartbeatAt = Date()
                let stored = try insertRun(&run, db)
                trial.runId = stored.id
                trial.status = .running
                try db.execute(
                    "UPDATE trial SET runId = ?, status = ?, message = NULL WHERE id = ?",
                    sqlArguments(stored.id, trial.status, trial.id))
                return .started(stored)
            case (.running, _), (.failed, _):
                guard let runId = trial.runId,
                    let stored = try db.fetchOne(RunRecord.self, "SELECT * FROM run WHERE id = ?", sqlArguments(runId))
                else {
                    throw RunStoreError(
                        path: path,
                        reason: "trial \(index) of sweep \(sweepId) is \(trial.status.rawValue) without a run")
                }
                let run = RunOwner.observed(stored)
                let requeued = run.status == .running && RunOwner.isEarlierRun(of: job, run)
                let resumed = run.status == .interrupted || run.status == .failed || requeued
                guard resumed || run.status == .finished else { return .taken(run) }
                try db.execute(
                    "UPDATE trial SET status = ?, message = NULL WHERE id = ?",
                    sqlArguments(resumed ? TrialStatus.running : .finished, trial.id))
                guard resumed else { return .finished }
                try db.execute(
                    "UPDATE run SET ownerPid = ?, ownerHost = ?, ownerJob = ?, heartbeatAt = ? WHERE id = ?",
                    sqlArguments(Int64(getpid()), RunOwner.host, job, Date(), runId))
                return .resumed(try db.fetchOne(RunRecord.self, "SELECT * FROM run WHERE id = ?", sqlArguments(runId))!)
            }
        }
    }

    /// Marks a trial finished, or failed with its error line.
    public func endTrial(sweepId: Int64, index: Int64, failure: String? = nil) throws {
        try write("cannot update trial \(index) of sweep \(sweepId)") { db in
            let status = failure == nil ? TrialStatus.finished : .failed
            try db.execute(
                #"UPDATE trial SET status = ?, message = ? WHERE sweepId = ? AND "index" = ?"#,
                sqlArguments(status.rawValue, failure, sweepId, index))
        }
    }

    /// Puts a trial back to pending and deletes its run (with its rows): for a trial whose run died before its
    /// first checkpoint, which can only start again.
    public func restartTrial(sweepId: Int64, index: Int64) throws {
        try write("cannot restart trial \(index) of sweep \(sweepId)") { db in
            if let trial = try self.trial(sweepId: sweepId, index: index, lock: true, db), let runId = trial.runId {
                try db.execute(
                    "UPDATE trial SET status = 'pending', runId = NULL, message = NULL WHERE id = ?",
                    sqlArguments(trial.id))
                try db.execute("DELETE FROM run WHERE id = ?", sqlArguments(runId))
            }
        }
    }

    /// `base`, or `base-2`, `base-3`… if a run has that name.
    func uniqueRunName(_ base: String, _ db: any StoreConnection) throws -> String {
        var name = base
        var suffix = 2
        while try db.count("SELECT COUNT(*) FROM run WHERE name = ?", sqlArguments(name)) > 0 {
            name = "\(base)-\(suffix)"
            suffix += 1
        }
        return name
    }
}
