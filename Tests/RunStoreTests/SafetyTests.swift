import Foundation
import GRDB
import Testing

@testable import RunStore

/// Failures give one clear line naming the file, and never damage what was committed before.
@Suite struct SafetyTests {
    @Test(arguments: Backend.all) func readerWorksWhileWriterHoldsALongTransaction(_ backend: Backend) throws {
        let stores = try TestStores(backend)
        let path = stores.path("wal.sqlite")
        let store = try RunStore(path: path)
        let other = try RunStore(path: path)
        let run = try makeRun(store)
        let committed = try store.writeEpisode(makeEpisode(runId: run.id!, index: 0), steps: makeSteps(20))

        // A writer inserts a second episode and keeps its transaction open.
        let writer = BlockingWriter(store: other) { db in
            try db.execute(
                """
                INSERT INTO episode (runId, split, "index", firstTimestamp, lastTimestamp, steps, totalReward, \
                finalEquity,
                                     costs, globalStep, actionsHash)
                VALUES (?, 'train', 1, 0, 0, 0, 0, 0, 0, 0, '')
                """, sqlArguments(run.id!))
        }
        // Meanwhile readers see the last commit: through the same store, through an export, and through a second store
        // opened on the file (opening an up-to-date store does not need the write lock).
        #expect(try store.episodes(runId: run.id!).map(\.id) == [committed])
        #expect(try store.steps(episodeId: committed).count == 20)
        #expect(try store.export(runId: run.id!, what: .steps, format: .csv, to: FileHandle.nullDevice) == 20)
        let second = try RunStore(path: path, busyTimeout: 0.2)
        #expect(try second.runs().map(\.id) == [run.id])
        #expect(try second.episodes(runId: run.id!).count == 1)
        try writer.release()
        #expect(try store.episodes(runId: run.id!).count == 2)
        #expect(try second.episodes(runId: run.id!).count == 2)
    }

