import Foundation
import GRDB

/// The database of a set of runs: runs, episodes, steps, trades, metrics, checkpoints, sweeps and trials.
///
/// A store is a SQLite file (`runs/tradesim.sqlite`, see `SQLiteBackend`) or a PostgreSQL database
/// (`postgresql://user@host:port/db`, see `PostgresBackend`), which many machines can write at once. Both have the same
/// schema, migrations and queries. Every write method is one transaction: an episode is stored with all its steps,
/// trades and metrics, or not at all, and a committed transaction survives the process being killed.
///
/// Every error is a `RunStoreError`: one line naming the file or the URL (never with its password) and what failed.
public final class RunStore: Sendable {
    /// How long a writer waits for another writer's lock before failing, unless told otherwise.
    public static let defaultBusyTimeout: TimeInterval = 5

    /// The database file as given to the initialiser, or the PostgreSQL URL without its password.
    public let path: String
    /// The absolute folder that holds the SQLite file; checkpoint files inside it are recorded relative to it, so the
    /// folder can be moved, zipped or shared with its checkpoints. Nil for PostgreSQL, whose paths stay absolute.
    public let folder: String?
    /// How long a write waits for another writer's lock before failing.
    public let busyTimeout: TimeInterval
    /// The environment of a process started to work on this store by `path`: this process's, with `PGPASSWORD` set to
    /// the password its URL gave. (Only there: a password of one store must not reach another server.)
    public let childEnvironment: [String: String]
    /// The database.
    let backend: any StoreBackend

    /// Opens the store at `path`, creating it (a SQLite file with its directory, or the tables in a PostgreSQL
    /// database) and applying new migrations when needed.
    /// - Parameters:
    ///   - path: a database file, e.g. `runs/experiments.sqlite`, or a URL `postgresql://user@host:port/database`
    ///     (see `PostgresLocation`: the password comes from `PGPASSWORD` or `~/.pgpass`; one given in the URL is used,
    ///     passed on in `childEnvironment` to the processes started on this store, and never shown or stored).
    ///   - busyTimeout: seconds a write waits while another process holds a lock it needs.
    ///   - maxPageCount: SQLite: upper limit on the file size in pages (`PRAGMA max_page_count`), to simulate a full
    ///     disk in tests; when nil, the environment variable `TRADESIM_MAX_PAGE_COUNT` sets it (the CLI's full-disk
    ///     test).
    ///   - create: false to refuse a database without a store (commands that only read runs): a missing or empty
    ///     SQLite file, or a PostgreSQL database without tradesim's tables. Either way a SQLite file with tables of
    ///     something else is refused and left untouched.
    ///   - writing: false for a command that only reads: a SQLite store whose folder takes no new file (read-only
    ///     media, another user's folder) is then opened read-only, where it would be refused, and its writes fail.
    /// - Throws: `RunStoreError`, e.g. `runs/: directory is not writable`, `runs/x.sqlite: file is not a database`,
    ///   `runs/x.sqlite: not a tradesim run store (it has tables foo)`,
    ///   `postgresql://u@db:5432/runs: cannot connect to db:5432 (connection refused)`.
    public init(
        path: String, busyTimeout: TimeInterval = RunStore.defaultBusyTimeout, maxPageCount: Int? = nil,
        create: Bool = true, writing: Bool = true
    ) throws {
        self.busyTimeout = busyTimeout
        guard !path.isEmpty else {
            throw RunStoreError(path: "''", reason: "an empty store path (name a SQLite file or a postgresql:// URL)")
        }
        if PostgresLocation.isURL(path) {
            let location = try PostgresLocation(path)
            var environment = ProcessInfo.processInfo.environment
            if location.passwordInURL, let password = location.password { environment["PGPASSWORD"] = password }
            childEnvironment = environment
            self.path = location.shown
            folder = nil
            backend = try PostgresBackend(location: location, busyTimeout: busyTimeout, create: create)
        } else {
            self.path = path
            folder = Self.folder(of: path)
            childEnvironment = ProcessInfo.processInfo.environment
            let maxPageCount =
                maxPageCount
                ?? ProcessInfo.processInfo.environment["TRADESIM_MAX_PAGE_COUNT"].flatMap { Int($0) }
            backend = try SQLiteBackend(
                path: path, busyTimeout: busyTimeout, maxPageCount: maxPageCount, create: create, writing: writing)
        }
    }

