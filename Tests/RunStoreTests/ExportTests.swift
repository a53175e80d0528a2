import Foundation
import GRDB
import Testing

@testable import RunStore

/// A value expected in an export, built from the records the store API returns (not from the export's SQL).
enum Cell: Equatable {
    case int(Int64)
    case double(Double)
    case text(String)
    case null

    /// Whether a parsed CSV field holds this value (doubles must parse back to the identical bits).
    func matches(csv field: String) -> Bool {
        switch self {
        case .int(let x): return Int64(field) == x
        case .double(let x): return Double(field)?.bitPattern == x.bitPattern
        case .text(let s): return field == s
        case .null: return field.isEmpty
        }
    }

    /// Whether a decoded JSON value holds this value.
    func matches(json value: JSONCell) -> Bool {
        switch (self, value) {
        case (.int(let x), .number(_, let int)): return int == x
        case (.double(let x), .number(let double, _)): return double.bitPattern == x.bitPattern
        case (.text(let s), .text(let t)): return s == t
        case (.null, .null): return true
        default: return false
        }
    }
}

/// A JSON scalar as `JSONDecoder` reads it (exact for doubles, unlike JSONSerialization on Linux).
enum JSONCell: Decodable {
    case null
    case text(String)
    case number(Double, Int64?)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let text = try? container.decode(String.self) {
            self = .text(text)
        } else {
            self = .number(try container.decode(Double.self), try? container.decode(Int64.self))
        }
    }
}

/// RFC 4180 parser: quoted fields may hold commas, doubled quotes, CR and LF.
func parseCSV(_ text: String) -> [[String]] {
    var rows: [[String]] = []
    var row: [String] = []
    var field = ""
    var inQuotes = false
    let scalars = Array(text.unicodeScalars)
    var i = 0
    while i < scalars.count {
        let c = scalars[i]
        if inQuotes {
            if c == "\"" {
                if i + 1 < scalars.count && scalars[i + 1] == "\"" {
                    field.unicodeScalars.append("\""); i += 1
                } else {
                    inQuotes = false
                }
            } else {
                field.unicodeScalars.append(c)
            }
        } else if c == "\"" {
            inQuotes = true
        } else if c == "," {
            row.append(field); field = ""
        } else if c == "\n" {
            row.append(field); field = ""
            rows.append(row); row = []
        } else if c != "\r" {
            field.unicodeScalars.append(c)
        }
        i += 1
    }
    if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
    return rows
}

/// The ISO 8601 date of unix seconds in UTC, by Foundation (independent of the store's SQL): the day alone at
/// midnight, else day and time.
func isoDate(_ t: Int64) -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = t % 86_400 == 0 ? "yyyy-MM-dd" : "yyyy-MM-dd HH:mm:ss"
    return f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
}

/// `isoDateTime` in Swift: the UTC date and time of unix seconds `t`, whole seconds.
func isoDateTime(_ t: Double) -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyy-MM-dd HH:mm:ss"
    return f.string(from: Date(timeIntervalSince1970: t.rounded(.down)))
}

@Suite struct ExportTests {
    /// Two runs with interleaved episodes of every split, awkward numbers and strings; returns the store and run A.
    func makeStore(_ stores: TestStores) throws -> (RunStore, Int64) {
        let store = try RunStore(path: stores.path("export.sqlite"))
        let a = try makeRun(store, seed: 1).id!
        let b = try makeRun(store, seed: 2).id!
        for (i, split) in EpisodeSplit.allCases.enumerated() {
            try store.writeEpisode(
                makeEpisode(runId: a, split: split, index: 0, steps: 30),
                steps: makeSteps(i == 0 ? 1_500 : 30, multiAsset: split == .validation),
                trades: makeTrades(10), metrics: makeMetrics(globalStep: Int64(i) * 100))
            try store.writeEpisode(
                makeEpisode(runId: b, split: split), steps: makeSteps(5), trades: makeTrades(2),
                metrics: makeMetrics(globalStep: 7))
        }
        try store.appendMetrics([
            MetricRecord(runId: a, globalStep: 5, key: "charts/sps", value: 12_345.678, wallTime: 1.5)
        ])
        return (store, a)
    }

    /// The rows an export of `what` must contain, in order, from the store's own read API.
    func expectedRows(_ store: RunStore, runId: Int64, _ what: ExportTable) throws -> [[Cell]] {
        let episodes = try store.episodes(runId: runId)
        switch what {
        case .episodes:
            return episodes.map { e in
                [
                    .int(e.id!), .int(e.runId), .text(e.split.rawValue), .int(e.index), .int(e.firstTimestamp),
                    .text(isoDate(e.firstTimestamp)), .int(e.lastTimestamp), .text(isoDate(e.lastTimestamp)),
                    .int(e.steps), .double(e.totalReward), .double(e.finalEquity), .double(e.costs), .int(e.globalStep),
                    .text(e.actionsHash),
                ]
            }
        case .steps:
            return try episodes.flatMap { e in
                try store.steps(episodeId: e.id!).map { s in
                    [
                        .int(e.id!), .text(e.split.rawValue), .int(e.index), .int(s.barIndex), .int(s.timestamp),
                        .text(isoDate(s.timestamp)), .double(s.action),
                        .double(s.position), .text(s.positionsJSON), .double(s.fillPrice), .double(s.reward),
                        .double(s.equity), .double(s.cost),
                    ]
                }
            }
        case .trades:
            return try episodes.flatMap { e in
                try store.trades(episodeId: e.id!).map { t in
                    [
                        .int(t.id!), .int(e.id!), .text(e.split.rawValue), .int(e.index), .int(t.barIndex),
                        .int(t.timestamp),
                        .text(isoDate(t.timestamp)), .text(t.asset), .double(t.quantity), .double(t.price),
                        .double(t.cost),
                    ]
                }
            }
        case .metrics:
            return try store.metrics(runId: runId).map { m in
                [
                    .int(m.id!), .int(m.globalStep), .text(m.key), m.value.isNaN ? .null : .double(m.value),
                    m.wallTime.map { .double($0) } ?? .null, m.wallTime.map { .text(isoDateTime($0)) } ?? .null,
                ]
            }
        }
    }

