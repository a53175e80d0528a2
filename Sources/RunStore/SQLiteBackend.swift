import Foundation
import GRDB
import GRDBSQLite  // GRDB's own SQLite module: the C API for the step-insert hot loop

/// A run store in a SQLite file, through one GRDB `DatabasePool` in WAL mode: one writer, concurrent readers that see
/// the last committed state, so `tradesim runs` or an export can read while training writes. With `synchronous =
/// NORMAL`, a committed transaction survives the process being killed (a power loss may drop the last transactions,
/// never corrupt the file).
final class SQLiteBackend: StoreBackend {
    /// The connections: a pool, or one read-only connection for a store opened to be read where its folder takes no
    /// new file (read-only media, another user's folder).
    let database: any DatabaseWriter
    /// The store's file as given (for the free space of its disk).
    let path: String
    var dialect: SQLDialect { .sqlite }

    /// Opens (creating if needed) the file at `path` and applies new migrations while holding an exclusive `flock` on
    /// its directory, so that processes creating the same new store at the same instant take turns: one switches the
    /// file to WAL and creates the schema, the others then find it complete. Waits at most `busyTimeout` for the lock.
    /// A file that holds no store is refused first and left as it is (`checkHoldsStore`).
    /// - Parameters:
    ///   - maxPageCount: upper limit on the file size in pages (`PRAGMA max_page_count`), to simulate a full disk in
    ///     tests.
    ///   - create: false to refuse a missing or empty file rather than make it a store.
    ///   - writing: false for a store that is only read: where its folder takes no new file (SQLite's `-shm` and
    ///     `-wal`), it is opened read-only, as immutable unless a `-wal` file is there (whose transactions it then
    ///     reads), and a write fails (`database is read-only`).
    init(path: String, busyTimeout: TimeInterval, maxPageCount: Int?, create: Bool, writing: Bool) throws {
        self.path = path
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
            if isFolder.boolValue { throw RunStoreError(path: path, reason: "is a folder, not a run store file") }
        } else if !create {
            throw RunStoreError(path: path, reason: "no such run store")
        }
        // A store to read has its folder (the file exists): the probe alone says whether it takes new files.
        let readOnly = !writing && reasonFolderTakesNoFile(Self.directory(of: path).path) != nil
        if writing { try Self.checkDirectory(of: path) }
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
        let directory = Self.directory(of: path).path
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw RunStoreError(path: directory + "/", reason: "cannot open the directory") }
        defer { close(fd) }  // closing releases the lock
        let deadline = Date().addingTimeInterval(busyTimeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, Date() < deadline else {
                let waited = RunStoreError.formatSeconds(busyTimeout)
                throw RunStoreError(path: path, reason: "another process is opening the store (waited \(waited))")
            }
            usleep(2_000)
        }
        let readOnlyPath = readOnly ? Self.readOnlyPath(path) : nil
        try Self.checkHoldsStore(readOnlyPath ?? path, shown: path, create: create, busyTimeout: busyTimeout)
        do {
            if let readOnlyPath {
                config.readonly = true
                database = try DatabaseQueue(path: readOnlyPath, configuration: config)
            } else {
                database = try DatabasePool(path: path, configuration: config)
            }
        } catch {
            throw RunStoreError(path: path, reason: Self.describe(error, busyTimeout: busyTimeout, path: path))
        }
        do {
            try RunStoreSchema.migrate(self, path: path, create: create)
        } catch let error as RunStoreError {
            throw error
        } catch {
            let reason = Self.describe(error, busyTimeout: busyTimeout, path: path)
            throw RunStoreError(path: path, reason: "cannot create or upgrade the schema: \(reason)")
        }
    }

    /// Refuses a file that holds no store before it is opened for writing (which would switch it to WAL and add the
    /// schema): one with tables but no tradesim migrations (`plain.sqlite: not a tradesim run store (it has tables
    /// foo)`), and, unless `create`, one that is empty (zero bytes, or a database without tables: `(it is empty)`).
    /// The file is read through a read-only connection only (opened by `readPath`, `path` or its `readOnlyPath`), so a
    /// refused file is left byte for byte as it was.
    private static func checkHoldsStore(
        _ readPath: String, shown path: String, create: Bool, busyTimeout: TimeInterval
    ) throws {
        var info = stat()
        guard stat(path, &info) == 0, info.st_size > 0 else {
            if create { return }
            throw RunStoreError(path: path, reason: "not a tradesim run store (it is empty)")
        }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(busyTimeout)
        var tables: [String] = []
        var isStore = false
        do {
            let queue = try DatabaseQueue(path: readPath, configuration: config)
            try queue.read { db in
                tables = try String.fetchAll(db, sql: SQLDialect.sqlite.tableNames)
                if tables.contains("grdb_migrations") {
                    let first = RunStoreSchema.migrationIdentifiers[0]
                    isStore = try !String.fetchAll(
                        db, sql: "SELECT identifier FROM grdb_migrations WHERE identifier = ?", arguments: [first]
                    ).isEmpty
                }
            }
            try queue.close()
        } catch {
            throw RunStoreError(path: path, reason: describe(error, busyTimeout: busyTimeout, path: path))
        }
        guard !isStore && !(tables.isEmpty && create) else { return }
        let contents = tables.isEmpty ? "it is empty" : "it has tables " + tables.joined(separator: ", ")
        throw RunStoreError(path: path, reason: "not a tradesim run store (\(contents))")
    }

    /// Creates the directory of `path` if it is missing and checks that files can be created in it
    /// (SQLite needs the `-wal` and `-shm` files next to the database).
    private static func checkDirectory(of path: String) throws {
        let (directory, shown) = Self.directory(of: path)
        do { try makeFolder(URL(fileURLWithPath: directory)) } catch let problem as FolderProblem {
            throw RunStoreError(path: shown, reason: problem.inTheWay ? "not a directory" : "cannot create directory")
        }
        guard reasonFolderTakesNoFile(directory) == nil else {
            throw RunStoreError(path: shown, reason: "directory is not writable")
        }
    }

    /// What a read-only connection opens where the folder of `path` takes no new file: the file itself when its `-wal`
    /// file is there (a writer is running or was killed; SQLite reads the log through it), else the file as immutable
    /// (a URI: SQLite then needs no `-shm` file, and nobody can be writing without a `-wal` file).
    static func readOnlyPath(_ path: String) -> String {
        if FileManager.default.fileExists(atPath: path + "-wal") { return path }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        return "file:" + absolute.addingPercentEncoding(withAllowedCharacters: allowed)! + "?immutable=1"
    }

    /// The directory of `path` (`.` for a bare name) and how messages show it (with a trailing `/`).
    static func directory(of path: String) -> (path: String, shown: String) {
        let shown = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "./"
        return (shown == "./" ? "." : shown == "/" ? "/" : String(shown.dropLast()), shown)
    }

    func write<T>(_ body: (any StoreConnection) throws -> T) throws -> T {
        try database.write { db in try body(SQLiteConnection(db: db)) }
    }

    func read<T>(_ body: (any StoreConnection) throws -> T) throws -> T {
        try database.read { db in try body(SQLiteConnection(db: db)) }
    }

    func describe(_ error: any Error, busyTimeout: TimeInterval) -> String? {
        Self.describe(error, busyTimeout: busyTimeout, freeBytes: Self.freeBytes(near: path))
    }

    /// `describe` of an error met opening the store at `path` (its text when SQLite does not name it).
    static func describe(_ error: any Error, busyTimeout: TimeInterval, path: String) -> String {
        describe(error, busyTimeout: busyTimeout, freeBytes: freeBytes(near: path)) ?? "\(error)"
    }

    /// Bytes free for new files in the folder of `path` (nil where the system does not say).
    static func freeBytes(near path: String) -> Int64? {
        let attributes = try? FileManager.default.attributesOfFileSystem(forPath: directory(of: path).path)
        return (attributes?[.systemFreeSize] as? NSNumber)?.int64Value
    }

    /// Plain words for the SQLite errors a user can meet. SQLite reports a full disk met while it grows its `-shm` or
    /// `-wal` file (opening a store, reading one) as an I/O error, so an I/O error where less than 1 MiB is free
    /// (`freeBytes`, evaluated for I/O errors only) says that the disk is full.
    static func describe(_ error: any Error, busyTimeout: TimeInterval, freeBytes: @autoclosure () -> Int64?)
        -> String?
    {
        guard let error = error as? DatabaseError else { return nil }
        switch error.resultCode {
        case .SQLITE_IOERR:
            let message = error.message ?? "disk I/O error"
            guard let free = freeBytes(), free < 1 << 20 else { return message }
            return "\(message): the disk is full (\(free) bytes free)"
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return "database is locked by another writer (waited \(RunStoreError.formatSeconds(busyTimeout)))"
        case .SQLITE_NOTADB:
            return "file is not a database"
        case .SQLITE_FULL:
            return "database or disk is full"
        case .SQLITE_READONLY:
            return "database is read-only"
        case .SQLITE_CANTOPEN:
            return "unable to open database file"
        case .SQLITE_CORRUPT:
            return "database file is corrupt"
        case .SQLITE_CONSTRAINT:
            let message = error.message ?? "constraint failed"
            if error.extendedResultCode == .SQLITE_CONSTRAINT_NOTNULL {
                return "a value is NaN or missing (\(message))"
            }
            return message
        default:
            return error.message ?? "SQLite error \(error.extendedResultCode.rawValue)"
        }
    }
}

