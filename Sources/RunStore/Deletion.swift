import Foundation
import GRDB

extension RunStore {
    /// Deletes a run in ONE transaction: its row, and with it (ON DELETE CASCADE) its episodes, steps, trades, metrics
    /// and checkpoint rows; a sweep trial that ran it keeps its row with `runId` NULL. A `running` run whose process is
    /// alive (see `RunOwner.observed`) is refused and nothing is deleted.
    /// - Returns: the absolute paths of the checkpoint files whose rows were deleted and that no other run's rows name,
    ///   for the caller to remove from disk (the store itself never deletes files).
    public func deleteRun(id: Int64) throws -> [String] {
        try write("cannot delete run \(id)") { db in
            guard let run = try db.fetchOne(RunRecord.self, "SELECT * FROM run WHERE id = ?", sqlArguments(id)) else {
                throw RunStoreError(path: path, reason: "no run with id \(id)")
            }
            if RunOwner.observed(run).status == .running {
                let owner = "process \(run.ownerPid.map(String.init) ?? "?") on \(run.ownerHost ?? "?")"
                throw RunStoreError(path: path, reason: "run \(id) (\(run.name)) is running in \(owner); stop it first")
            }
            let checkpoints = try db.fetchAll(
                CheckpointRecord.self, "SELECT * FROM checkpoint WHERE runId = ? ORDER BY id",
                sqlArguments(id))
            try db.execute("DELETE FROM run WHERE id = ?", sqlArguments(id))
            var kept = Set<String>()
            for file in Set(checkpoints.map(\.file)) {
                if try db.count("SELECT COUNT(*) FROM checkpoint WHERE file = ?", sqlArguments(file)) > 0 {
                    kept.insert(file)
                }
            }
            var seen = Set<String>()
            return checkpoints.filter { !kept.contains($0.file) && seen.insert($0.file).inserted }
                .map { resolved($0).file }
        }
    }
}
