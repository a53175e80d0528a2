import Foundation
import GRDB

/// The database schema and its migrations.
///
/// Migrations are append-only: never edit, rename or reorder a registered migration; add a new one at the end.
/// Each is written once, as the SQL GRDB's schema builder made for SQLite (so new SQLite stores get the very schema of
/// older ones), and translated for PostgreSQL by `SQLDialect.ddl`. The applied identifiers are rows of
/// `grdb_migrations` on both backends (GRDB's migrator made that table in older stores). On PostgreSQL, unquoted and
/// quoted identifiers are folded to lower case (`runId` is the column `runid`), so queries need no quotes there either.
///
/// Tables (all columns NOT NULL unless marked nullable; REAL columns reject NaN, which SQLite stores as NULL):
///
/// `run` — one row per training or evaluation run
/// - `id` INTEGER PRIMARY KEY AUTOINCREMENT
/// - `name` TEXT UNIQUE — `{experiment}__{agent}__{seed}__{unixTime}`
/// - `experiment` TEXT, `agent` TEXT
/// - `experimentYAML` TEXT — the experiment file as written; `configJSON` TEXT — the resolved config; `configHash` TEXT
/// - `codeVersion` TEXT, `seed` INTEGER
/// - `status` TEXT — `running` | `finished` | `failed` | `interrupted`
/// - `startedAt` DATETIME, `endedAt` DATETIME nullable, `message` TEXT nullable (failure text)
/// - `ownerPid` INTEGER nullable, `ownerHost` TEXT nullable, `heartbeatAt` DATETIME nullable — the training process and
///   its lease (v2); a `running` row whose owner is gone reads as `interrupted`
/// - `policyStep` INTEGER nullable (v4) — the training step of the checkpoint that is the run's policy, when it is not
///   the latest (`select: bestValidation`)
/// - `ownerJob` TEXT nullable (v5) — the owner's Slurm job (`ARRAYJOB_TASK` or `JOB`), nil outside Slurm: a requeued
///   array task is the same job and takes its trial over (see `RunOwner.isEarlierRun`)
///
/// `episode` — one row per episode, written in the same transaction as its steps, trades and metrics
/// - `id` INTEGER PRIMARY KEY AUTOINCREMENT, `runId` → run.id (ON DELETE CASCADE)
/// - `split` TEXT — `train` | `validation` | `test`; `index` INTEGER — episode number in run and split
/// - `firstTimestamp`, `lastTimestamp` INTEGER (unix seconds), `steps` INTEGER
/// - `totalReward`, `finalEquity`, `costs` REAL, `globalStep` INTEGER, `actionsHash` TEXT
///
/// `step` — WITHOUT ROWID, PRIMARY KEY (`episodeId`, `barIndex`)
/// - `episodeId` → episode.id (ON DELETE CASCADE), `barIndex` INTEGER, `timestamp` INTEGER
/// - `action`, `position` REAL, `positionsJSON` TEXT (multi-asset positions, '' otherwise)
/// - `fillPrice`, `reward`, `equity`, `cost` REAL
///
/// `trade` — `id` INTEGER PRIMARY KEY, `episodeId` → episode.id (ON DELETE CASCADE), `barIndex`, `timestamp` INTEGER,
///   `asset` TEXT, `quantity` REAL (signed), `price`, `cost` REAL
///
/// `metric` — `id` INTEGER PRIMARY KEY, `runId` → run.id (ON DELETE CASCADE), `globalStep` INTEGER, `key` TEXT,
///   `value` REAL nullable (NULL stores NaN), `wallTime` REAL nullable (unix seconds)
///
/// `checkpoint` — `id` INTEGER PRIMARY KEY, `runId` → run.id (ON DELETE CASCADE), `globalStep` INTEGER,
///   `file` TEXT, `sha256` TEXT, `createdAt` DATETIME, `borrowed` INTEGER (v6) — 1 on a row `store copy` wrote: the
///   file belongs to the store the run was copied from, and deleting the run here leaves it on disk
///
/// Views (v3), for SQL and pandas users:
/// - `steps_view` — a stored step with its run: `runId`, `run` (name), `experiment`, `agent`, `seed`, `split`,
///   `episode` (number), `bar`, `timestamp`, `date` (ISO 8601, UTC: `2011-01-03`, or `2017-01-02 13:00:00` within a
///   day), `action`, `position`, `positions` (JSON of a panel's weights, '' for one asset), `fillPrice`, `cost`,
///   `reward`, `equity`
/// - `episodes_view` — an episode with its run: `runId`, `run`, `experiment`, `agent`, `seed`, `split`, `episode`,
///   `trainingStep`, `firstDate`, `lastDate`, `steps`, `totalReward`, `finalEquity`, `costs`
///
/// `sweep` (v4) — `id` INTEGER PRIMARY KEY AUTOINCREMENT, `name` TEXT UNIQUE, `experimentPath`, `experimentYAML`,
///   `definitionYAML` TEXT, `createdAt` DATETIME, `launcher` TEXT (`local` | `slurm`), `jobId` TEXT nullable
///
/// `trial` (v4) — `id` INTEGER PRIMARY KEY AUTOINCREMENT, `sweepId` → sweep.id (ON DELETE CASCADE), `index` INTEGER
///   (UNIQUE with sweepId), `configuration` INTEGER, `window` INTEGER nullable, `seed` INTEGER, `assignmentsJSON`,
///   `configHash` TEXT, `after` INTEGER nullable (the trial index it starts from), `status` TEXT — `pending` |
///   `running` | `finished` | `failed`, `runId` → run.id nullable (ON DELETE SET NULL), `message` TEXT nullable;
///   index `trial_on_runId` (runId)
///
/// Indexes (named `{table}_on_{columns}`), one per query the CLI runs:
/// - `run_on_experiment_status` (experiment, status), `run_on_status` (status)
/// - `episode_on_runId_split_index` (runId, split, index); `episode_on_runId` (runId), which keeps a run's episodes in
///   id order for listing and export without a sort
/// - steps by episode: the primary key of `step`
/// - `trade_on_episodeId_barIndex` (episodeId, barIndex)
/// - `metric_on_runId_key_globalStep` (runId, key, globalStep)
/// - `checkpoint_on_runId_globalStep` (runId, globalStep)
public enum RunStoreSchema {
    /// Identifiers of the registered migrations, in order. A test pins this list.
    public static var migrationIdentifiers: [String] { migrations(.sqlite).map(\.identifier) }