    /// The connections of a SQLite store, for tests that reach behind the API (a PostgreSQL store has none).
    var pool: DatabasePool { (backend as! SQLiteBackend).database as! DatabasePool }

    /// Drops the PostgreSQL schema this store lives in (its URL's `schema=`) with everything in it: for benchmarks and
    /// tests that made a store of their own. A SQLite store, or one without a schema, is an error.
    public func dropSchema() throws {
        guard let backend = backend as? PostgresBackend, backend.location.schema != nil else {
            throw RunStoreError(path: path, reason: "not a PostgreSQL store with a schema of its own")
        }
        do { try backend.dropSchema() } catch { throw wrapped(error, "cannot drop the store's schema") }
    }

    /// Whether `path` is meant as a PostgreSQL store (a URL, see `PostgresLocation.isURL`) rather than a SQLite file.
    public static func isURL(_ path: String) -> Bool { PostgresLocation.isURL(path) }

    /// `path` as it may be shown and stored: a PostgreSQL URL without its password, a file path as it is.
    public static func shown(_ path: String) -> String { isURL(path) ? PostgresLocation.shown(path) : path }

    /// `text` (an error message, say) with every PostgreSQL URL in it `shown`: no password is printed, whatever quoted
    /// the URL (a misplaced `--store` URL is echoed by the argument parser).
    public static func withoutPasswords(_ text: String) -> String {
        guard let pattern = try? NSRegularExpression(pattern: #"(?i)postgres(ql)?://[^\s'"`]+"#) else { return text }
        var out = "", rest = text.startIndex
        for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard let range = Range(match.range, in: text) else { continue }
            out += text[rest..<range.lowerBound] + PostgresLocation.shown(String(text[range]))
            rest = range.upperBound
        }
        return out + text[rest...]
    }

    /// Whether `path` is a PostgreSQL URL that holds a password.
    public static func holdsPassword(_ path: String) -> Bool { isURL(path) && PostgresLocation.holdsPassword(path) }

    /// The `folder` of the store at `path`: the SQLite file's folder, absolute; nil for a PostgreSQL URL.
    public static func folder(of path: String) -> String? {
        isURL(path) ? nil : URL(fileURLWithPath: SQLiteBackend.directory(of: path).path).standardizedFileURL.path
    }

    // MARK: - Access helpers

    /// Runs `body` in one write transaction; any error becomes a `RunStoreError` saying `operation`.
    @discardableResult
    func write<T>(_ operation: String, _ body: (any StoreConnection) throws -> T) throws -> T {
        do {
            return try backend.write(body)
        } catch {
            throw wrapped(error, operation)
        }
    }

    /// Runs `body` in a read transaction (a snapshot of the last commit); any error becomes a `RunStoreError`.
    func read<T>(_ operation: String, _ body: (any StoreConnection) throws -> T) throws -> T {
        do {
            return try backend.read(body)
        } catch {
            throw wrapped(error, operation)
        }
    }

    /// `error` as one line about this store saying `operation`.
    func wrapped(_ error: any Error, _ operation: String) -> RunStoreError {
        RunStoreError.wrapping(error, path: path, operation: operation) { [busyTimeout, backend] in
            backend.describe($0, busyTimeout: busyTimeout)
        }
    }

    /// Throws `no run with id N` unless the run exists.
    func requireRun(_ id: Int64, _ db: any StoreConnection) throws {
        if try db.count("SELECT COUNT(*) FROM run WHERE id = ?", sqlArguments(id)) == 0 {
            throw RunStoreError(path: path, reason: "no run with id \(id)")
        }
    }

