import Foundation
import GRDB

/// Which rows of a run to export.
public enum ExportTable: String, Codable, Sendable, CaseIterable {
    case steps, episodes, trades, metrics
}

/// Output format of an export.
public enum ExportFormat: String, Codable, Sendable, CaseIterable {
    /// Header line, then one line per row; fields quoted per RFC 4180 when they hold `,` `"` CR or LF; lines end in LF.
    case csv
    /// JSON Lines: one object per row, keys in column order.
    case jsonl
}

extension RunStore {
    /// The exported columns of each table, in output order (stable: scripts rely on it).
    public static func exportColumns(_ what: ExportTable) -> [String] {
        switch what {
        case .episodes:
            return [
                "id", "runId", "split", "index", "firstTimestamp", "firstDate", "lastTimestamp", "lastDate", "steps",
                "totalReward", "finalEquity", "costs", "globalStep", "actionsHash",
            ]
        case .steps:
            return [
                "episodeId", "split", "episodeIndex", "barIndex", "timestamp", "date", "action", "position",
                "positionsJSON", "fillPrice", "reward", "equity", "cost",
            ]
        case .trades:
            return [
                "id", "episodeId", "split", "episodeIndex", "barIndex", "timestamp", "date", "asset", "quantity",
                "price", "cost",
            ]
        case .metrics:
            return ["id", "globalStep", "key", "value", "wallTime", "wallDate"]
        }
    }

    /// The query behind an export. Every ORDER BY follows an index, so rows stream without a sort buffer.
    static func exportSQL(_ what: ExportTable, _ dialect: SQLDialect) -> String {
        let isoDateSQL = dialect.isoDate
        switch what {
        case .episodes:
            return """
                SELECT id, runId, split, "index", firstTimestamp, \(isoDateSQL("firstTimestamp")) AS firstDate,
                       lastTimestamp, \(isoDateSQL("lastTimestamp")) AS lastDate, steps, totalReward, finalEquity, \
                costs,
                       globalStep, actionsHash
                FROM episode WHERE runId = ? ORDER BY id
                """
        case .steps:
            return """
                SELECT s.episodeId, e.split, e."index" AS episodeIndex, s.barIndex, s.timestamp,
                       \(isoDateSQL("s.timestamp")) AS date, s.action, s.position, s.positionsJSON, s.fillPrice, \
                s.reward,
                       s.equity, s.cost
                FROM episode e JOIN step s ON s.episodeId = e.id
                WHERE e.runId = ? ORDER BY e.id, s.barIndex
                """
        case .trades:
            return """
                SELECT t.id, t.episodeId, e.split, e."index" AS episodeIndex, t.barIndex, t.timestamp,
                       \(isoDateSQL("t.timestamp")) AS date, t.asset, t.quantity, t.price, t.cost
                FROM episode e JOIN trade t ON t.episodeId = e.id
                WHERE e.runId = ? ORDER BY e.id, t.barIndex, t.id
                """
        case .metrics:
            return """
                SELECT id, globalStep, key, value, wallTime, \(dialect.isoDateTime("wallTime")) AS wallDate
                FROM metric WHERE runId = ? ORDER BY key, globalStep, id
                """
        }
    }

    /// Streams the steps, episodes, trades or metrics of a run to `output` as CSV or JSON Lines, in constant memory
    /// (a database cursor or PostgreSQL's row stream, and a 64 KiB buffer), from one consistent snapshot even while a
    /// writer is writing.
    ///
    /// Numbers are written with Swift's shortest round-trip form, so parsing them gives back the same `Double`.
    /// NULL (a NaN metric value, a missing wall time) is an empty CSV field and JSON `null`; JSON has no infinity,
    /// so an infinite value is `null` in JSON Lines and `inf`/`-inf` in CSV.
    /// - Returns: the number of rows written (not counting the CSV header).
    /// - Throws: `RunStoreError`; a failed write is `cannot export … of run N: writing the output failed (…)`.
    @discardableResult
    public func export(runId: Int64, what: ExportTable, format: ExportFormat, to output: FileHandle) throws -> Int {
        try export(runId: runId, what: what, format: format) { bytes in
            do { try output.write(contentsOf: bytes) } catch {
                throw RunStoreError(
                    path: path,
                    reason:
                        "cannot export \(what.rawValue) of run \(runId): writing the output failed "
                        + "(\(error.localizedDescription))")
            }
        }
    }

