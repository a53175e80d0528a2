import Foundation

@testable import RunStore

/// The kinds of store the store CLI tests run on: SQLite always, PostgreSQL when `TRADESIM_TEST_POSTGRES_URL` names a
/// database (password in `PGPASSWORD` or `~/.pgpass`).
enum StoreKind: String, Sendable, CustomStringConvertible {
    case sqlite, postgres
    static let all: [StoreKind] = postgresTestStore("probe") == nil ? [.sqlite] : [.sqlite, .postgres]
    var description: String { rawValue }
}

/// A PostgreSQL database for the CLI tests (`TRADESIM_TEST_POSTGRES_URL`, password in `PGPASSWORD` or `~/.pgpass`):
/// a store URL in a fresh schema of its own, or nil when none is set.
func postgresTestStore(_ name: String) -> String? {
    guard let url = ProcessInfo.processInfo.environment["TRADESIM_TEST_POSTGRES_URL"], !url.isEmpty else { return nil }
    let schema = "cli_\(name)_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
    return url + (url.contains("?") ? "&" : "?") + "schema=" + schema
}

/// Drops the schema of a store made by `postgresTestStore`.
func dropPostgresTestStore(_ url: String?) {
    guard let url, let location = try? PostgresLocation(url) else { return }
    try? PostgresBackend(location: location, busyTimeout: 5, create: false, migrating: false).dropSchema()
}

/// Points the experiment file at `url` instead of its SQLite store (its `store:` line).
func useStore(_ url: String, in experiment: (dir: String, experiment: String, store: String)) throws
    -> (dir: String, experiment: String, store: String)
{
    let text = try String(contentsOfFile: experiment.experiment, encoding: .utf8)
        .replacingOccurrences(of: "store: \(experiment.store)", with: "store: \(url)")
    try text.write(toFile: experiment.experiment, atomically: true, encoding: .utf8)
    return (experiment.dir, experiment.experiment, url)
}
