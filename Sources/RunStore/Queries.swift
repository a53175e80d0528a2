import Foundation
import GRDB

/// Queries behind `tradesim compare` and `tradesim report`.
extension RunStore {
    /// The runs that have at least one episode on one of `splits` (any status), in id order: the trials that count
    /// towards the Deflated Sharpe Ratio of a result on those splits.
    public func runsEvaluated(on splits: [EpisodeSplit]) throws -> [RunRecord] {
        guard !splits.isEmpty else { return [] }
        return try read("cannot count the runs evaluated on \(splits.map(\.rawValue).joined(separator: ", "))") { db in
            let marks = splits.map { _ in "?" }.joined(separator: ", ")
            return try db.fetchAll(
                RunRecord.self,
                """
                SELECT * FROM run WHERE id IN (SELECT DISTINCT runId FROM episode WHERE split IN (\(marks))) ORDER BY id
                """, splits.map { $0.rawValue.databaseValue })
        }
    }

    /// The last value of metric `key` of each run in `runIds` that logged it (the value at the highest step).
    /// - Returns: run id → value.
    public func lastMetric(_ key: String, runIds: [Int64]) throws -> [Int64: Double] {
        guard !runIds.isEmpty else { return [:] }
        return try read("cannot read metric \(key)") { db in
            let marks = runIds.map { _ in "?" }.joined(separator: ", ")
            var result: [Int64: Double] = [:]
            try db.forEachRow(
                """
                SELECT runId, value FROM metric m WHERE key = ? AND runId IN (\(marks))
                AND id = (SELECT id FROM metric WHERE runId = m.runId AND key = m.key ORDER BY globalStep DESC, id \
                DESC LIMIT 1)
                """, sqlArguments(key) + runIds.map(\.databaseValue)
            ) { row in
                result[Int64.fromDatabaseValue(row.values[0])!] = Double.fromDatabaseValue(row.values[1]) ?? .nan
            }
            return result
        }
    }

    /// The metric keys a run logged, sorted.
    public func metricKeys(runId: Int64) throws -> [String] {
        try read("cannot read metric keys of run \(runId)") { db in
            try requireRun(runId, db)
            return try db.values(
                String.self, "SELECT DISTINCT key FROM metric WHERE runId = ? ORDER BY key",
                sqlArguments(runId)
            ).compactMap { $0 }
        }
    }
}