    /// `export(runId:what:format:to:)` into `write`, which takes the output in chunks of about 64 KiB: an error it
    /// throws ends the export and is rethrown as it is (so it can name the output rather than the store).
    @discardableResult
    public func export(
        runId: Int64, what: ExportTable, format: ExportFormat, write: ([UInt8]) throws -> Void
    ) throws -> Int {
        var writeError: (any Error)?
        func sink(_ bytes: [UInt8]) throws {
            do { try write(bytes) } catch {
                writeError = error
                throw error
            }
        }
        do {
            return try read("cannot export \(what.rawValue) of run \(runId)") { db in
                try requireRun(runId, db)
                var writer = ChunkedWriter()
                let columns = Self.exportColumns(what)
                if format == .csv {
                    writer.append(columns.joined(separator: ","))
                    writer.append("\n")
                }
                let jsonKeys = columns.map { "\"\($0)\":" }
                var count = 0
                try db.forEachRow(Self.exportSQL(what, db.dialect), sqlArguments(runId)) { row in
                    switch format {
                    case .csv:
                        for (i, value) in row.values.enumerated() {
                            if i > 0 { writer.append(",") }
                            writer.append(csvField(value))
                        }
                        writer.append("\n")
                    case .jsonl:
                        writer.append("{")
                        for (i, value) in row.values.enumerated() {
                            if i > 0 { writer.append(",") }
                            writer.append(jsonKeys[i])
                            writer.append(jsonValue(value))
                        }
                        writer.append("}\n")
                    }
                    count += 1
                    try writer.flushIfFull(sink)
                }
                try writer.flush(sink)
                return count
            }
        } catch {
            throw writeError ?? error
        }
    }
}

/// Collects output bytes and hands them on in 64 KiB chunks.
struct ChunkedWriter {
    var buffer: [UInt8] = []

    init() {
        buffer.reserveCapacity(1 << 17)
    }

    mutating func append(_ text: String) {
        buffer.append(contentsOf: text.utf8)
    }

    mutating func flushIfFull(_ write: ([UInt8]) throws -> Void) throws {
        if buffer.count >= 1 << 16 { try flush(write) }
    }

    mutating func flush(_ write: ([UInt8]) throws -> Void) throws {
        guard !buffer.isEmpty else { return }
        try write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// One CSV field: numbers in shortest round-trip form, NULL empty, text quoted when needed (RFC 4180).
func csvField(_ value: DatabaseValue) -> String {
    switch value.storage {
    case .null: return ""
    case .int64(let v): return String(v)
    case .double(let v): return v.description
    case .string(let s): return csvQuoted(s)
    case .blob(let data): return data.base64EncodedString()
    }
}

/// Quotes `text` when it holds a comma, a double quote, CR or LF, doubling inner quotes.
func csvQuoted(_ text: String) -> String {
    guard text.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 })
    else {
        return text
    }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// One JSON value: numbers in shortest round-trip form (non-finite as null), NULL as null, text escaped.
func jsonValue(_ value: DatabaseValue) -> String {
    switch value.storage {
    case .null: return "null"
    case .int64(let v): return String(v)
    case .double(let v): return v.isFinite ? v.description : "null"
    case .string(let s): return jsonQuoted(s)
    case .blob(let data): return jsonQuoted(data.base64EncodedString())
    }
}

/// A JSON string literal: escapes `"`, `\` and control characters (RFC 8259).
func jsonQuoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default:
            out.unicodeScalars.append(scalar)
        }
    }
    out += "\""
    return out
}
