import Foundation
import GRDB
import GRDBSQLite  // GRDB's own SQLite module: the C API for the step-insert hot loop

/// The SQLite database of a set of runs: runs, episodes, steps, trades, metrics and checkpoints.
///
/// One `DatabasePool` in WAL mode: one writer, concurrent readers that see the last committed state, so `tradesim runs`
/// or an export can read while training writes. Every write method is one transaction: an episode is stored with all its
/// steps, trades and metrics, or not at all. With `synchronous = NORMAL`, a committed transaction survives the process
/// being killed (a power loss may drop the last transactions, never corrupt the file).
///
/// Every error is a `RunStoreError`: one line naming the file and what failed.
public final class RunStore: Sendable {
    /// How long a writer waits for another writer's lock before failing, unless told otherwise.
    public static let defaultBusyTimeout: TimeInterval = 5

    /// The database file, as given to the initialiser.
    public let path: String
    /// The absolute folder that holds the database file. Checkpoint files inside it are recorded relative to it, so the
    /// folder can be moved, zipped or shared with its checkpoints.
    public let folder: String
    /// How long a write waits for another writer's lock before failing.
    public let busyTimeout: TimeInterval
    /// The connections.
    let pool: DatabasePool

    /// Opens the store at `path`, creating the file, its directory and the schema if needed, and applying new migrations.
    /// - Parameters:
    ///   - path: database file, e.g. `runs/experiments.sqlite`.
    ///   - busyTimeout: seconds a write waits while another process holds the write lock.
    ///   - maxPageCount: upper limit on the file size in pages (`PRAGMA max_page_count`), to simulate a full disk in tests;
    ///     when nil, the environment variable `TRADESIM_MAX_PAGE_COUNT` sets it (the CLI's full-disk test).
    /// - Throws: `RunStoreError`, e.g. `runs/: directory is not writable`, `runs/x.sqlite: file is not a database`.
    public init(path: String, busyTimeout: TimeInterval = RunStore.defaultBusyTimeout, maxPageCount: Int? = nil) throws {
        self.path = path
        self.busyTimeout = busyTimeout
        try Self.checkDirectory(of: path)
        folder = URL(fileURLWithPath: Self.directory(of: path).path).standardizedFileURL.path

        let maxPageCount = maxPageCount ?? ProcessInfo.processInfo.environment["TRADESIM_MAX_PAGE_COUNT"].flatMap { Int($0) }
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.journalMode = .wal
        config.busyMode = .timeout(busyTimeout)
        config.label = "RunStore"
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Views and triggers of a store from elsewhere may not call functions with side effects.
            try db.execute(sql: "PRAGMA trusted_schema = OFF")
            if let maxPageCount {
                try db.execute(sql: "PRAGMA max_page_count = \(maxPageCount)")
            }
        }
        pool = try Self.openSerialised(path: path, configuration: config, busyTimeout: busyTimeout)
    }

    /// Opens the pool and applies migrations while holding an exclusive `flock` on the store's directory, so that
    /// processes creating the same new store at the same instant take turns: one switches the file to WAL and creates
    /// the schema, the others then find it complete. Waits at most `busyTimeout` for the lock.
    private static func openSerialised(path: String, configuration: Configuration, busyTimeout: TimeInterval) throws -> DatabasePool {
        let directory = Self.directory(of: path).path
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw RunStoreError(path: directory + "/", reason: "cannot open the directory") }
        defer { close(fd) }  // closing releases the lock
        let deadline = Date().addingTimeInterval(busyTimeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, Date() < deadline else {
                throw RunStoreError(path: path, reason: "another process is opening the store (waited \(RunStoreError.formatSeconds(busyTimeout)))")
            }
            usleep(2_000)
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw RunStoreError.wrapping(error, path: path, operation: nil, busyTimeout: busyTimeout)
        }
        do {
            try Self.migrate(pool, path: path)
        } catch {
            throw RunStoreError.wrapping(error, path: path, operation: "cannot create or upgrade the schema", busyTimeout: busyTimeout)
        }
        return pool
    }

    /// Applies missing migrations. An up-to-date store is only read, so opening it never waits for a busy writer.
    private static func migrate(_ pool: DatabasePool, path: String) throws {
        let migrator = RunStoreSchema.migrator
        let (complete, superseded) = try pool.read { db in
            (try migrator.hasCompletedMigrations(db), try migrator.hasBeenSuperseded(db))
        }
        if superseded {
            throw RunStoreError(path: path, reason: "written by a newer version of tradesim (unknown schema migrations)")
        }
        if !complete {
            try migrator.migrate(pool)
        }
    }

    /// Creates the directory of `path` if it is missing and checks that files can be created in it
    /// (SQLite needs the `-wal` and `-shm` files next to the database).
    private static func checkDirectory(of path: String) throws {
        let (directory, shown) = Self.directory(of: path)
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw RunStoreError(path: shown, reason: "cannot create directory")
            }
        } else if !isDirectory.boolValue {
            throw RunStoreError(path: shown, reason: "not a directory")
        }
        // access(2) says yes to root even on a read-only directory, so try to create a file.
        let probe = (directory as NSString).appendingPathComponent(".runstore-probe-\(getpid())-\(UUID().uuidString)")
        let fd = open(probe, O_CREAT | O_EXCL | O_WRONLY, 0o600)
        guard fd >= 0 else {
            throw RunStoreError(path: shown, reason: "directory is not writable")
        }
        close(fd)
        unlink(probe)
    }

    /// The directory of `path` (`.` for a bare name) and how messages show it (with a trailing `/`).
    static func directory(of path: String) -> (path: String, shown: String) {
        let shown = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "./"
        return (shown == "./" ? "." : shown == "/" ? "/" : String(shown.dropLast()), shown)
    }

    // MARK: - Access helpers

    /// Runs `body` in one write transaction; any error becomes a `RunStoreError` saying `operation`.
    func write<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.write(body)
        } catch {
            throw RunStoreError.wrapping(error, path: path, operation: operation, busyTimeout: busyTimeout)
        }
    }

    /// Runs `body` in a read transaction (a snapshot of the last commit); any error becomes a `RunStoreError`.
    func read<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch {
            throw RunStoreError.wrapping(error, path: path, operation: operation, busyTimeout: busyTimeout)
        }
    }

    /// Throws `no run with id N` unless the run exists.
    func requireRun(_ id: Int64, _ db: Database) throws {
        if try !RunRecord.exists(db, key: id) {
            throw RunStoreError(path: path, reason: "no run with id \(id)")
        }
    }

    // MARK: - Runs

    /// Creates a run with status `running` and returns it as stored (with its id and unique name).
    /// The name is `{experiment}__{agent}__{seed}__{unixTime}`; if taken, `-2`, `-3`… is appended.
    public func createRun(experiment: String, agent: String, seed: Int64, experimentYAML: String, configJSON: String,
                          configHash: String, codeVersion: String, startedAt: Date = Date()) throws -> RunRecord {
        try write("cannot create run") { db in
            let name = try uniqueRunName(
                "\(experiment)__\(agent)__\(seed)__\(Int64(startedAt.timeIntervalSince1970.rounded(.down)))", db)
            let run = RunRecord(name: name, experiment: experiment, agent: agent, experimentYAML: experimentYAML,
                                configJSON: configJSON, configHash: configHash, codeVersion: codeVersion, seed: seed,
                                status: .running, startedAt: startedAt, ownerPid: Int64(getpid()),
                                ownerHost: RunOwner.host, heartbeatAt: Date(), ownerJob: RunOwner.job)
            try run.insert(db)
            // Fetched back so that the returned dates have the stored (millisecond) precision.
            return try RunRecord.fetchOne(db, key: db.lastInsertedRowID)!
        }
    }

    /// Sets the status of a run; `endedAt` is cleared for `running`. `message` is the failure text (nil clears it).
    /// Setting `running` (a resume) makes this process the run's owner with a fresh lease.
    public func setStatus(ofRun id: Int64, to status: RunStatus, message: String? = nil, endedAt: Date = Date()) throws {
        let ended: Date? = status == .running ? nil : endedAt
        try write("cannot update run \(id)") { db in
            if status == .running {
                try db.execute(
                    sql: "UPDATE run SET status = ?, endedAt = NULL, message = ?, ownerPid = ?, ownerHost = ?, "
                        + "ownerJob = ?, heartbeatAt = ? WHERE id = ?",
                    arguments: [status.rawValue, message, Int64(getpid()), RunOwner.host, RunOwner.job, Date(), id])
            } else {
                try db.execute(
                    sql: "UPDATE run SET status = ?, endedAt = ?, message = ? WHERE id = ?",
                    arguments: [status.rawValue, ended, message, id])
            }
            if db.changesCount == 0 {
                throw RunStoreError(path: path, reason: "no run with id \(id)")
            }
        }
    }

    /// Records which checkpoint step is the run's policy (nil: the latest).
    public func setPolicyStep(ofRun id: Int64, to step: Int64?) throws {
        try write("cannot update run \(id)") { db in
            try db.execute(sql: "UPDATE run SET policyStep = ? WHERE id = ?", arguments: [step, id])
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
            var request = RunRecord.all()
            if let experiment { request = request.filter(Column("experiment") == experiment) }
            if let status {
                let stored = status == .interrupted ? [RunStatus.interrupted, .running] : [status]
                request = request.filter(stored.map(\.rawValue).contains(Column("status")))
            }
            let runs = try request.order(Column("id")).fetchAll(db).map(RunOwner.observed)
            return status.map { s in runs.filter { $0.status == s } } ?? runs
        }
    }

    /// The run with this id; an unknown id is an error.
    public func run(id: Int64) throws -> RunRecord {
        try read("cannot read run") { db in
            guard let run = try RunRecord.fetchOne(db, key: id) else {
                throw RunStoreError(path: path, reason: "no run with id \(id)")
            }
            return RunOwner.observed(run)
        }
    }

    /// The one run whose name starts with `prefix` (an exact name wins); none or several is an error.
    public func run(namePrefix prefix: String) throws -> RunRecord {
        try read("cannot read run") { db in
            let matches = try RunRecord.fetchAll(db, sql: "SELECT * FROM run WHERE substr(name, 1, length(?1)) = ?1 ORDER BY id",
                                                 arguments: [prefix])
            if let exact = matches.first(where: { $0.name == prefix }) { return RunOwner.observed(exact) }
            guard let first = matches.first else {
                throw RunStoreError(path: path, reason: "no run named '\(prefix)…'")
            }
            guard matches.count == 1 else {
                let names = matches.prefix(5).map(\.name).joined(separator: ", ")
                throw RunStoreError(path: path, reason: "'\(prefix)' matches \(matches.count) runs: \(names)\(matches.count > 5 ? ", …" : "")")
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
    /// The episode's `id`, the steps' and trades' `episodeId` and the metrics' `runId` are ignored and set by the store.
    /// Steps may be a subset (decimated) of the episode's steps; bar indexes must be unique within the episode.
    /// If anything fails (unknown run, a NaN in a step, a full disk, a lock timeout), nothing of the episode is stored.
    @discardableResult
    public func writeEpisode(_ episode: EpisodeRecord, steps: [StepRecord], trades: [TradeRecord] = [],
                             metrics: [MetricRecord] = []) throws -> Int64 {
        try write("cannot write episode \(episode.split.rawValue) #\(episode.index) of run \(episode.runId)") { db in
            try requireRun(episode.runId, db)
            var episode = episode
            episode.id = nil
            try episode.insert(db)
            let episodeId = db.lastInsertedRowID
            try Self.insertSteps(steps, episodeId: episodeId, db)
            try Self.insertTrades(trades, episodeId: episodeId, db)
            try Self.insertMetrics(metrics, runId: episode.runId, db)
            try Self.renewLease(runId: episode.runId, db)
            return episodeId
        }
    }

    /// Inserts steps through one cached prepared statement, binding values with SQLite's C API: twice the rate of
    /// GRDB's `StatementArguments` (measured in release: about 500k against 250k rows per CPU second).
    static func insertSteps(_ steps: [StepRecord], episodeId: Int64, _ db: Database) throws {
        guard !steps.isEmpty else { return }
        let statement = try db.cachedStatement(sql: """
            INSERT INTO step (episodeId, barIndex, timestamp, action, position, positionsJSON, fillPrice, reward, equity, cost)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let handle = statement.sqliteStatement
        // Leave the cached statement as GRDB expects it: reset, and no binding to a freed string.
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        for s in steps {
            sqlite3_reset(handle)
            sqlite3_bind_int64(handle, 1, episodeId)
            sqlite3_bind_int64(handle, 2, s.barIndex)
            sqlite3_bind_int64(handle, 3, s.timestamp)
            sqlite3_bind_double(handle, 4, s.action)  // NaN binds as NULL, which the NOT NULL columns reject
            sqlite3_bind_double(handle, 5, s.position)
            sqlite3_bind_double(handle, 7, s.fillPrice)
            sqlite3_bind_double(handle, 8, s.reward)
            sqlite3_bind_double(handle, 9, s.equity)
            sqlite3_bind_double(handle, 10, s.cost)
            let code = s.positionsJSON.withCString { text in
                // SQLITE_STATIC (nil): the text stays valid until sqlite3_step below has returned.
                let bound = sqlite3_bind_text(handle, 6, text, -1, nil)
                return bound == SQLITE_OK ? sqlite3_step(handle) : bound
            }
            guard code == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: sqlite3_extended_errcode(db.sqliteConnection)),
                                    message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
        }
    }

    /// Renews the lease of a running run owned by this process (inside the caller's transaction).
    static func renewLease(runId: Int64, _ db: Database) throws {
        try db.execute(sql: "UPDATE run SET heartbeatAt = ? WHERE id = ? AND status = 'running' AND ownerPid = ? AND ownerHost = ?",
                       arguments: [Date(), runId, Int64(getpid()), RunOwner.host])
    }

    /// Inserts trades through one cached prepared statement.
    static func insertTrades(_ trades: [TradeRecord], episodeId: Int64, _ db: Database) throws {
        guard !trades.isEmpty else { return }
        let statement = try db.cachedStatement(sql: """
            INSERT INTO trade (episodeId, barIndex, timestamp, asset, quantity, price, cost) VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        for t in trades {
            try statement.execute(arguments: [episodeId, t.barIndex, t.timestamp, t.asset, t.quantity, t.price, t.cost])
        }
    }

    /// Inserts metrics through one cached prepared statement; `runId` overrides the records' run when given.
    static func insertMetrics(_ metrics: [MetricRecord], runId: Int64?, _ db: Database) throws {
        guard !metrics.isEmpty else { return }
        let statement = try db.cachedStatement(sql: "INSERT INTO metric (runId, globalStep, key, value, wallTime) VALUES (?, ?, ?, ?, ?)")
        for m in metrics {
            // SQLite stores NaN as NULL, which the nullable value column accepts and MetricRecord reads back as NaN.
            try statement.execute(arguments: [runId ?? m.runId, m.globalStep, m.key, m.value, m.wallTime])
        }
    }

    /// The episodes of a run in the order they were written, optionally of one split.
    public func episodes(runId: Int64, split: EpisodeSplit? = nil) throws -> [EpisodeRecord] {
        try read("cannot read episodes of run \(runId)") { db in
            try requireRun(runId, db)
            var request = EpisodeRecord.filter(Column("runId") == runId)
            if let split { request = request.filter(Column("split") == split.rawValue) }
            return try request.order(Column("id")).fetchAll(db)
        }
    }

    /// The stored steps of an episode by bar index; an unknown episode is an error.
    public func steps(episodeId: Int64) throws -> [StepRecord] {
        try read("cannot read steps of episode \(episodeId)") { db in
            try requireEpisode(episodeId, db)
            return try StepRecord.filter(Column("episodeId") == episodeId).order(Column("barIndex")).fetchAll(db)
        }
    }

    /// A page of an episode's stored steps by bar index (rows `offset ..< offset + limit`) and the number of stored rows.
    public func steps(episodeId: Int64, offset: Int, limit: Int) throws -> (steps: [StepRecord], total: Int) {
        try read("cannot read steps of episode \(episodeId)") { db in
            try requireEpisode(episodeId, db)
            let request = StepRecord.filter(Column("episodeId") == episodeId)
            return (try request.order(Column("barIndex")).limit(limit, offset: offset).fetchAll(db), try request.fetchCount(db))
        }
    }

    /// The trades of an episode by bar index, then insertion order; an unknown episode is an error.
    public func trades(episodeId: Int64) throws -> [TradeRecord] {
        try read("cannot read trades of episode \(episodeId)") { db in
            try requireEpisode(episodeId, db)
            return try TradeRecord.filter(Column("episodeId") == episodeId).order(Column("barIndex"), Column("id")).fetchAll(db)
        }
    }

    /// Throws `no episode with id N` unless the episode exists.
    private func requireEpisode(_ id: Int64, _ db: Database) throws {
        if try !EpisodeRecord.exists(db, key: id) {
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
            var request = MetricRecord.filter(Column("runId") == runId)
            if let key { request = request.filter(Column("key") == key) }
            return try request.order(Column("key"), Column("globalStep"), Column("id")).fetchAll(db)
        }
    }

    /// Records a saved checkpoint file (an absolute path) and returns it as read back (see `checkpoints`).
    @discardableResult
    public func addCheckpoint(runId: Int64, globalStep: Int64, file: String, sha256: String,
                              createdAt: Date = Date()) throws -> CheckpointRecord {
        try write("cannot add checkpoint to run \(runId)") { db in
            try requireRun(runId, db)
            try CheckpointRecord(runId: runId, globalStep: globalStep, file: recordedPath(file), sha256: sha256,
                                 createdAt: createdAt).insert(db)
            return resolved(try CheckpointRecord.fetchOne(db, key: db.lastInsertedRowID)!)
        }
    }

    /// Records the files of one saved checkpoint (absolute path and SHA-256 each) in ONE transaction, so a killed
    /// process leaves either all of them recorded or none.
    public func addCheckpoint(runId: Int64, globalStep: Int64, files: [(file: String, sha256: String)],
                              createdAt: Date = Date()) throws {
        try write("cannot add checkpoint to run \(runId)") { db in
            try requireRun(runId, db)
            for f in files {
                try CheckpointRecord(runId: runId, globalStep: globalStep, file: recordedPath(f.file), sha256: f.sha256,
                                     createdAt: createdAt).insert(db)
            }
        }
    }

    /// The checkpoints of a run by step, with absolute file paths.
    public func checkpoints(runId: Int64) throws -> [CheckpointRecord] {
        try read("cannot read checkpoints of run \(runId)") { db in
            try requireRun(runId, db)
            return try CheckpointRecord.filter(Column("runId") == runId).order(Column("globalStep"), Column("id"))
                .fetchAll(db).map(resolved)
        }
    }

    /// The checkpoint with the highest step (the last written among equals), nil if the run has none.
    public func latestCheckpoint(runId: Int64) throws -> CheckpointRecord? {
        try read("cannot read checkpoints of run \(runId)") { db in
            try requireRun(runId, db)
            return try CheckpointRecord.filter(Column("runId") == runId)
                .order(Column("globalStep").desc, Column("id").desc).fetchOne(db).map(resolved)
        }
    }

    /// How a checkpoint file is recorded: relative to `folder` when it lies inside it, else as given.
    func recordedPath(_ file: String) -> String {
        let standard = URL(fileURLWithPath: file).standardizedFileURL.path
        return standard.hasPrefix(folder + "/") ? String(standard.dropFirst(folder.count + 1)) : file
    }

    /// `record` with its file made absolute: a relative path lies inside `folder`.
    func resolved(_ record: CheckpointRecord) -> CheckpointRecord {
        var r = record
        if !r.file.hasPrefix("/") { r.file = folder + "/" + r.file }
        return r
    }

    /// Deletes what a run wrote after training step `step` (episodes with their steps and trades, metrics, checkpoint
    /// rows), in one transaction: a resumed run continues from its checkpoint at `step` without duplicate rows.
    /// Returns the number of episodes removed.
    @discardableResult
    public func rollback(runId: Int64, after step: Int64) throws -> Int {
        try write("cannot roll back run \(runId) to step \(step)") { db in
            try requireRun(runId, db)
            let episodes = try EpisodeRecord.filter(Column("runId") == runId && Column("globalStep") > step).deleteAll(db)
            try MetricRecord.filter(Column("runId") == runId && Column("globalStep") > step).deleteAll(db)
            try CheckpointRecord.filter(Column("runId") == runId && Column("globalStep") > step).deleteAll(db)
            return episodes
        }
    }

    // MARK: - Maintenance

    /// SQLite's `PRAGMA integrity_check` result: `ok` for a healthy file, else the problems, one per line.
    public func integrityCheck() throws -> String {
        try read("cannot check integrity") { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "\n")
        }
    }
}
