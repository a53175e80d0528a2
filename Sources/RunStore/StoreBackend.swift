import Foundation
import GRDB

/// A database that holds a run store: SQLite through GRDB (`SQLiteBackend`) or PostgreSQL through PostgresNIO
/// (`PostgresBackend`). `RunStore` writes every query once, in SQL both accept (`?` parameters, `"index"` quoted,
/// `INSERT … RETURNING id`), and runs it here; values cross in GRDB's `DatabaseValue` (dates as GRDB's UTC text
/// `yyyy-MM-dd HH:mm:ss.SSS` on both), and records map rows by column name on both.
protocol StoreBackend: Sendable {
    var dialect: SQLDialect { get }
    /// Runs `body` in one write transaction: committed when it returns, rolled back when it throws.
    func write<T>(_ body: (any StoreConnection) throws -> T) throws -> T
    /// Runs `body` in a read transaction: one consistent snapshot of the last commit.
    func read<T>(_ body: (any StoreConnection) throws -> T) throws -> T
    /// Plain words for an error this backend threw, or nil when it is not one of its own.
    func describe(_ error: any Error, busyTimeout: TimeInterval) -> String?
}

/// One connection inside a transaction.
protocol StoreConnection {
    var dialect: SQLDialect { get }
    /// Runs one statement and returns the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: [DatabaseValue]) throws -> Int
    /// Streams the rows of a query to `body`, one at a time (constant memory).
    func forEachRow(_ sql: String, _ arguments: [DatabaseValue], _ body: (StoreRow) throws -> Void) throws
    /// Records of type `R` from a query, mapped by column name.
    func fetchAll<R: FetchableRecord>(_ type: R.Type, _ sql: String, _ arguments: [DatabaseValue]) throws -> [R]
    /// Inserts step rows of one episode by the backend's fastest path.
    func insertSteps(_ steps: [StepRecord], episodeId: Int64) throws
}

/// A result row: its values in column order, and the columns' names.
struct StoreRow {
    let columns: [String]
    let values: [DatabaseValue]

    /// The row as a GRDB `Row`, whose column lookup ignores case (PostgreSQL returns folded, lower-case names).
    var row: Row {
        Row(
            Dictionary(
                zip(columns, values.map { $0 as (any DatabaseValueConvertible)? }),
                uniquingKeysWith: { first, _ in first }))
    }
}

/// Arguments of a statement: GRDB's conversions (a `Date` becomes its UTC text, an enum its raw value).
func sqlArguments(_ values: (any DatabaseValueConvertible)?...) -> [DatabaseValue] {
    values.map { $0?.databaseValue ?? .null }
}

extension StoreConnection {
    /// The first record of a query, nil when it has no row.
    func fetchOne<R: FetchableRecord>(_ type: R.Type, _ sql: String, _ arguments: [DatabaseValue]) throws -> R? {
        try fetchAll(type, sql, arguments).first
    }

    /// The first column of every row, converted by GRDB (NULL as nil).
    func values<T: DatabaseValueConvertible>(
        _ type: T.Type, _ sql: String,
        _ arguments: [DatabaseValue] = []
    ) throws -> [T?] {
        var values: [T?] = []
        try forEachRow(sql, arguments) { row in values.append(T.fromDatabaseValue(row.values[0])) }
        return values
    }

    /// The integer in the first column of the first row (a count).
    func count(_ sql: String, _ arguments: [DatabaseValue] = []) throws -> Int {
        Int(try values(Int64.self, sql, arguments).first.flatMap { $0 } ?? 0)
    }

    /// Inserts `record` into `table` (its nil columns left to their defaults, so a nil `id` is assigned by the
    /// database) and returns the new row's `id` when `returningID`.
    @discardableResult
    func insert(_ record: some EncodableRecord, into table: String, returningID: Bool = true) throws -> Int64? {
        let columns = try record.databaseDictionary.filter { !$0.value.isNull }.sorted { $0.key < $1.key }
        let sql =
            "INSERT INTO \(table) (\(columns.map { "\"\($0.key)\"" }.joined(separator: ", "))) VALUES ("
            + columns.map { _ in "?" }.joined(separator: ", ") + ")"
        guard returningID else {
            try execute(sql, columns.map(\.value))
            return nil
        }
        return try values(Int64.self, sql + " RETURNING id", columns.map(\.value)).first.flatMap { $0 }
    }
}