    // MARK: - Runs

    /// Creates a run with status `running` and returns it as stored (with its id and unique name).
    /// The name is `{experiment}__{agent}__{seed}__{unixTime}`; if taken, `-2`, `-3`… is appended.
    public func createRun(
        experiment: String, agent: String, seed: Int64, experimentYAML: String, configJSON: String,
        configHash: String, codeVersion: String, startedAt: Date = Date()
    ) throws -> RunRecord {
        try write("cannot create run") { db in
            let time = Int64(startedAt.timeIntervalSince1970.rounded(.down))
            var run = RunRecord(
                name: "\(experiment)__\(agent)__\(seed)__\(time)", experiment: experiment, agent: agent,
                experimentYAML: experimentYAML,
                configJSON: configJSON, configHash: configHash, codeVersion: codeVersion, seed: seed,
                status: .running, startedAt: startedAt, ownerPid: Int64(getpid()),
                ownerHost: RunOwner.host, heartbeatAt: Date(), ownerJob: RunOwner.job)
            return try insertRun(&run, db)
        }
    }

    /// Inserts `run` under a unique name (`uniqueRunName`) and returns it as read back, so that its dates have the
    /// stored (millisecond) precision.
    func insertRun(_ run: inout RunRecord, _ db: any StoreConnection) throws -> RunRecord {
        if let serialize = db.dialect.serialize { try db.execute(serialize, []) }  // concurrent creators take turns
        run.name = try uniqueRunName(run.name, db)
        run.id = nil
        let id = try db.insert(run, into: "run")
        return try db.fetchOne(RunRecord.self, "SELECT * FROM run WHERE id = ?", sqlArguments(id))!
    }

    /// Sets the status of a run; `endedAt` is cleared for `running`. `message` is the failure text (nil clears it).
    /// Setting `running` (a resume) makes this process the run's owner with a fresh lease.
    public func setStatus(ofRun id: Int64, to status: RunStatus, message: String? = nil, endedAt: Date = Date()) throws
    {
        let ended: Date? = status == .running ? nil : endedAt
        try write("cannot update run \(id)") { db in
            let changed: Int
            if status == .running {
                changed = try db.execute(
                    """
                    UPDATE run SET status = ?, endedAt = NULL, message = ?, ownerPid = ?, ownerHost = ?, ownerJob = ?,
                    heartbeatAt = ? WHERE id = ?
                    """,
                    sqlArguments(
                        status.rawValue, message, Int64(getpid()), RunOwner.host, RunOwner.job, Date(),
                        id))
            } else {
                changed = try db.execute(
                    "UPDATE run SET status = ?, endedAt = ?, message = ? WHERE id = ?",
                    sqlArguments(status.rawValue, ended, message, id))
            }
            if changed == 0 {
                throw RunStoreError(path: path, reason: "no run with id \(id)")
            }
        }
    }

    /// Makes this process the owner of `run`, as read before (not finished, its owner gone), so that it alone resumes
    /// it: false when another process has taken it since (a second `train --resume` started at the same time). The
    /// status stays as it is until the resume sets it (`setStatus(…, to: .running)`).
    public func claimRun(_ run: RunRecord) throws -> Bool {
        try write("cannot update run \(run.name)") { db in
            try db.execute(
                """
                UPDATE run SET ownerPid = ?, ownerHost = ?, ownerJob = ?, heartbeatAt = ? \
                WHERE id = ? AND status <> 'finished' AND ownerPid IS NOT DISTINCT FROM ? \
                AND ownerHost IS NOT DISTINCT FROM ?
                """,
                sqlArguments(Int64(getpid()), RunOwner.host, RunOwner.job, Date(), run.id, run.ownerPid, run.ownerHost)
            ) == 1
        }
    }

    /// Records which checkpoint step is the run's policy (nil: the latest).
    public func setPolicyStep(ofRun id: Int64, to step: Int64?) throws {
        try write("cannot update run \(id)") { db in
            try db.execute("UPDATE run SET policyStep = ? WHERE id = ?", sqlArguments(step, id))
        }
    }