/// A GRDB database connection inside a transaction.
struct SQLiteConnection: StoreConnection {
    let db: Database
    var dialect: SQLDialect { .sqlite }

    @discardableResult
    func execute(_ sql: String, _ arguments: [DatabaseValue]) throws -> Int {
        try db.cachedStatement(sql: sql).execute(arguments: StatementArguments(arguments))
        return db.changesCount
    }

    func forEachRow(_ sql: String, _ arguments: [DatabaseValue], _ body: (StoreRow) throws -> Void) throws {
        let statement = try db.cachedStatement(sql: sql)
        let columns = statement.columnNames
        let rows = try Row.fetchCursor(statement, arguments: StatementArguments(arguments))
        while let row = try rows.next() {
            try body(StoreRow(columns: columns, values: Array(row.databaseValues)))
        }
    }

    func fetchAll<R: FetchableRecord>(_ type: R.Type, _ sql: String, _ arguments: [DatabaseValue]) throws -> [R] {
        try R.fetchAll(db.cachedStatement(sql: sql), arguments: StatementArguments(arguments))
    }

    /// Inserts steps through one cached prepared statement, binding values with SQLite's C API: twice the rate of
    /// GRDB's `StatementArguments` (measured in release: about 500k against 250k rows per CPU second).
    func insertSteps(_ steps: [StepRecord], episodeId: Int64) throws {
        guard !steps.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO step (episodeId, barIndex, timestamp, action, position, positionsJSON, fillPrice, reward, \
                equity,
                                  cost)
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
                throw DatabaseError(
                    resultCode: ResultCode(rawValue: sqlite3_extended_errcode(db.sqliteConnection)),
                    message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
        }
    }
}
