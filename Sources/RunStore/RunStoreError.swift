import Foundation
import GRDB

/// An error of the run store: one line naming the file (or directory) and what failed,
/// e.g. `runs/x.sqlite: cannot write episode: database is locked by another writer (waited 5 s)`.
public struct RunStoreError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The database file or directory the error is about, as the caller named it.
    public var path: String
    /// What failed, without the path.
    public var reason: String

    /// Makes an error about `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// `path: reason`.
    public var description: String { "\(path): \(reason)" }

    /// Same as `description`, so that `localizedDescription` prints the one line too.
    public var errorDescription: String? { description }
}

extension RunStoreError {
    /// Wraps any error thrown while accessing the database at `path` into one line.
    /// - Parameters:
    ///   - operation: what was being done, e.g. `cannot write episode`; nil for errors that say it all (opening).
    ///   - busyTimeout: the configured wait, quoted in the "locked" message.
    static func wrapping(_ error: any Error, path: String, operation: String?, busyTimeout: TimeInterval) -> RunStoreError {
        if let error = error as? RunStoreError { return error }
        let reason: String
        if let error = error as? DatabaseError {
            reason = describe(error, busyTimeout: busyTimeout)
        } else {
            reason = "\(error)"
        }
        if let operation { return RunStoreError(path: path, reason: "\(operation): \(reason)") }
        return RunStoreError(path: path, reason: reason)
    }

    /// Plain words for the SQLite errors a user can meet.
    static func describe(_ error: DatabaseError, busyTimeout: TimeInterval) -> String {
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return "database is locked by another writer (waited \(formatSeconds(busyTimeout)))"
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

    /// `5 s`, `0.25 s`.
    static func formatSeconds(_ seconds: TimeInterval) -> String {
        if seconds == seconds.rounded() { return "\(Int(seconds)) s" }
        return "\(seconds) s"
    }
}