    /// The migrations in `dialect`: identifier and statements, in order.
    static func migrations(_ dialect: SQLDialect) -> [(identifier: String, statements: [String])] {
        let list: [(String, [String])] = [
            (
                "v1-create-run",
                [
                    """
                    CREATE TABLE "run" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "name" TEXT NOT NULL UNIQUE, \
                    "experiment" TEXT NOT NULL, "agent" TEXT NOT NULL, "experimentYAML" TEXT NOT NULL, \
                    "configJSON" TEXT NOT NULL, "configHash" TEXT NOT NULL, "codeVersion" TEXT NOT NULL, \
                    "seed" INTEGER NOT NULL, "status" TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', \
                    'interrupted')), "startedAt" DATETIME NOT NULL, "endedAt" DATETIME, "message" TEXT)
                    """,
                    #"CREATE INDEX "run_on_experiment_status" ON "run"("experiment", "status")"#,
                    #"CREATE INDEX "run_on_status" ON "run"("status")"#,
                ]
            ),
            (
                "v1-create-episode",
                [
                    """
                    CREATE TABLE "episode" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, \
                    "runId" INTEGER NOT NULL REFERENCES "run"("id") ON DELETE CASCADE, \
                    "split" TEXT NOT NULL CHECK (split IN ('train', 'validation', 'test')), "index" INTEGER NOT NULL, \
                    "firstTimestamp" INTEGER NOT NULL, "lastTimestamp" INTEGER NOT NULL, "steps" INTEGER NOT NULL, \
                    "totalReward" DOUBLE NOT NULL, "finalEquity" DOUBLE NOT NULL, "costs" DOUBLE NOT NULL, \
                    "globalStep" INTEGER NOT NULL, "actionsHash" TEXT NOT NULL)
                    """,
                    #"CREATE INDEX "episode_on_runId_split_index" ON "episode"("runId", "split", "index")"#,
                    // Episodes of a run in id order (SQLite appends the rowid to every index): listing and export need
                    // no sort.
                    #"CREATE INDEX "episode_on_runId" ON "episode"("runId")"#,
                ]
            ),
            (
                "v1-create-step",
                [
                    """
                    CREATE TABLE "step" ("episodeId" INTEGER NOT NULL\(dialect == .sqlite ? stepReference : ""), \
                    "barIndex" INTEGER NOT NULL, "timestamp" INTEGER NOT NULL, "action" DOUBLE NOT NULL, \
                    "position" DOUBLE NOT NULL, "positionsJSON" TEXT NOT NULL DEFAULT '', "fillPrice" DOUBLE NOT NULL, \
                    "reward" DOUBLE NOT NULL, "equity" DOUBLE NOT NULL, "cost" DOUBLE NOT NULL, \
                    PRIMARY KEY ("episodeId", "barIndex")) WITHOUT ROWID
                    """
                ] + (dialect == .postgres ? postgresStepReference : [])
            ),
            (
                "v1-create-trade",
                [
                    """
                    CREATE TABLE "trade" ("id" INTEGER PRIMARY KEY, \
                    "episodeId" INTEGER NOT NULL REFERENCES "episode"("id") ON DELETE CASCADE, \
                    "barIndex" INTEGER NOT NULL, "timestamp" INTEGER NOT NULL, "asset" TEXT NOT NULL, \
                    "quantity" DOUBLE NOT NULL, "price" DOUBLE NOT NULL, "cost" DOUBLE NOT NULL)
                    """,
                    #"CREATE INDEX "trade_on_episodeId_barIndex" ON "trade"("episodeId", "barIndex")"#,
                ]
            ),
            (
                "v1-create-metric",
                [
                    """
                    CREATE TABLE "metric" ("id" INTEGER PRIMARY KEY, \
                    "runId" INTEGER NOT NULL REFERENCES "run"("id") ON DELETE CASCADE, "globalStep" INTEGER NOT NULL, \
                    "key" TEXT NOT NULL, "value" DOUBLE, "wallTime" DOUBLE)
                    """,
                    #"CREATE INDEX "metric_on_runId_key_globalStep" ON "metric"("runId", "key", "globalStep")"#,
                ]
            ),
            (
                "v1-create-checkpoint",
                [
                    """
                    CREATE TABLE "checkpoint" ("id" INTEGER PRIMARY KEY, \
                    "runId" INTEGER NOT NULL REFERENCES "run"("id") ON DELETE CASCADE, "globalStep" INTEGER NOT NULL, \
                    "file" TEXT NOT NULL, "sha256" TEXT NOT NULL, "createdAt" DATETIME NOT NULL)
                    """,
                    #"CREATE INDEX "checkpoint_on_runId_globalStep" ON "checkpoint"("runId", "globalStep")"#,
                ]
            ),
            (
                "v2-run-owner",
                [
                    #"ALTER TABLE "run" ADD COLUMN "ownerPid" INTEGER"#,
                    #"ALTER TABLE "run" ADD COLUMN "ownerHost" TEXT"#,
                    #"ALTER TABLE "run" ADD COLUMN "heartbeatAt" DATETIME"#,
                ]
            ),
            // Views for analysis in SQL or pandas: one row per stored step / episode with its run's name and ISO
            // dates, so the common question needs no join and no quoted `index` column.
            (
                "v3-views",
                [
                    """
                    CREATE VIEW steps_view AS
                    SELECT r.id AS runId, r.name AS run, r.experiment, r.agent, r.seed, e.split, e."index" AS episode,
                           s.barIndex AS bar, s.timestamp, \(dialect.isoDate("s.timestamp")) AS date, s.action, \
                    s.position,
                           s.positionsJSON AS positions, s.fillPrice, s.cost, s.reward, s.equity
                    FROM step s JOIN episode e ON e.id = s.episodeId JOIN run r ON r.id = e.runId
                    """,
                    """
                    CREATE VIEW episodes_view AS
                    SELECT r.id AS runId, r.name AS run, r.experiment, r.agent, r.seed, e.split, e."index" AS episode,
                           e.globalStep AS trainingStep, \(dialect.isoDate("e.firstTimestamp")) AS firstDate,
                           \(dialect.isoDate("e.lastTimestamp")) AS lastDate, e.steps, e.totalReward, e.finalEquity, \
                    e.costs
                    FROM episode e JOIN run r ON r.id = e.runId
                    """,
                ]
            ),
            (
                "v4-sweeps",
                [
                    #"ALTER TABLE "run" ADD COLUMN "policyStep" INTEGER"#,
                    """
                    CREATE TABLE "sweep" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "name" TEXT NOT NULL UNIQUE, \
                    "experimentPath" TEXT NOT NULL, "experimentYAML" TEXT NOT NULL, "definitionYAML" TEXT NOT NULL, \
                    "createdAt" DATETIME NOT NULL, "launcher" TEXT NOT NULL, "jobId" TEXT)
                    """,
                    """
                    CREATE TABLE "trial" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, \
                    "sweepId" INTEGER NOT NULL REFERENCES "sweep"("id") ON DELETE CASCADE, "index" INTEGER NOT NULL, \
                    "configuration" INTEGER NOT NULL, "window" INTEGER, "seed" INTEGER NOT NULL, \
                    "assignmentsJSON" TEXT NOT NULL, "configHash" TEXT NOT NULL, "after" INTEGER, "status" TEXT NOT \
                    NULL, "runId" INTEGER REFERENCES "run"("id") ON DELETE SET NULL, "message" TEXT, UNIQUE \
                    ("sweepId", "index"))
                    """,
                    #"CREATE INDEX "trial_on_runId" ON "trial"("runId")"#,
                ]
            ),
            ("v5-run-owner-job", [#"ALTER TABLE "run" ADD COLUMN "ownerJob" TEXT"#]),
            ("v6-checkpoint-borrowed", [#"ALTER TABLE "checkpoint" ADD COLUMN "borrowed" INTEGER NOT NULL DEFAULT 0"#]),
        ]
        return list.map { ($0.0, $0.1.map(dialect.ddl)) }
    }

    /// The step's key to its episode on SQLite.
    static let stepReference = #" REFERENCES "episode"("id") ON DELETE CASCADE"#

    /// The same key on PostgreSQL, checked once per statement instead of once per row: a row-level foreign key costs
    /// 5–14 µs a row there (7× the insert itself; `bench store` fell from about 250k to 75k rows/s). After an insert
    /// into `step`, any row whose episode does not exist fails the statement; deleting episodes deletes their steps.
    /// The functions keep the store's schema as their search path. (Nothing updates `step.episodeId` or `episode.id`.)
    static let postgresStepReference = [
        """
        CREATE FUNCTION step_episode_check() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM inserted_steps s
                       WHERE NOT EXISTS (SELECT 1 FROM episode e WHERE e.id = s.episodeId)) THEN
                RAISE foreign_key_violation USING MESSAGE = 'FOREIGN KEY constraint failed', TABLE = 'step';
            END IF;
            RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER step_episode_check AFTER INSERT ON step REFERENCING NEW TABLE AS inserted_steps
        FOR EACH STATEMENT EXECUTE FUNCTION step_episode_check()
        """,
        """
        CREATE FUNCTION step_episode_cascade() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
        BEGIN
            DELETE FROM step WHERE episodeId IN (SELECT id FROM deleted_episodes);
            RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER step_episode_cascade AFTER DELETE ON episode REFERENCING OLD TABLE AS deleted_episodes
        FOR EACH STATEMENT EXECUTE FUNCTION step_episode_cascade()
        """,
    ]

    /// The identifiers recorded in the store's `grdb_migrations` table (none in an empty database).
    static func appliedMigrations(_ db: any StoreConnection) throws -> [String] {
        guard try !db.values(Int64.self, db.dialect.tableExists, sqlArguments("grdb_migrations")).isEmpty else {
            return []
        }
        return try db.values(String.self, "SELECT identifier FROM grdb_migrations").compactMap { $0 }
    }

    /// Applies the missing migrations in one transaction. An up-to-date store is only read, so opening it never waits
    /// for a busy writer.
    /// - Throws: `RunStoreError` when the store has migrations this version does not know (a newer tradesim wrote it),
    ///   when the database (PostgreSQL: the schema) holds no store but other tables (`not a tradesim run store (it
    ///   has tables foo)`: tradesim's are not added beside them), or when `create` is false and it holds nothing.
    static func migrate(_ backend: any StoreBackend, path: String, create: Bool) throws {
        let known = migrations(backend.dialect)
        let (applied, tables) = try backend.read { db in
            let applied = try appliedMigrations(db)
            return (applied, applied.isEmpty ? try db.values(String.self, db.dialect.tableNames, []) : [])
        }
        if !Set(applied).isSubset(of: known.map(\.identifier)) {
            let reason = "written by a newer version of tradesim (unknown schema migrations)"
            throw RunStoreError(path: path, reason: reason)
        }
        if !tables.isEmpty {
            let names = tables.compactMap { $0 }.joined(separator: ", ")
            throw RunStoreError(path: path, reason: "not a tradesim run store (it has tables \(names))")
        }
        if applied.isEmpty && !create {
            throw RunStoreError(path: path, reason: "no run store here (the database has no tradesim tables)")
        }
        guard applied.count < known.count else { return }
        try backend.write { db in
            if let serialize = db.dialect.serialize { try db.execute(serialize, []) }
            try db.execute("CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)", [])
            let done = Set(try appliedMigrations(db))  // another process may have migrated meanwhile
            for migration in known where !done.contains(migration.identifier) {
                for statement in migration.statements { try db.execute(statement, []) }
                try db.execute(
                    "INSERT INTO grdb_migrations (identifier) VALUES (?)",
                    sqlArguments(migration.identifier))
            }
        }
    }
}

extension RunStoreSchema {
    /// Every quoted name of the schema (tables, columns, indexes) by its lower-case form, as PostgreSQL reports them.
    static let columnNames: [String: String] = {
        let quoted = try! NSRegularExpression(pattern: #""([A-Za-z_]+)""#)
        var names: [String: String] = [:]
        for statement in migrations(.sqlite).flatMap(\.statements) {
            let range = NSRange(statement.startIndex..., in: statement)
            for match in quoted.matches(in: statement, range: range) {
                let name = String(statement[Range(match.range(at: 1), in: statement)!])
                names[name.lowercased()] = name
            }
        }
        return names
    }()
}
