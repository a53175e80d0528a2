import Foundation
import GRDB
import PostgresNIO

/// A run store in a PostgreSQL database, through one PostgresNIO connection per `RunStore` (one per running trial).
///
/// `RunStore`'s API is synchronous and called from the training thread, so every call runs its transaction under a
/// lock and waits for the connection's futures on NIO's shared event-loop group (never on Swift's cooperative pool, so
/// parallel tests cannot starve it). Reads run in `REPEATABLE READ READ ONLY` transactions (one snapshot, as SQLite's
/// readers); writes in `READ COMMITTED` ones, with `SELECT … FOR UPDATE` or an advisory lock where a check is followed
/// by an insert. Each transaction runs in UTC with `lock_timeout` set to the store's busy timeout. A connection the
/// server closed between transactions is opened again by the next one; one closed within a transaction fails it (the
/// server rolled it back).
final class PostgresBackend: StoreBackend, @unchecked Sendable {
    let location: PostgresLocation
    let busyTimeout: TimeInterval
    var dialect: SQLDialect { .postgres }
    /// Guards `connection` and serialises this store's transactions.
    private let lock = NSLock()
    private var connection: PostgresConnection?
    private static let logger: Logger = {
        var logger = Logger(label: "tradesim.runstore.postgres")
        logger.logLevel = .critical
        return logger
    }()

    /// Connects and applies new migrations (several processes opening a new database take turns) unless `migrating`
    /// is false.
    init(location: PostgresLocation, busyTimeout: TimeInterval, create: Bool, migrating: Bool = true) throws {
        self.location = location
        self.busyTimeout = busyTimeout
        do {
            connection = try connect()
        } catch {
            throw RunStoreError(path: location.shown, reason: describe(error, busyTimeout: busyTimeout) ?? "\(error)")
        }
        guard migrating else { return }
        do {
            if let schema = location.schema, create {
                // Processes creating the same schema at once take turns (IF NOT EXISTS alone can race).
                try write { db in
                    try db.execute(db.dialect.serialize!, [])
                    try db.execute("CREATE SCHEMA IF NOT EXISTS \(schema)", [])
                }
            }
            try RunStoreSchema.migrate(self, path: location.shown, create: create)
        } catch let error as RunStoreError {
            throw error
        } catch {
            let reason = describe(error, busyTimeout: busyTimeout) ?? "\(error)"
            throw RunStoreError(path: location.shown, reason: "cannot create or upgrade the schema: \(reason)")
        }
    }

    deinit {
        try? connection?.close().wait()
    }

