import Foundation
import GRDB
import Testing

@testable import RunStore

/// A PostgreSQL connection the server drops (`pg_terminate_backend`, as a restart or an administrator does): between
/// transactions, the next one runs on a new connection; within one, the transaction fails with one line. Neither
/// waits for ever (PostgresNIO leaves a query sent on a closed connection pending).
@Suite(.enabled(if: Backend.postgresURL != nil)) struct DroppedConnectionTests {
    /// The server process behind `store`'s connection.
    func serverPid(_ store: RunStore) throws -> Int64 {
        try store.backend.read { db in
            var pid: Int64 = 0
            try db.forEachRow("SELECT pg_backend_pid() AS pid", []) { pid = $0.row["pid"] }
            return pid
        }
    }

    /// Ends the server process `pid` from another connection and waits until it is gone.
    func terminate(_ pid: Int64, from other: RunStore) throws {
        try other.backend.write { db in
            _ = try db.execute("SELECT pg_terminate_backend(CAST(? AS integer))", [pid.databaseValue])
        }
        for _ in 0..<500 {
            var alive = false
            try other.backend.read { db in
                try db.forEachRow("SELECT 1 FROM pg_stat_activity WHERE pid = CAST(? AS integer)", [pid.databaseValue])
                { _ in
                    alive = true
                }
            }
            if !alive { return }
            usleep(20_000)
        }
        Issue.record("server process \(pid) still there")
    }

    @Test func aConnectionDroppedBetweenTransactionsIsReplaced() throws {
        let stores = try TestStores(.postgres)
        let path = stores.path("dropped.sqlite")
        let store = try RunStore(path: path), other = try RunStore(path: path)
        let run = try makeRun(store)
        let first = try serverPid(store)
        try terminate(first, from: other)
        #expect(try store.run(id: run.id!).name == run.name)
        #expect(try serverPid(store) != first)
    }

    @Test func aConnectionDroppedWithinATransactionFailsIt() throws {
        let stores = try TestStores(.postgres)
        let path = stores.path("dropped.sqlite")
        let store = try RunStore(path: path), other = try RunStore(path: path)
        let run = try makeRun(store)
        let pid = try serverPid(store)
        var start = Date()
        var failure: (any Error)?
        do {
            try store.backend.write { db in
                _ = try db.execute(#"UPDATE run SET name = 'renamed' WHERE id = ?"#, [run.id!.databaseValue])
                try terminate(pid, from: other)
                start = Date()
                _ = try db.execute("SELECT 1", [])
            }
        } catch {
            failure = error
        }
        #expect(Date().timeIntervalSince(start) < 5)  // it used to wait for ever
        let reason = failure.flatMap { store.backend.describe($0, busyTimeout: 5) }
        #expect(
            ["the connection to the server was lost", "terminating connection due to administrator command"]
                .contains(reason), "\(String(describing: failure))")
        #expect(try store.run(id: run.id!).name == run.name)  // rolled back; the next call reconnects
    }
}
