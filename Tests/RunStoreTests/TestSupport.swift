import Foundation
import GRDB
import Testing

@testable import RunStore

/// A fresh temporary directory, removed (after restoring write permission) when the value is deinitialised.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("runstore-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// `path/name`.
    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    deinit {
        chmod(path, 0o755)
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The store backends every store test runs on: SQLite always, PostgreSQL when `TRADESIM_TEST_POSTGRES_URL` names a
/// database (e.g. `postgresql://tradesim@localhost:5432/tradesim_test`, password in `PGPASSWORD` or `~/.pgpass`).
enum Backend: String, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    static let postgresURL = ProcessInfo.processInfo.environment["TRADESIM_TEST_POSTGRES_URL"]
        .flatMap { $0.isEmpty ? nil : $0 }
    static let all: [Backend] = postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]
    var testDescription: String { rawValue }
}

/// Fresh stores for one test: files in a temporary directory, or on PostgreSQL schemas of their own in the test
/// database (so tests run in parallel), dropped when the value is deinitialised.
final class TestStores {
    let backend: Backend
    let dir: TemporaryDirectory
    private var schemas: [String] = []

    init(_ backend: Backend) throws {
        self.backend = backend
        dir = try TemporaryDirectory()
    }

    /// The path or URL of the store called `name` (`x.sqlite` is `x` on PostgreSQL).
    func path(_ name: String) -> String {
        switch backend {
        case .sqlite:
            return dir.file(name)
        case .postgres:
            let stem = (name as NSString).deletingPathExtension.lowercased().filter { $0.isLetter || $0.isNumber }
            let schema =
                "t_\(stem)_"
                + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
            schemas.append(schema)
            return Backend.postgresURL! + (Backend.postgresURL!.contains("?") ? "&" : "?") + "schema=" + schema
        }
    }

    deinit {
        guard let url = Backend.postgresURL else { return }
        for schema in schemas {
            let location = try? PostgresLocation(url + (url.contains("?") ? "&" : "?") + "schema=" + schema)
            try? location.map { try PostgresBackend(location: $0, busyTimeout: 5, create: false, migrating: false) }?
                .dropSchema()
        }
    }
}

/// Runs `body` on a background thread holding a write transaction of `store` until `release` is called,
/// so a test can check what other connections see and do meanwhile.
final class BlockingWriter: @unchecked Sendable {
    private let holding = DispatchSemaphore(value: 0)
    private let releaseSignal = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var storedError: (any Error)?

    /// Starts the write and returns once `body` has run inside the open transaction.
    init(store: RunStore, _ body: @escaping @Sendable (any StoreConnection) throws -> Void) {
        DispatchQueue.global().async { [self] in
            do {
                try store.backend.write { db in
                    try body(db)
                    holding.signal()
                    releaseSignal.wait()
                }
            } catch {
                lock.withLock { storedError = error }
                holding.signal()
            }
            finished.signal()
        }
        holding.wait()
    }

    /// Lets the transaction commit and waits for it; rethrows what the writer threw.
    func release() throws {
        releaseSignal.signal()
        finished.wait()
        if let error = lock.withLock({ storedError }) { throw error }
    }
}

/// Makes a run with plausible fields.
func makeRun(
    _ store: RunStore, experiment: String = "spy-daily", agent: String = "dqn", seed: Int64 = 7,
    startedAt: Date = Date(timeIntervalSince1970: 1_763_900_000)
) throws -> RunRecord {
    try store.createRun(
        experiment: experiment, agent: agent, seed: seed,
        experimentYAML: "environment: spy\nagent: dqn # comment kept\n",
        configJSON: #"{"lr":0.001,"gamma":0.99}"#, configHash: "abc123", codeVersion: "4cbb89a",
        startedAt: startedAt)
}

/// An episode of `run` with made-up totals.
func makeEpisode(runId: Int64, split: EpisodeSplit = .train, index: Int64 = 0, steps: Int = 10) -> EpisodeRecord {
    EpisodeRecord(
        runId: runId, split: split, index: index, firstTimestamp: 1_600_000_000,
        lastTimestamp: 1_600_000_000 + Int64(steps) * 86_400, steps: Int64(steps), totalReward: 0.1 + Double(index),
        finalEquity: 10_123.45, costs: 1.0 / 3.0, globalStep: 1_000 * (index + 1), actionsHash: "h\(index)")
}

/// `count` steps with awkward doubles (0.1, 1/3, tiny, huge, π) so that exports must round-trip exactly.
func makeSteps(_ count: Int, firstBar: Int64 = 0, multiAsset: Bool = false) -> [StepRecord] {
    let awkward: [Double] = [
        0.1, 1.0 / 3.0, 1e-300, .leastNonzeroMagnitude, 1.7976931348623157e308, .pi, -2.5e-7, 123456789.123456789,
    ]
    return (0..<count).map { (i: Int) -> StepRecord in
        let value = awkward[i % awkward.count]
        let price = 100 + awkward[(i + 1) % awkward.count].truncatingRemainder(dividingBy: 7)
        let positions = multiAsset ? "[\(value),-1,0.5]" : ""
        return StepRecord(
            barIndex: firstBar + Int64(i), timestamp: 1_600_000_000 + Int64(i) * 86_400, action: Double(i % 3),
            position: multiAsset ? 0 : value, positionsJSON: positions, fillPrice: price,
            reward: awkward[(i + 2) % awkward.count], equity: 10_000 + Double(i) / 7, cost: Double(i) * 0.01)
    }
}

/// Trades with asset names that need quoting in CSV and escaping in JSON.
func makeTrades(_ count: Int) -> [TradeRecord] {
    let assets = ["SPY", "BRK,B", "say \"hi\"", "line\nbreak", "tab\there", "ünï €", "back\\slash", "ctl\u{01}"]
    return (0..<count).map { (i: Int) -> TradeRecord in
        let quantity: Double = i % 2 == 0 ? 1.5 : -0.1
        return TradeRecord(
            barIndex: Int64(i), timestamp: 1_600_000_000 + Int64(i) * 86_400, asset: assets[i % assets.count],
            quantity: quantity, price: 100.0 / Double(i + 3), cost: 0.0005 * Double(i))
    }
}

/// Metrics including a NaN value and a missing wall time.
func makeMetrics(globalStep: Int64) -> [MetricRecord] {
    [
        MetricRecord(globalStep: globalStep, key: "charts/episodicReturn", value: 0.1, wallTime: 1_763_900_000.125),
        MetricRecord(globalStep: globalStep, key: "losses/td", value: .nan, wallTime: nil),
        MetricRecord(globalStep: globalStep, key: "charts/sps", value: 1.0 / 3.0, wallTime: 1_763_900_001.5),
    ]
}

/// The single value of a SQL query, for checks behind the API's back.
func scalar(_ store: RunStore, _ sql: String, _ arguments: [DatabaseValue] = []) throws -> Int {
    try store.backend.read { db in try db.count(sql, arguments) }
}

/// Runs statements behind the API's back, in one transaction.
func execute(_ store: RunStore, _ sql: String, _ arguments: [DatabaseValue] = []) throws {
    try store.backend.write { db in _ = try db.execute(sql, arguments) }
}

/// The rows of a query as GRDB rows (column lookup ignores case), for checks behind the API's back.
func fetchRows(_ store: RunStore, _ sql: String) throws -> [Row] {
    try store.backend.read { db in
        var rows: [Row] = []
        try db.forEachRow(sql, []) { rows.append($0.row) }
        return rows
    }
}