/// What differs between SQLite's and PostgreSQL's SQL. Queries are written once in SQL both accept; the schema is
/// written once in SQLite's form (as GRDB made it) and translated by `ddl`.
enum SQLDialect: Sendable {
    case sqlite, postgres

    /// A schema statement in this dialect. PostgreSQL: `INTEGER` → `BIGINT`, `DOUBLE` → `DOUBLE PRECISION`, `DATETIME`
    /// → `TIMESTAMPTZ` (microseconds, dates stay exact), an `INTEGER PRIMARY KEY [AUTOINCREMENT]` → a `BIGINT` identity
    /// column, no `WITHOUT ROWID`, and `TEXT` compared and sorted by code point (`ucs_basic`, a UTF-8 database's byte
    /// order, as SQLite's BINARY), so both backends order names alike.
    func ddl(_ sql: String) -> String {
        guard self == .postgres else { return sql }
        let replacements = [
            (#"\bINTEGER PRIMARY KEY( AUTOINCREMENT)?\b"#, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
            (#"\bINTEGER\b"#, "BIGINT"), (#"\bDOUBLE\b"#, "DOUBLE PRECISION"), (#"\bDATETIME\b"#, "TIMESTAMPTZ"),
            (#" WITHOUT ROWID\b"#, ""), (#"\bTEXT\b"#, "TEXT COLLATE ucs_basic"),
        ]
        return replacements.reduce(sql) { text, r in
            text.replacingOccurrences(of: r.0, with: r.1, options: .regularExpression)
        }
    }

    /// The ISO 8601 date (UTC) of a unix-seconds column: `2011-01-03` for a bar at midnight, else
    /// `2017-01-02 13:00:00`, as tradesim prints dates everywhere.
    func isoDate(_ column: String) -> String {
        switch self {
        case .sqlite:
            return "CASE WHEN \(column) % 86400 = 0 THEN date(\(column), 'unixepoch') ELSE \(isoDateTime(column)) END"
        case .postgres:
            return "CASE WHEN \(column) % 86400 = 0 THEN to_char(to_timestamp(\(column)) AT TIME ZONE 'UTC', "
                + "'YYYY-MM-DD') ELSE \(isoDateTime(column)) END"
        }
    }

    /// The ISO 8601 date and time (UTC, whole seconds) of a unix-seconds column: `2026-12-07 21:53:48`; NULL stays NULL.
    func isoDateTime(_ column: String) -> String {
        switch self {
        case .sqlite: return "datetime(\(column), 'unixepoch')"
        case .postgres: return "to_char(to_timestamp(\(column)) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
        }
    }

    /// Appended to a SELECT that must lock its rows until the transaction ends. PostgreSQL only: a SQLite write
    /// transaction holds the whole file.
    var forUpdate: String { self == .postgres ? " FOR UPDATE" : "" }

    /// A statement that makes the transactions that run it take turns (PostgreSQL: an advisory lock held to the end
    /// of the transaction), for a check followed by an insert (unique run names, migrations); nil on SQLite, whose
    /// write transactions take turns anyway.
    var serialize: String? { self == .postgres ? "SELECT pg_advisory_xact_lock(hashtext('tradesim'))" : nil }

    /// The names of the tables and views in the store's database (SQLite) or schema (PostgreSQL), sorted; none of
    /// the database's own.
    var tableNames: String {
        switch self {
        case .sqlite:
            return """
                SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' \
                ESCAPE '\\' ORDER BY name
                """
        case .postgres:
            return """
                SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY 1
                """
        }
    }

    /// Whether table `?` exists (one row when it does).
    var tableExists: String {
        switch self {
        case .sqlite: return "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        case .postgres: return "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?"
        }
    }
}