    @Test(arguments: Backend.all) func secondWriterTimesOutWithClearError(_ backend: Backend) throws {
        let stores = try TestStores(backend)
        let path = stores.path("locked.sqlite")
        let first = try RunStore(path: path)
        let run = try makeRun(first)
        let second = try RunStore(path: path, busyTimeout: 0.3)
        // Holds the lock: SQLite's on the file, PostgreSQL's on the run's row (which every episode write updates).
        let writer = BlockingWriter(store: first) { db in
            try db.execute("UPDATE run SET heartbeatAt = heartbeatAt WHERE id = ?", sqlArguments(run.id!))
        }
        let start = Date()
        #expect(
            throws: RunStoreError(
                path: path,
                reason:
                    "cannot write episode train #0 of run \(run.id!): "
                    + "database is locked by another writer (waited 0.3 s)"
            )
        ) {
            try second.writeEpisode(makeEpisode(runId: run.id!), steps: makeSteps(5))
        }
        #expect(Date().timeIntervalSince(start) >= 0.25)  // it waited for the lock rather than failing at once
        try writer.release()
        // Once the lock is free the same write succeeds, and nothing half-written is left from the failed attempt.
        let id = try second.writeEpisode(makeEpisode(runId: run.id!), steps: makeSteps(5))
        #expect(try first.episodes(runId: run.id!).map(\.id) == [id])
        #expect(try scalar(first, "SELECT COUNT(*) FROM step") == 5)
    }

    @Test func notADatabaseIsRefusedAndLeftAlone() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("notes.sqlite")
        let content = Data(String(repeating: "these are my notes, not a database\n", count: 200).utf8)
        try content.write(to: URL(fileURLWithPath: path))
        #expect(throws: RunStoreError(path: path, reason: "file is not a database")) { _ = try RunStore(path: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == content)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["notes.sqlite"])
    }

    /// A SQLite file of something else is never made a store: readers refuse it, and so do writers unless it is empty
    /// (which they may make a store); a refused file is left byte for byte as it was, with nothing beside it.
    @Test func databaseOfSomethingElseIsRefusedAndLeftAlone() throws {
        let dir = try TemporaryDirectory()
        let plain = dir.file("plain.sqlite"), tableless = dir.file("tableless.sqlite"), empty = dir.file("empty.sqlite")
        // As another program makes them: rollback journal, a table of its own; a header and no table; zero bytes.
        try DatabaseQueue(path: plain).write { db in
            try db.execute(sql: "CREATE TABLE foo(x); INSERT INTO foo VALUES (1)")
        }
        try DatabaseQueue(path: tableless).writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA user_version = 7")
        }
        #expect(FileManager.default.createFile(atPath: empty, contents: nil))
        let files = [plain, tableless, empty]
        let bytes = try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        for create in [false, true] {
            #expect(throws: RunStoreError(path: plain, reason: "not a tradesim run store (it has tables foo)")) {
                _ = try RunStore(path: plain, create: create)
            }
        }
        for file in [tableless, empty] {
            #expect(throws: RunStoreError(path: file, reason: "not a tradesim run store (it is empty)")) {
                _ = try RunStore(path: file, create: false)
            }
        }
        let missing = dir.file("missing/runs.sqlite")
        #expect(throws: RunStoreError(path: missing, reason: "no such run store")) {
            _ = try RunStore(path: missing, create: false)
        }
        #expect(try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == bytes)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == ["empty.sqlite", "plain.sqlite", "tableless.sqlite"])
        for file in [tableless, empty] {
            _ = try makeRun(try RunStore(path: file))
            #expect(try RunStore(path: file, create: false).runs().count == 1)
        }
    }

    /// On PostgreSQL likewise: a schema that holds tables of something else is refused by readers and writers, and
    /// tradesim's tables are not added beside them.
    @Test(.enabled(if: Backend.postgresURL != nil)) func schemaOfSomethingElseIsRefusedAndLeftAlone() throws {
        let stores = try TestStores(.postgres)
        let url = stores.path("plain"), location = try PostgresLocation(url)
        let backend = try PostgresBackend(location: location, busyTimeout: 5, create: false, migrating: false)
        _ = try backend.write { db in
            try db.execute("CREATE SCHEMA \(location.schema!)", [])
            try db.execute("CREATE TABLE foo (x integer)", [])
            try db.execute("CREATE VIEW bar AS SELECT x FROM foo", [])
        }
        for create in [false, true] {
            #expect(
                throws: RunStoreError(path: location.shown, reason: "not a tradesim run store (it has tables bar, foo)")
            ) {
                _ = try RunStore(path: url, create: create)
            }
        }
        #expect(try backend.read { db in try db.values(String.self, db.dialect.tableNames, []) } == ["bar", "foo"])
        // an empty schema is made a store
        _ = try backend.write { db in try db.execute("DROP VIEW bar", []) + db.execute("DROP TABLE foo", []) }
        _ = try makeRun(try RunStore(path: url))
        #expect(try RunStore(path: url, create: false).runs().count == 1)
    }

    @Test func readOnlyDirectoryIsRefused() throws {
        let dir = try TemporaryDirectory()
        let runs = dir.file("runs")
        let path = (runs as NSString).appendingPathComponent("x.sqlite")
        let store = try RunStore(path: path)
        let run = try makeRun(store)
        try store.writeEpisode(makeEpisode(runId: run.id!), steps: makeSteps(10))
        try store.pool.close()

        #expect(chmod(runs, 0o555) == 0)
        defer { chmod(runs, 0o755) }
        if canCreateFile(in: runs) {
            // Root ignores directory permissions; /sys is never writable, not even for root.
            #expect(throws: RunStoreError(path: "/sys/", reason: "directory is not writable")) {
                _ = try RunStore(path: "/sys/x.sqlite")
            }
            #expect(throws: RunStoreError(path: "/sys/tradesim-runs/", reason: "cannot create directory")) {
                _ = try RunStore(path: "/sys/tradesim-runs/x.sqlite")
            }
        } else {
            #expect(throws: RunStoreError(path: runs + "/", reason: "directory is not writable")) {
                _ = try RunStore(path: path)
            }
            #expect(throws: RunStoreError(path: runs + "/", reason: "directory is not writable")) {
                _ = try RunStore(path: runs + "/new.sqlite")
            }
            #expect(throws: RunStoreError(path: runs + "/sub/", reason: "cannot create directory")) {
                _ = try RunStore(path: runs + "/sub/x.sqlite")
            }
        }
        chmod(runs, 0o755)
        let reopened = try RunStore(path: path)
        #expect(try reopened.integrityCheck() == "ok")
        #expect(try scalar(reopened, "SELECT COUNT(*) FROM step") == 10)
    }

    @Test func relativePathNamesItsDirectory() throws {
        // Errors name the path as the user typed it; a bare file name's directory is "./".
        #expect(
            RunStoreError(path: "runs/x.sqlite", reason: "file is not a database").description
                == "runs/x.sqlite: file is not a database")
        let dir = try TemporaryDirectory()
        let file = dir.file("regular")
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        #expect(throws: RunStoreError(path: file + "/", reason: "not a directory")) {
            _ = try RunStore(path: file + "/x.sqlite")
        }
    }

    /// SQLite reports a full disk met while it grows its `-shm` file (opening a store on a full disk) as an I/O error:
    /// the message says that the disk is full when it is, and only then.
    @Test func anIOErrorOnAFullDiskSaysSo() {
        let error = DatabaseError(resultCode: .SQLITE_IOERR, message: "disk I/O error")
        #expect(
            SQLiteBackend.describe(error, busyTimeout: 1, freeBytes: 4_096)
                == "disk I/O error: the disk is full (4096 bytes free)")
        #expect(SQLiteBackend.describe(error, busyTimeout: 1, freeBytes: 1 << 30) == "disk I/O error")
        #expect(SQLiteBackend.describe(error, busyTimeout: 1, freeBytes: nil) == "disk I/O error")
    }

    @Test func fullDiskKeepsEarlierEpisodes() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("full.sqlite")
        // 80 pages of 4 KiB: the schema fits, a few episodes of 200 steps fit, then the "disk" is full.
        let store = try RunStore(path: path, maxPageCount: 80)
        let run = try makeRun(store)
        var written: [Int64] = []
        var failure: (any Error)?
        for i in 0..<1_000 {
            do {
                written.append(
                    try store.writeEpisode(
                        makeEpisode(runId: run.id!, index: Int64(i)), steps: makeSteps(200),
                        trades: makeTrades(5), metrics: makeMetrics(globalStep: Int64(i))))
            } catch {
                failure = error
                break
            }
        }
        let index = written.count
        #expect(index > 0)
        #expect(
            failure as? RunStoreError
                == RunStoreError(
                    path: path,
                    reason: "cannot write episode train #\(index) of run \(run.id!): database or disk is full"))

        // Smaller writes still fail or succeed cleanly; the file reopened without the limit holds exactly the committed
        // episodes.
        let reopened = try RunStore(path: path)
        #expect(try reopened.integrityCheck() == "ok")
        #expect(try reopened.episodes(runId: run.id!).map(\.id!) == written)
        #expect(try scalar(reopened, "SELECT COUNT(*) FROM step") == 200 * written.count)
        #expect(try scalar(reopened, "SELECT COUNT(*) FROM trade") == 5 * written.count)
        #expect(try scalar(reopened, "SELECT COUNT(*) FROM metric") == 3 * written.count)
        for id in written {
            #expect(
                try reopened.steps(episodeId: id)
                    == makeSteps(200).map {
                        var s = $0; s.episodeId = id; return s
                    })
        }
        // With room again, writing continues.
        try reopened.writeEpisode(makeEpisode(runId: run.id!, index: Int64(index)), steps: makeSteps(200))
    }

    /// Whether this process can create a file in `directory` (root can, whatever the permissions).
    func canCreateFile(in directory: String) -> Bool {
        let probe = (directory as NSString).appendingPathComponent("probe")
        guard FileManager.default.createFile(atPath: probe, contents: nil) else { return false }
        try? FileManager.default.removeItem(atPath: probe)
        return true
    }
}
