import Foundation
import GRDB

/// What deleting a run leaves to its caller.
public struct DeletedRun: Equatable, Sendable {
    /// The absolute paths of the checkpoint files whose rows were deleted and that no other row of the store names,
    /// to remove from disk (the store itself never deletes files).
    public var files: [String]
    /// How many files the run's borrowed rows named (`store copy` wrote them): they belong to the store the run was
    /// copied from, and stay.
    public var borrowedFiles: Int

    public init(files: [String], borrowedFiles: Int = 0) {
        self.files = files
        self.borrowedFiles = borrowedFiles
    }
}

extension RunStore {
    /// Deletes a run in ONE transaction: its row, and with it (ON DELETE CASCADE) its episodes, steps, trades, metrics
    /// and checkpoint rows; a sweep trial that ran it keeps its row with `runId` NULL. A `running` run whose process is
    /// alive (see `RunOwner.observed`) is refused and nothing is deleted.
    /// - Returns: the checkpoint files to remove from disk, and how many borrowed ones stay.
    public func deleteRun(id: Int64) throws -> DeletedRun {
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
            let borrowed = Set(checkpoints.filter(\.borrowed).map(\.file))
            var kept = borrowed
            for file in Set(checkpoints.map(\.file)).subtracting(borrowed) {
                if try db.count("SELECT COUNT(*) FROM checkpoint WHERE file = ?", sqlArguments(file)) > 0 {
                    kept.insert(file)
                }
            }
            var seen = Set<String>()
            let files = checkpoints.filter { !kept.contains($0.file) && seen.insert($0.file).inserted }
                .map { resolved($0).file }
            return DeletedRun(files: files, borrowedFiles: borrowed.count)
        }
    }
}