    private func connect() throws -> PostgresConnection {
        let tls: PostgresConnection.Configuration.TLS
        switch location.sslMode {
        case .disable:
            tls = .disable
        case .prefer, .require:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none  // as libpq's prefer and require
            let context = try NIOSSLContext(configuration: configuration)
            tls = location.sslMode == .prefer ? .prefer(context) : .require(context)
        }
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: tls)
        configuration.options.additionalStartupParameters = [("application_name", "tradesim")]
        return try PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 1, logger: Self.logger
        ).wait()
    }

    func write<T>(_ body: (any StoreConnection) throws -> T) throws -> T {
        try transaction("BEGIN", body)
    }

    func read<T>(_ body: (any StoreConnection) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    /// Runs `body` between `begin` and COMMIT on this store's connection, or ROLLBACK when it throws. When `begin`
    /// fails, nothing of the transaction ran, and the likely cause is a connection the server dropped while it was
    /// idle, which NIO may learn of only as `begin` goes out (its last message, a FATAL error, then comes as the
    /// statement's error): the transaction starts again, once, on a new connection.
    private func transaction<T>(_ begin: String, _ body: (any StoreConnection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        if connection?.isClosed ?? true {
            connection = try connect()
        }
        var db = PostgresStoreConnection(connection: connection!, logger: Self.logger)
        do {
            try db.execute(begin, [])
        } catch {
            connection?.close().whenComplete { _ in }
            connection = try connect()
            db = PostgresStoreConnection(connection: connection!, logger: Self.logger)
            try db.execute(begin, [])
        }
        try db.execute(settings, [])
        do {
            let result = try body(db)
            try db.execute("COMMIT", [])
            return result
        } catch {
            _ = try? db.execute("ROLLBACK", [])
            throw error
        }
    }

    /// The transaction's settings: UTC (dates are bound as UTC text), the lock timeout, the store's schema. Set in
    /// each transaction (`set_config(…, true)`), not for the session, so that a pooler in transaction mode (pgbouncer)
    /// can hand each transaction another server connection.
    private var settings: String {
        let timeout = Int((busyTimeout * 1_000).rounded())
        return "SELECT set_config('TimeZone', 'UTC', true), set_config('lock_timeout', '\(timeout)', true)"
            + (location.schema.map { ", set_config('search_path', '\($0)', true)" } ?? "")
    }

    /// Drops the store's schema with everything in it (a test's schema at its end).
    func dropSchema() throws {
        guard let schema = location.schema else { return }
        _ = try write { db in try db.execute("DROP SCHEMA \(schema) CASCADE", []) }
    }

    func describe(_ error: any Error, busyTimeout: TimeInterval) -> String? {
        if let error = error as? PostgresDecodingError {
            return "cannot read column \(error.columnName) (\(error.code))"
        }
        if let error = error as? NIOSSLError { return "TLS failed (\(error))" }
        if error is ConnectionLost { return "the connection to the server was lost" }
        guard let error = error as? PSQLError else { return nil }
        switch error.code {
        case .server:
            return serverMessage(error.serverInfo, busyTimeout: busyTimeout)
        case .connectionError:
            return "cannot connect to \(location.host):\(location.port) (\(Self.connectionFailure(error.underlying)))"
        case .sslUnsupported:
            return "the server does not support TLS (sslmode=require)"
        case .authMechanismRequiresPassword:
            return "the server wants a password for user \(location.user): none in PGPASSWORD or ~/.pgpass"
                + (location.passFileNote.map { " (\($0))" } ?? "")
        case .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
            return "the connection to the server was lost"
        default:
            return "PostgreSQL client error (\(error.code))"
        }
    }

    /// The server's error in the words SQLite uses for the same failure, so a message does not depend on the backend.
    private func serverMessage(_ info: PSQLError.ServerInfo?, busyTimeout: TimeInterval) -> String {
        let message = info?[.message] ?? "unknown server error"
        let table = info?[.tableName] ?? "?"
        switch info?[.sqlState] {
        case "23502":  // not_null_violation
            return "a value is NaN or missing (NOT NULL constraint failed: \(table).\(canonical(info?[.columnName])))"
        case "23505":  // unique_violation; detail: Key (episodeid, barindex)=(1, 0) already exists.
            let key = info?[.detail].flatMap { $0.split(separator: "(", maxSplits: 1).dropFirst().first }
                .flatMap { $0.split(separator: ")", maxSplits: 1).first }
            let columns = key.map { $0.split(separator: ",").map { "\(table).\(canonical($0.trimmed))" } }
            return "UNIQUE constraint failed: " + (columns?.joined(separator: ", ") ?? message)
        case "23503":  // foreign_key_violation
            return "FOREIGN KEY constraint failed"
        case "55P03", "40P01":  // lock_not_available, deadlock_detected
            return "database is locked by another writer (waited \(RunStoreError.formatSeconds(busyTimeout)))"
        case "28P01", "28000":  // invalid_password, invalid_authorization_specification
            return message + (location.passFileNote.map { " (\($0))" } ?? "")
        case "53100":  // disk_full
            return "database or disk is full"
        default:
            return message
        }
    }

    /// A column name as the schema spells it (PostgreSQL reports the folded, lower-case name).
    private func canonical(_ name: (some StringProtocol)?) -> String {
        guard let name else { return "?" }
        return RunStoreSchema.columnNames[name.lowercased()] ?? String(name)
    }

    /// Why a connection could not be made, in words (`connection refused`, `host not found`).
    static func connectionFailure(_ error: (any Error)?) -> String {
        guard let error else { return "unknown reason" }
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode)).lowercased()
        }
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return connectionFailure(first.error) }
            return error.dnsAError != nil || error.dnsAAAAError != nil ? "host not found" : "no address to connect to"
        }
        if error is ChannelError { return "timed out" }
        return "\(error)"
    }
}