    /// Marks a run `finished` now.
    public func finishRun(_ id: Int64, endedAt: Date = Date()) throws {
        try setStatus(ofRun: id, to: .finished, endedAt: endedAt)
    }

    /// Marks a run `failed` now, with the failure text.
    public func failRun(_ id: Int64, message: String, endedAt: Date = Date()) throws {
        try setStatus(ofRun: id, to: .failed, message: message, endedAt: endedAt)
    }

    /// Runs in creation order, optionally only those of one experiment and/or with one status. A `running` run whose
    /// owner is gone is returned as `interrupted` (see `RunOwner.observed`).
    public func runs(experiment: String? = nil, status: RunStatus? = nil) throws -> [RunRecord] {
        try read("cannot list runs") { db in
            var conditions: [String] = []
            var arguments: [DatabaseValue] = []
            if let experiment {
                conditions.append("experiment = ?")
                arguments += sqlArguments(experiment)
            }
            if let status {
                let stored = status == .interrupted ? [RunStatus.interrupted, .running] : [status]
                conditions.append("status IN (\(stored.map { _ in "?" }.joined(separator: ", ")))")
                arguments += stored.map { $0.rawValue.databaseValue }
            }
            let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
            let runs = try db.fetchAll(RunRecord.self, "SELECT * FROM run\(filter) ORDER BY id", arguments)
                .map(RunOwner.observed)
            return status.map { s in runs.filter { $0.status == s } } ?? runs
        }
    }

    /// The run with this id; an unknown id is an error.
    public func run(id: Int64) throws -> RunRecord {
        try read("cannot read run") { db in
            guard let run = try db.fetchOne(RunRecord.self, "SELECT * FROM run WHERE id = ?", sqlArguments(id)) else {
                throw RunStoreError(path: path, reason: "no run with id \(id)")
            }
            return RunOwner.observed(run)
        }
    }

    /// The one run whose name starts with `prefix` (an exact name wins); none or several is an error.
    public func run(namePrefix prefix: String) throws -> RunRecord {
        try read("cannot read run") { db in
            let matches = try db.fetchAll(
                RunRecord.self, "SELECT * FROM run WHERE substr(name, 1, length(?)) = ? ORDER BY id",
                sqlArguments(prefix, prefix))
            if let exact = matches.first(where: { $0.name == prefix }) { return RunOwner.observed(exact) }
            guard let first = matches.first else {
                throw RunStoreError(path: path, reason: "no run named '\(prefix)…'")
            }
            guard matches.count == 1 else {
                let names = matches.prefix(5).map(\.name).joined(separator: ", ")
                throw RunStoreError(
                    path: path,
                    reason: "'\(prefix)' matches \(matches.count) runs: \(names)\(matches.count > 5 ? ", …" : "")")
            }
            return RunOwner.observed(first)
        }
    }

    /// The run a user typed on the command line: a numeric id, or else a name prefix.
    public func run(reference: String) throws -> RunRecord {
        if let id = Int64(reference) { return try run(id: id) }
        return try run(namePrefix: reference)
    }

    // MARK: - Episodes

    /// Writes an episode with its steps, trades and metrics in ONE transaction and returns the new episode id.
    ///
    /// The episode's `id`, the steps' and trades' `episodeId` and the metrics' `runId` are ignored and set by the
    /// store. Steps may be a subset (decimated) of the episode's steps; bar indexes must be unique within the episode.
    /// If anything fails (unknown run, a NaN in a step, a full disk, a lock timeout), nothing of the episode is stored.
    @discardableResult
    public func writeEpisode(
        _ episode: EpisodeRecord, steps: [StepRecord], trades: [TradeRecord] = [],
        metrics: [MetricRecord] = []
    ) throws -> Int64 {
        try write("cannot write episode \(episode.split.rawValue) #\(episode.index) of run \(episode.runId)") { db in
            try requireRun(episode.runId, db)
            var episode = episode
            episode.id = nil
            let episodeId = try db.insert(episode, into: "episode")!
            try db.insertSteps(steps, episodeId: episodeId)
            try Self.insertTrades(trades, episodeId: episodeId, db)
            try Self.insertMetrics(metrics, runId: episode.runId, db)
            try Self.renewLease(runId: episode.runId, db)
            return episodeId
        }
    }

