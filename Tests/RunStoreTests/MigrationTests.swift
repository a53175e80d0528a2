import Foundation
import GRDB
import Testing

@testable import RunStore

@Suite struct MigrationTests {
    @Test func migrationIdentifiersAreStable() {
        // Stored in grdb_migrations of every existing store: renaming or reordering one breaks old stores.
        #expect(
            RunStoreSchema.migrationIdentifiers == [
                "v1-create-run", "v1-create-episode", "v1-create-step", "v1-create-trade", "v1-create-metric",
                "v1-create-checkpoint", "v2-run-owner", "v3-views", "v4-sweeps", "v5-run-owner-job",
                "v6-checkpoint-borrowed",
            ])
    }

    @Test func migratesEmptyDatabase() throws {
        let dir = try TemporaryDirectory()
        let store = try RunStore(path: dir.file("new.sqlite"))
        try store.pool.read { db in
            let tables = try String.fetchAll(
                db,
                sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            #expect(
                tables == [
                    "checkpoint", "episode", "grdb_migrations", "metric", "run", "step", "sweep", "trade", "trial",
                ])
            let indexes = try String.fetchAll(
                db,
                sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            #expect(
                indexes == [
                    "checkpoint_on_runId_globalStep", "episode_on_runId", "episode_on_runId_split_index",
                    "metric_on_runId_key_globalStep",
                    "run_on_experiment_status", "run_on_status", "trade_on_episodeId_barIndex", "trial_on_runId",
                ])
            let stepSQL = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'step'")!
            #expect(stepSQL.contains("WITHOUT ROWID"))
            let applied = try RunStoreSchema.appliedMigrations(SQLiteConnection(db: db))
            #expect(applied == RunStoreSchema.migrationIdentifiers)
            #expect(
                try db.columns(in: "step").map(\.name) == [
                    "episodeId", "barIndex", "timestamp", "action", "position",
                    "positionsJSON", "fillPrice", "reward", "equity", "cost",
                ])
            #expect(try db.primaryKey("step").columns == ["episodeId", "barIndex"])
            // The very schema GRDB's builder made before the migrations were written as SQL (stores made then and now
            // are alike).
            let runSQL = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'run'")!
            #expect(
                runSQL == #"CREATE TABLE "run" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "#
                    + #""name" TEXT NOT NULL UNIQUE, "#
                    + #""experiment" TEXT NOT NULL, "agent" TEXT NOT NULL, "experimentYAML" TEXT NOT NULL, "#
                    + #""configJSON" TEXT NOT NULL, "configHash" TEXT NOT NULL, "codeVersion" TEXT NOT NULL, "#
                    + #""seed" INTEGER NOT NULL, "status" TEXT NOT NULL CHECK (status IN ('running', 'finished', "#
                    + #"'failed', 'interrupted')), "startedAt" DATETIME NOT NULL, "endedAt" DATETIME, "message" TEXT, "#
                    + #""ownerPid" INTEGER, "ownerHost" TEXT, "heartbeatAt" DATETIME, "policyStep" INTEGER, "#
                    + #""ownerJob" TEXT)"#
            )
        }
    }

    @Test func connectionsUseWALForeignKeysAndBusyTimeout() throws {
        let dir = try TemporaryDirectory()
        let store = try RunStore(path: dir.file("pragmas.sqlite"), busyTimeout: 2.5)
        let (journal, foreignKeys, timeout, synchronous) = try store.pool.write { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA foreign_keys"),
                try Int.fetchOne(db, sql: "PRAGMA busy_timeout"), try Int.fetchOne(db, sql: "PRAGMA synchronous")
            )
        }
        #expect(journal == "wal")
        #expect(foreignKeys == 1)
        #expect(timeout == 2500)
        #expect(synchronous == 1)  // NORMAL
        let defaultStore = try RunStore(path: dir.file("default.sqlite"))
        let defaultTimeout = try defaultStore.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA busy_timeout") }
        #expect(defaultTimeout == 5000)
    }

    @Test(arguments: Backend.all) func migratingTwiceIsANoOp(_ backend: Backend) throws {
        let stores = try TestStores(backend)
        let path = stores.path("twice.sqlite")
        let schema = { (store: RunStore) in
            try store.backend.read { db in
                try db.values(
                    String.self,
                    backend == .sqlite
                        ? "SELECT type || ' ' || name || ' ' || ifnull(sql, '') FROM sqlite_master ORDER BY name"
                        : """
                        SELECT table_name || ' ' || column_name || ' ' || data_type || ' ' || is_nullable
                        FROM information_schema.columns WHERE table_schema = current_schema()
                        ORDER BY table_name, column_name
                        """)
            }
        }
        let first = try RunStore(path: path)
        let run = try makeRun(first)
        let before = try schema(first)
        try RunStoreSchema.migrate(first.backend, path: path, create: false)
        let second = try RunStore(path: path)
        #expect(try schema(first) == before)
        #expect(try schema(second) == before)
        #expect(try second.runs() == [run])
        #expect(try scalar(second, "SELECT COUNT(*) FROM grdb_migrations") == RunStoreSchema.migrationIdentifiers.count)
    }

    @Test(arguments: Backend.all) func refusesStoreFromNewerVersion(_ backend: Backend) throws {
        let stores = try TestStores(backend)
        let path = stores.path("newer.sqlite")
        let store = try RunStore(path: path)
        try execute(store, "INSERT INTO grdb_migrations (identifier) VALUES ('v9-from-the-future')")
        #expect(
            throws: RunStoreError(
                path: path, reason: "written by a newer version of tradesim (unknown schema migrations)")
        ) {
            _ = try RunStore(path: path)
        }
    }
}
