import GRDB

/// The database schema and its migrations.
///
/// Migrations are append-only: never edit, rename or reorder a registered migration; add a new one at the end.
/// Table and column names are written as strings here on purpose, so that renaming a Swift property can not
/// silently change the schema.
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
///   `file` TEXT, `sha256` TEXT, `createdAt` DATETIME
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
/// - `episode_on_runId_split_index` (runId, split, index); `episode_on_runId` (runId), which keeps a run's episodes in id
///   order for listing and export without a sort
/// - steps by episode: the primary key of `step`
/// - `trade_on_episodeId_barIndex` (episodeId, barIndex)
/// - `metric_on_runId_key_globalStep` (runId, key, globalStep)
/// - `checkpoint_on_runId_globalStep` (runId, globalStep)
public enum RunStoreSchema {
    /// Identifiers of the registered migrations, in order. A test pins this list.
    public static var migrationIdentifiers: [String] { migrator.migrations }

    /// The migrator that creates and upgrades a store.
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()

        migrator.registerMigration("v1-create-run") { db in
            try db.create(table: "run") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("experiment", .text).notNull()
                t.column("agent", .text).notNull()
                t.column("experimentYAML", .text).notNull()
                t.column("configJSON", .text).notNull()
                t.column("configHash", .text).notNull()
                t.column("codeVersion", .text).notNull()
                t.column("seed", .integer).notNull()
                t.column("status", .text).notNull()
                    .check(sql: "status IN ('running', 'finished', 'failed', 'interrupted')")
                t.column("startedAt", .datetime).notNull()
                t.column("endedAt", .datetime)
                t.column("message", .text)
            }
            try db.create(index: "run_on_experiment_status", on: "run", columns: ["experiment", "status"])
            try db.create(index: "run_on_status", on: "run", columns: ["status"])
        }

        migrator.registerMigration("v1-create-episode") { db in
            try db.create(table: "episode") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("runId", .integer).notNull().references("run", onDelete: .cascade)
                t.column("split", .text).notNull().check(sql: "split IN ('train', 'validation', 'test')")
                t.column("index", .integer).notNull()
                t.column("firstTimestamp", .integer).notNull()
                t.column("lastTimestamp", .integer).notNull()
                t.column("steps", .integer).notNull()
                t.column("totalReward", .double).notNull()
                t.column("finalEquity", .double).notNull()
                t.column("costs", .double).notNull()
                t.column("globalStep", .integer).notNull()
                t.column("actionsHash", .text).notNull()
            }
            try db.create(index: "episode_on_runId_split_index", on: "episode", columns: ["runId", "split", "index"])
            // Episodes of a run in id order (SQLite appends the rowid to every index): listing and export need no sort.
            try db.create(index: "episode_on_runId", on: "episode", columns: ["runId"])
        }

        migrator.registerMigration("v1-create-step") { db in
            try db.create(table: "step", options: .withoutRowID) { t in
                t.column("episodeId", .integer).notNull().references("episode", onDelete: .cascade)
                t.column("barIndex", .integer).notNull()
                t.column("timestamp", .integer).notNull()
                t.column("action", .double).notNull()
                t.column("position", .double).notNull()
                t.column("positionsJSON", .text).notNull().defaults(to: "")
                t.column("fillPrice", .double).notNull()
                t.column("reward", .double).notNull()
                t.column("equity", .double).notNull()
                t.column("cost", .double).notNull()
                t.primaryKey(["episodeId", "barIndex"])
            }
        }

        migrator.registerMigration("v1-create-trade") { db in
            try db.create(table: "trade") { t in
                t.primaryKey("id", .integer)
                t.column("episodeId", .integer).notNull().references("episode", onDelete: .cascade)
                t.column("barIndex", .integer).notNull()
                t.column("timestamp", .integer).notNull()
                t.column("asset", .text).notNull()
                t.column("quantity", .double).notNull()
                t.column("price", .double).notNull()
                t.column("cost", .double).notNull()
            }
            try db.create(index: "trade_on_episodeId_barIndex", on: "trade", columns: ["episodeId", "barIndex"])
        }

        migrator.registerMigration("v1-create-metric") { db in
            try db.create(table: "metric") { t in
                t.primaryKey("id", .integer)
                t.column("runId", .integer).notNull().references("run", onDelete: .cascade)
                t.column("globalStep", .integer).notNull()
                t.column("key", .text).notNull()
                t.column("value", .double)
                t.column("wallTime", .double)
            }
            try db.create(index: "metric_on_runId_key_globalStep", on: "metric", columns: ["runId", "key", "globalStep"])
        }

        migrator.registerMigration("v1-create-checkpoint") { db in
            try db.create(table: "checkpoint") { t in
                t.primaryKey("id", .integer)
                t.column("runId", .integer).notNull().references("run", onDelete: .cascade)
                t.column("globalStep", .integer).notNull()
                t.column("file", .text).notNull()
                t.column("sha256", .text).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(index: "checkpoint_on_runId_globalStep", on: "checkpoint", columns: ["runId", "globalStep"])
        }

        migrator.registerMigration("v2-run-owner") { db in
            try db.alter(table: "run") { t in
                t.add(column: "ownerPid", .integer)
                t.add(column: "ownerHost", .text)
                t.add(column: "heartbeatAt", .datetime)
            }
        }

        // Views for analysis in SQL or pandas: one row per stored step / episode with its run's name and ISO dates,
        // so the common question needs no join and no quoted `index` column.
        migrator.registerMigration("v3-views") { db in
            try db.execute(sql: """
                CREATE VIEW steps_view AS
                SELECT r.id AS runId, r.name AS run, r.experiment, r.agent, r.seed, e.split, e."index" AS episode,
                       s.barIndex AS bar, s.timestamp, \(isoDateSQL("s.timestamp")) AS date, s.action, s.position,
                       s.positionsJSON AS positions, s.fillPrice, s.cost, s.reward, s.equity
                FROM step s JOIN episode e ON e.id = s.episodeId JOIN run r ON r.id = e.runId;
                CREATE VIEW episodes_view AS
                SELECT r.id AS runId, r.name AS run, r.experiment, r.agent, r.seed, e.split, e."index" AS episode,
                       e.globalStep AS trainingStep, \(isoDateSQL("e.firstTimestamp")) AS firstDate,
                       \(isoDateSQL("e.lastTimestamp")) AS lastDate, e.steps, e.totalReward, e.finalEquity, e.costs
                FROM episode e JOIN run r ON r.id = e.runId;
                """)
        }

        migrator.registerMigration("v4-sweeps") { db in
            try db.alter(table: "run") { t in t.add(column: "policyStep", .integer) }
            try db.create(table: "sweep") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("experimentPath", .text).notNull()
                t.column("experimentYAML", .text).notNull()
                t.column("definitionYAML", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("launcher", .text).notNull()
                t.column("jobId", .text)
            }
            try db.create(table: "trial") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("sweepId", .integer).notNull().references("sweep", onDelete: .cascade)
                t.column("index", .integer).notNull()
                t.column("configuration", .integer).notNull()
                t.column("window", .integer)
                t.column("seed", .integer).notNull()
                t.column("assignmentsJSON", .text).notNull()
                t.column("configHash", .text).notNull()
                t.column("after", .integer)
                t.column("status", .text).notNull()
                t.column("runId", .integer).references("run", onDelete: .setNull)
                t.column("message", .text)
                t.uniqueKey(["sweepId", "index"])
            }
            try db.create(index: "trial_on_runId", on: "trial", columns: ["runId"])
        }

        migrator.registerMigration("v5-run-owner-job") { db in
            try db.alter(table: "run") { t in t.add(column: "ownerJob", .text) }
        }

        return migrator
    }
}