extension StringProtocol {
    var trimmed: String { trimmingCharacters(in: .whitespaces) }
}

/// The connection inside one transaction: statements are sent with `?` parameters rewritten to `$1`, `$2`… and
/// quoted identifiers folded to lower case (as PostgreSQL folds unquoted ones).
struct PostgresStoreConnection: StoreConnection {
    let connection: PostgresConnection
    let logger: Logger
    var dialect: SQLDialect { .postgres }

    @discardableResult
    func execute(_ sql: String, _ arguments: [DatabaseValue]) throws -> Int {
        let result = try wait(connection.query(Self.query(sql, arguments), logger: logger))
        return result.metadata.rows ?? 0
    }

    /// The result of a query's `future`. PostgresNIO writes a query to its channel without listening for the write's
    /// failure, so a query that meets a connection already closed never completes: the wait looks at the connection
    /// every 200 ms, and once it is closed, gives the query 200 ms more before failing with `ConnectionLost`.
    func wait<T: Sendable>(_ future: EventLoopFuture<T>) throws -> T {
        let outcome = Outcome<T>()
        future.whenComplete { outcome.set($0) }
        var closedChecks = 0
        while true {
            if let result = outcome.wait(milliseconds: 200) { return try result.get() }
            if connection.isClosed {
                closedChecks += 1
                if closedChecks == 2 { throw ConnectionLost() }
            }
        }
    }

    func forEachRow(_ sql: String, _ arguments: [DatabaseValue], _ body: (StoreRow) throws -> Void) throws {
        try withoutActuallyEscaping(body) { body in
            // The rows arrive on the event loop while this thread waits, so the body runs on one thread at a time.
            // PostgresNIO may keep the row handler after the query: it lets go of the body before this returns.
            let consumer = RowConsumer(body: body)
            defer { consumer.body = nil }
            do {
                _ = try wait(connection.query(Self.query(sql, arguments), logger: logger) { try consumer.consume($0) })
            } catch {
                throw consumer.failure ?? error  // the body's own error, not the cancelled query's
            }
        }
    }

    func fetchAll<R: FetchableRecord>(_ type: R.Type, _ sql: String, _ arguments: [DatabaseValue]) throws -> [R] {
        var records: [R] = []
        try forEachRow(sql, arguments) { records.append(try R(row: $0.row)) }
        return records
    }

    /// Steps go in one `INSERT … SELECT FROM unnest(…)` with an array per column (binary, no text formatting); NaN
    /// becomes NULL, which the NOT NULL columns reject, as in SQLite.
    func insertSteps(_ steps: [StepRecord], episodeId: Int64) throws {
        guard !steps.isEmpty else { return }
        var binds = PostgresBindings(capacity: 10)
        binds.append(episodeId)
        binds.append(steps.map(\.barIndex))
        binds.append(steps.map(\.timestamp))
        binds.append(steps.map(\.action))
        binds.append(steps.map(\.position))
        binds.append(steps.map(\.positionsJSON))
        binds.append(steps.map(\.fillPrice))
        binds.append(steps.map(\.reward))
        binds.append(steps.map(\.equity))
        binds.append(steps.map(\.cost))
        let sql = """
            INSERT INTO step (episodeId, barIndex, timestamp, action, position, positionsJSON, fillPrice, reward, \
            equity,
                              cost)
            SELECT $1, b, t, NULLIF(a, 'NaN'), NULLIF(p, 'NaN'), j, NULLIF(f, 'NaN'), NULLIF(r, 'NaN'),
                   NULLIF(e, 'NaN'), NULLIF(c, 'NaN')
            FROM unnest($2::bigint[], $3::bigint[], $4::float8[], $5::float8[], $6::text[], $7::float8[],
                        $8::float8[], $9::float8[], $10::float8[]) AS u(b, t, a, p, j, f, r, e, c)
            """
        _ = try wait(connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger))
    }

    /// The query with its arguments bound: integers as int8, doubles as float8 (NaN as NULL, as SQLite stores it),
    /// text untyped so that the server reads it as the column's type (a date's text into a TIMESTAMPTZ column).
    static func query(_ sql: String, _ arguments: [DatabaseValue]) -> PostgresQuery {
        var binds = PostgresBindings(capacity: arguments.count)
        for value in arguments {
            switch value.storage {
            case .null: binds.appendNull()
            case .int64(let v): binds.append(v)
            case .double(let v): if v.isNaN { binds.appendNull() } else { binds.append(v) }
            case .string(let s): binds.append(UntypedText(text: s))
            case .blob(let data): binds.append(ByteBuffer(bytes: data))
            }
        }
        return PostgresQuery(unsafeSQL: translate(sql), binds: binds)
    }

    /// `sql` with `?` parameters numbered `$1`, `$2`… and identifiers in double quotes folded to lower case;
    /// string literals are left alone.
    static func translate(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var parameters = 0
        var quote: Character?
        for c in sql {
            if let q = quote {
                out += q == "\"" ? c.lowercased() : String(c)
                if c == q { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
                out.append(c)
            } else if c == "?" {
                parameters += 1
                out += "$\(parameters)"
            } else {
                out.append(c)
            }
        }
        return out
    }
}

