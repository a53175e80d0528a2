import Foundation

/// An error of the run store: one line naming the file (or directory, or the PostgreSQL URL without its password) and
/// what failed, e.g. `runs/x.sqlite: cannot write episode: database is locked by another writer (waited 5 s)`.
public struct RunStoreError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The database file or directory the error is about, as the caller named it, or the password-free URL.
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
    /// Wraps any error thrown while accessing the store at `path` into one line.
    /// - Parameters:
    ///   - operation: what was being done, e.g. `cannot write episode`; nil for errors that say it all (opening).
    ///   - describe: the backend's plain words for its own errors.
    static func wrapping(
        _ error: any Error, path: String, operation: String?,
        describe: (any Error) -> String?
    ) -> RunStoreError {
        if let error = error as? RunStoreError { return error }
        let reason = describe(error) ?? "\(error)"
        if let operation { return RunStoreError(path: path, reason: "\(operation): \(reason)") }
        return RunStoreError(path: path, reason: reason)
    }

    /// `5 s`, `0.25 s`.
    static func formatSeconds(_ seconds: TimeInterval) -> String {
        if seconds == seconds.rounded() { return "\(Int(seconds)) s" }
        return "\(seconds) s"
    }
}