    /// Renews the lease of a running run owned by this process (inside the caller's transaction).
    static func renewLease(runId: Int64, _ db: any StoreConnection) throws {
        try db.execute(
            """
            UPDATE run SET heartbeatAt = ? WHERE id = ? AND status = 'running' AND ownerPid = ? AND ownerHost = ?
            """, sqlArguments(Date(), runId, Int64(getpid()), RunOwner.host))
    }

    /// Inserts trades, one statement each.
    static func insertTrades(_ trades: [TradeRecord], episodeId: Int64, _ db: any StoreConnection) throws {
        for t in trades {
            try db.execute(
                """
                INSERT INTO trade (episodeId, barIndex, timestamp, asset, quantity, price, cost)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, sqlArguments(episodeId, t.barIndex, t.timestamp, t.asset, t.quantity, t.price, t.cost))
        }
    }

    /// Inserts metrics, one statement each; `runId` overrides the records' run when given.
    static func insertMetrics(_ metrics: [MetricRecord], runId: Int64?, _ db: any StoreConnection) throws {
        for m in metrics {
            // NaN is stored as NULL, which the nullable value column accepts and MetricRecord reads back as NaN.
            try db.execute(
                "INSERT INTO metric (runId, globalStep, key, value, wallTime) VALUES (?, ?, ?, ?, ?)",
                sqlArguments(runId ?? m.runId, m.globalStep, m.key, m.value, m.wallTime))
        }
    }

    /// The episodes of a run in the order they were written, optionally of one split.
    public func episodes(runId: Int64, split: EpisodeSplit? = nil) throws -> [EpisodeRecord] {
        try read("cannot read episodes of run \(runId)") { db in
            try requireRun(runId, db)
            if let split {
                return try db.fetchAll(
                    EpisodeRecord.self,
                    "SELECT * FROM episode WHERE runId = ? AND split = ? ORDER BY id",
                    sqlArguments(runId, split.rawValue))
            }
            return try db.fetchAll(
                EpisodeRecord.self, "SELECT * FROM episode WHERE runId = ? ORDER BY id",
                sqlArguments(runId))
        }
    }

    /// The stored steps of an episode by bar index; an unknown episode is an error.
    public func steps(episodeId: Int64) throws -> [StepRecord] {
        try read("cannot read steps of episode \(episodeId)") { db in
            try requireEpisode(episodeId, db)
            return try db.fetchAll(
                StepRecord.self, "SELECT * FROM step WHERE episodeId = ? ORDER BY barIndex",
                sqlArguments(episodeId))
        }
    }

    /// A page of an episode's stored steps by bar index (rows `offset ..< offset + limit`) and the number of stored
    /// rows.
    public func steps(episodeId: Int64, offset: Int, limit: Int) throws -> (steps: [StepRecord], total: Int) {
        try read("cannot read steps of episode \(episodeId)") { db in
            try requireEpisode(episodeId, db)
            let page = try db.fetchAll(
                StepRecord.self,
                "SELECT * FROM step WHERE episodeId = ? ORDER BY barIndex LIMIT ? OFFSET ?",
                sqlArguments(episodeId, limit, offset))
            return (page, try db.count("SELECT COUNT(*) FROM step WHERE episodeId = ?", sqlArguments(episodeId)))
        }
    }

    /// The trades of an episode by bar index, then insertion order; an unknown episode is an error.
    public func trades(episodeId: Int64) throws -> [TradeRecord] {
        try read("cannot read trades of episode \(episodeId)") { db in
            try requireEpisode(episodeId, db)
            return try db.fetchAll(
                TradeRecord.self, "SELECT * FROM trade WHERE episodeId = ? ORDER BY barIndex, id",
                sqlArguments(episodeId))
        }
    }

    /// Throws `no episode with id N` unless the episode exists.
    private func requireEpisode(_ id: Int64, _ db: any StoreConnection) throws {
        if try db.count("SELECT COUNT(*) FROM episode WHERE id = ?", sqlArguments(id)) == 0 {
            throw RunStoreError(path: path, reason: "no episode with id \(id)")
        }
    }

    // MARK: - Metrics and checkpoints

    /// Appends metrics (each with its `runId`) in one transaction.
    public func appendMetrics(_ metrics: [MetricRecord]) throws {
        try write("cannot append metrics") { db in
            for runId in Set(metrics.map(\.runId)) {
                try requireRun(runId, db)
                try Self.renewLease(runId: runId, db)
            }
            try Self.insertMetrics(metrics, runId: nil, db)
        }
    }

    /// The metrics of a run ordered by key, then step; optionally only one key.
    public func metrics(runId: Int64, key: String? = nil) throws -> [MetricRecord] {
        try read("cannot read metrics of run \(runId)") { db in
            try requireRun(runId, db)
            let filter = key == nil ? "" : " AND key = ?"
            return try db.fetchAll(
                MetricRecord.self,
                "SELECT * FROM metric WHERE runId = ?\(filter) ORDER BY key, globalStep, id",
                sqlArguments(runId) + (key.map { sqlArguments($0) } ?? []))
        }
    }

    /// Records a saved checkpoint file (an absolute path) and returns it as read back (see `checkpoints`).
    @discardableResult
    public func addCheckpoint(
        runId: Int64, globalStep: Int64, file: String, sha256: String,
        createdAt: Date = Date()
    ) throws -> CheckpointRecord {
        try write("cannot add checkpoint to run \(runId)") { db in
            try requireRun(runId, db)
            let id = try db.insert(
                CheckpointRecord(
                    runId: runId, globalStep: globalStep, file: recordedPath(file),
                    sha256: sha256, createdAt: createdAt), into: "checkpoint")
            let stored = try db.fetchOne(
                CheckpointRecord.self, "SELECT * FROM checkpoint WHERE id = ?", sqlArguments(id))
            return resolved(stored!)
        }
    }

    /// Records the files of one saved checkpoint (absolute path and SHA-256 each) in ONE transaction, so a killed
    /// process leaves either all of them recorded or none.
    public func addCheckpoint(
        runId: Int64, globalStep: Int64, files: [(file: String, sha256: String)],
        createdAt: Date = Date()
    ) throws {
        try write("cannot add checkpoint to run \(runId)") { db in
            try requireRun(runId, db)
            for f in files {
                let record = CheckpointRecord(
                    runId: runId, globalStep: globalStep, file: recordedPath(f.file),
                    sha256: f.sha256, createdAt: createdAt)
                try db.insert(record, into: "checkpoint", returningID: false)
            }
        }
    }

    /// The checkpoints of a run by step, with absolute file paths.
    public func checkpoints(runId: Int64) throws -> [CheckpointRecord] {
        try read("cannot read checkpoints of run \(runId)") { db in
            try requireRun(runId, db)
            return try db.fetchAll(
                CheckpointRecord.self,
                "SELECT * FROM checkpoint WHERE runId = ? ORDER BY globalStep, id",
                sqlArguments(runId)
            ).map(resolved)
        }
    }

    /// The checkpoint with the highest step (the last written among equals), nil if the run has none.
    public func latestCheckpoint(runId: Int64) throws -> CheckpointRecord? {
        try read("cannot read checkpoints of run \(runId)") { db in
            try requireRun(runId, db)
            return try db.fetchOne(
                CheckpointRecord.self,
                """
                SELECT * FROM checkpoint WHERE runId = ? ORDER BY globalStep DESC, id DESC LIMIT 1
                """, sqlArguments(runId)
            ).map(resolved)
        }
    }

    /// How a checkpoint file is recorded: relative to `folder` when it lies inside it, else as given.
    func recordedPath(_ file: String) -> String {
        guard let folder else { return file }
        let standard = URL(fileURLWithPath: file).standardizedFileURL.path
        return standard.hasPrefix(folder + "/") ? String(standard.dropFirst(folder.count + 1)) : file
    }

    /// `record` with its file made absolute: a relative path lies inside `folder`.
    func resolved(_ record: CheckpointRecord) -> CheckpointRecord {
        var r = record
        if let folder, !r.file.hasPrefix("/") { r.file = folder + "/" + r.file }
        return r
    }

    /// Deletes what a run wrote after its checkpoint at training step `step` (episodes with their steps and trades,
    /// metrics, checkpoint rows), in one transaction: a resumed run continues from that checkpoint without duplicate
    /// rows. With `logged`, the rows the run had when the checkpoint was written, every later row goes, at `step` too
    /// (the final evaluations after the last checkpoint); without (a checkpoint written before they were kept), the
    /// rows after `step`. Returns the number of episodes removed.
    @discardableResult
    public func rollback(runId: Int64, after step: Int64, keeping logged: LoggedRows? = nil) throws -> Int {
        try write("cannot roll back run \(runId) to step \(step)") { db in
            try requireRun(runId, db)
            /// Deletes the rows of `table` after the first `kept` of the run (in the order they were written) or,
            /// without `kept`, after `step`.
            func delete(_ table: String, keepingFirst kept: Int?) throws -> Int {
                guard let kept else {
                    return try db.execute(
                        "DELETE FROM \(table) WHERE runId = ? AND globalStep > ?", sqlArguments(runId, step))
                }
                return try db.execute(
                    """
                    DELETE FROM \(table) WHERE runId = ? AND id NOT IN \
                    (SELECT id FROM \(table) WHERE runId = ? ORDER BY id LIMIT ?)
                    """, sqlArguments(runId, runId, Int64(kept)))
            }
            let episodes = try delete("episode", keepingFirst: logged?.episodes)
            _ = try delete("metric", keepingFirst: logged?.metrics)
            try db.execute("DELETE FROM checkpoint WHERE runId = ? AND globalStep > ?", sqlArguments(runId, step))
            return episodes
        }
    }

    /// How many episodes (every split) and metric rows run `runId` has logged.
    public func loggedRows(runId: Int64) throws -> LoggedRows {
        try read("cannot count the rows of run \(runId)") { db in
            LoggedRows(
                episodes: try db.count("SELECT COUNT(*) FROM episode WHERE runId = ?", sqlArguments(runId)),
                metrics: try db.count("SELECT COUNT(*) FROM metric WHERE runId = ?", sqlArguments(runId)))
        }
    }

    // MARK: - Maintenance

    /// `ok` for a healthy store, else the problems, one per line. SQLite: `PRAGMA integrity_check`. PostgreSQL (which
    /// checks its own pages and keys): rows whose parent is missing.
    public func integrityCheck() throws -> String {
        try read("cannot check integrity") { db in
            if db.dialect == .sqlite {
                let lines = try db.values(String.self, "PRAGMA integrity_check", []).compactMap { $0 }
                return lines.joined(separator: "\n")
            }
            var problems: [String] = []
            for (child, key, parent) in [
                ("episode", "runId", "run"), ("step", "episodeId", "episode"),
                ("trade", "episodeId", "episode"), ("metric", "runId", "run"),
                ("checkpoint", "runId", "run"), ("trial", "sweepId", "sweep"),
            ] {
                let orphans = try db.count(
                    "SELECT COUNT(*) FROM \(child) WHERE \(key) NOT IN (SELECT id FROM \(parent))", [])
                if orphans > 0 { problems.append("\(orphans) \(child) rows without their \(parent)") }
            }
            return problems.isEmpty ? "ok" : problems.joined(separator: "\n")
        }
    }
}