/// A query that went out on a connection the server had closed.
struct ConnectionLost: Error {}

/// The result of a future, handed from the event loop to the thread that waits for it.
private final class Outcome<T: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<T, any Error>?

    func set(_ result: Result<T, any Error>) {
        condition.lock()
        self.result = result
        condition.signal()
        condition.unlock()
    }

    /// The result, waiting for it at most `milliseconds` (nil if it has not come by then).
    func wait(milliseconds: Int) -> Result<T, any Error>? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(Double(milliseconds) / 1_000)
        while result == nil && condition.wait(until: deadline) {}
        return result
    }
}

/// Turns the rows of a query into `StoreRow`s for a body that runs while the caller waits.
private final class RowConsumer: @unchecked Sendable {
    var body: ((StoreRow) throws -> Void)?
    var columns: [String]?
    /// What the body threw (PostgresNIO then cancels the query and reports that instead).
    var failure: (any Error)?

    init(body: @escaping (StoreRow) throws -> Void) {
        self.body = body
    }

    func consume(_ row: PostgresRow) throws {
        let names = columns ?? row.map(\.columnName)
        columns = names
        do {
            try body?(StoreRow(columns: names, values: try row.map(Self.value)))
        } catch {
            failure = error
            throw error
        }
    }

    /// A cell as a GRDB value: integers, doubles, text, and a timestamp as GRDB's UTC date text (exact to the ms).
    static func value(_ cell: PostgresCell) throws -> DatabaseValue {
        guard var bytes = cell.bytes else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8:
            return try cell.decode(Int64.self).databaseValue
        case .float4, .float8:
            return try cell.decode(Double.self).databaseValue
        case .bool:
            return (try cell.decode(Bool.self) ? 1 : 0).databaseValue
        case .timestamptz, .timestamp:
            guard cell.format == .binary, let micro = bytes.readInteger(as: Int64.self) else {
                return try cell.decode(Date.self).databaseValue
            }
            return grdbDateText(microsecondsSince2000: micro).databaseValue
        case .bytea:
            return Data(bytes.readableBytesView).databaseValue
        default:
            return try cell.decode(String.self).databaseValue
        }
    }
}

/// GRDB's text for a date (`yyyy-MM-dd HH:mm:ss.SSS`, UTC) of PostgreSQL's binary timestamp, by integer arithmetic.
func grdbDateText(microsecondsSince2000 micro: Int64) -> String {
    let (seconds, fraction) = micro.quotientAndRemainder(dividingBy: 1_000_000)
    let (s, f) = fraction < 0 ? (seconds - 1, fraction + 1_000_000) : (seconds, fraction)
    var time = time_t(s + 946_684_800)
    var parts = tm()
    gmtime_r(&time, &parts)
    return String(
        format: "%04d-%02d-%02d %02d:%02d:%02d.%03d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
        parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(f / 1_000))
}

/// Text bound without a type, as libpq binds text: the server reads it as whatever the context needs.
struct UntypedText: PostgresDynamicTypeEncodable {
    let text: String
    var psqlType: PostgresDataType { .null }
    var psqlFormat: PostgresFormat { .text }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into byteBuffer: inout ByteBuffer,
        context: PostgresEncodingContext<JSONEncoder>
    ) {
        byteBuffer.writeString(text)
    }
}