    /// Exports into a file and returns its text.
    func exportText(
        _ store: RunStore, runId: Int64, _ what: ExportTable, _ format: ExportFormat, dir: TemporaryDirectory
    ) throws -> (String, Int) {
        let file = dir.file("\(what.rawValue).\(format.rawValue)")
        _ = FileManager.default.createFile(atPath: file, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: file))
        let count = try store.export(runId: runId, what: what, format: format, to: handle)
        try handle.close()
        return (try String(contentsOfFile: file, encoding: .utf8), count)
    }

    @Test(arguments: Backend.all, ExportTable.allCases)
    func csvReadsBackEqual(_ backend: Backend, _ what: ExportTable) throws {
        let stores = try TestStores(backend)
        let (store, runId) = try makeStore(stores)
        let (text, count) = try exportText(store, runId: runId, what, .csv, dir: stores.dir)
        let expected = try expectedRows(store, runId: runId, what)
        let rows = parseCSV(text)
        #expect(rows.first == RunStore.exportColumns(what))
        #expect(count == expected.count)
        #expect(rows.count == expected.count + 1)
        #expect(!expected.isEmpty)
        for (row, cells) in zip(rows.dropFirst(), expected) {
            #expect(row.count == cells.count)
            for (field, cell) in zip(row, cells) where !cell.matches(csv: field) {
                Issue.record("\(what) CSV field \(field.debugDescription) does not read back as \(cell)")
            }
        }
    }

    @Test(arguments: Backend.all, ExportTable.allCases)
    func jsonLinesReadBackEqual(_ backend: Backend, _ what: ExportTable) throws {
        let stores = try TestStores(backend)
        let (store, runId) = try makeStore(stores)
        let (text, count) = try exportText(store, runId: runId, what, .jsonl, dir: stores.dir)
        let expected = try expectedRows(store, runId: runId, what)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.last == "")  // every line ends in LF
        #expect(lines.count - 1 == expected.count)
        #expect(count == expected.count)
        let columns = RunStore.exportColumns(what)
        for (line, cells) in zip(lines, expected) {
            let object = try JSONDecoder().decode([String: JSONCell].self, from: Data(line.utf8))
            #expect(Set(object.keys) == Set(columns))
            // Keys come in column order.
            let offsets = columns.map { line.range(of: "\"\($0)\":")!.lowerBound }
            #expect(offsets == offsets.sorted())
            for (column, cell) in zip(columns, cells) where !cell.matches(json: object[column]!) {
                Issue.record("\(what) JSON \(column) \(object[column]!) does not read back as \(cell)")
            }
        }
    }

    @Test(arguments: ExportTable.allCases)
    func exportQueriesStreamWithoutSorting(_ what: ExportTable) throws {
        let (store, _) = try makeStore(TestStores(.sqlite))
        let plan = try store.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + RunStore.exportSQL(what, .sqlite), arguments: [1])
                .map { $0["detail"] as String }
        }
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN s") || $0.hasPrefix("SCAN t") || $0 == "SCAN metric" }, "\(plan)")
    }

    @Test(arguments: Backend.all) func failingOutputIsOneClearLine(_ backend: Backend) throws {
        let stores = try TestStores(backend)
        let (store, runId) = try makeStore(stores)
        let file = stores.dir.file("readonly.csv")
        _ = FileManager.default.createFile(atPath: file, contents: nil)
        let handle = try #require(FileHandle(forReadingAtPath: file))  // writing to it fails
        do {
            try store.export(runId: runId, what: .steps, format: .csv, to: handle)
            Issue.record("export into a read-only handle succeeded")
        } catch let error as RunStoreError {
            #expect(error.path == store.path)
            #expect(error.reason.hasPrefix("cannot export steps of run \(runId): writing the output failed ("))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func quotingAndEscaping() throws {
        #expect(csvQuoted("plain") == "plain")
        #expect(csvQuoted("a,b") == "\"a,b\"")
        #expect(csvQuoted("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(csvQuoted("two\nlines") == "\"two\nlines\"")
        #expect(csvQuoted("cr\r") == "\"cr\r\"")
        #expect(jsonQuoted("a\"b\\c\n\t\u{01}é") == #""a\"b\\c\n\t\u0001é""#)
        #expect(jsonValue(DatabaseValue(value: Double.infinity)!) == "null")
        #expect(csvField(DatabaseValue(value: 0.1)!) == "0.1")
        #expect(csvField(DatabaseValue(value: 1e16)!) == "1e+16")
        #expect(csvField(.null) == "")
    }
}
