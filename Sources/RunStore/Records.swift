import Foundation
import GRDB

// One record struct per table. Property names equal column names (see `RunStoreSchema` in Migrations.swift).
// Ids are `nil` until the store has inserted the row.

/// Which part of the data an episode ran on. Stored as its raw value in `episode.split`.
public enum EpisodeSplit: String, Codable, Sendable, CaseIterable {
    case train, validation, test
}

/// One training or evaluation run: a row of the `run` table.
public struct RunRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    /// The table, named as a string (see `RunStoreSchema`).
    public static let databaseTableName = "run"

    /// Row id, `nil` before insertion.
    public var id: Int64?
    /// Unique name `{experiment}__{agent}__{seed}__{unixTime}` (a `-2`, `-3`… suffix if that name is taken).
    public var name: String
    /// Experiment name (the YAML file's base name).
    public var experiment: String
    /// Agent name (the algorithm or agent file's base name).
    public var agent: String
    /// The experiment YAML file exactly as written by the user.
    public var experimentYAML: String
    /// The fully resolved configuration, as JSON.
    public var configJSON: String
    /// Hash of `configJSON`, to group runs with the same configuration.
    public var configHash: String
    /// Code version (git commit or package version) that produced the run.
    public var codeVersion: String
    /// Master seed of the run.
    public var seed: Int64
    /// Where the run stands.
    public var status: RunStatus
    /// When the run started.
    public var startedAt: Date
    /// When the run finished or failed, `nil` while running.
    public var endedAt: Date?
    /// Failure text for failed or interrupted runs.
    public var message: String?
    /// The process that trains the run: its pid and host name (set when the run is created or resumed).
    public var ownerPid: Int64?
    public var ownerHost: String?
    /// The owner's lease: the last time it wrote to the run (every episode and metric batch renews it).
    public var heartbeatAt: Date?
    /// The step of the checkpoint that is the run's policy when it is not the latest (`select: bestValidation`).
    public var policyStep: Int64?
    /// The Slurm job the owner ran in (`RunOwner.job`), nil outside Slurm.
    public var ownerJob: String?

    /// Makes a run record; `name` is usually left to `RunStore.createRun`.
    public init(
        id: Int64? = nil, name: String, experiment: String, agent: String, experimentYAML: String,
        configJSON: String, configHash: String, codeVersion: String, seed: Int64,
        status: RunStatus = .running, startedAt: Date, endedAt: Date? = nil, message: String? = nil,
        ownerPid: Int64? = nil, ownerHost: String? = nil, heartbeatAt: Date? = nil, policyStep: Int64? = nil,
        ownerJob: String? = nil
    ) {
        self.id = id
        self.name = name
        self.experiment = experiment
        self.agent = agent
        self.experimentYAML = experimentYAML
        self.configJSON = configJSON
        self.configHash = configHash
        self.codeVersion = codeVersion
        self.seed = seed
        self.status = status
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.message = message
        self.ownerPid = ownerPid
        self.ownerHost = ownerHost
        self.heartbeatAt = heartbeatAt
        self.policyStep = policyStep
        self.ownerJob = ownerJob
    }
}

/// One episode of a run: a row of the `episode` table, written with its steps, trades and metrics in one transaction.
public struct EpisodeRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    /// The table, named as a string (see `RunStoreSchema`).
    public static let databaseTableName = "episode"

    /// Row id, `nil` before insertion.
    public var id: Int64?
    /// The run this episode belongs to.
    public var runId: Int64
    /// Data split the episode ran on.
    public var split: EpisodeSplit
    /// Episode number within its run and split, counting from 0.
    public var index: Int64
    /// Unix seconds of the first bar.
    public var firstTimestamp: Int64
    /// Unix seconds of the last bar.
    public var lastTimestamp: Int64
    /// Number of environment steps (not the number of stored step rows, which the caller may decimate).
    public var steps: Int64
    /// Sum of rewards.
    public var totalReward: Double
    /// Equity at the end of the episode.
    public var finalEquity: Double
    /// Total trading costs paid.
    public var costs: Double
    /// Training step at which the episode ended.
    public var globalStep: Int64
    /// Hash of the episode's actions, to verify a replay.
    public var actionsHash: String

    /// Makes an episode record.
    public init(
        id: Int64? = nil, runId: Int64, split: EpisodeSplit, index: Int64, firstTimestamp: Int64,
        lastTimestamp: Int64, steps: Int64, totalReward: Double, finalEquity: Double, costs: Double,
        globalStep: Int64, actionsHash: String
    ) {
        self.id = id
        self.runId = runId
        self.split = split
        self.index = index
        self.firstTimestamp = firstTimestamp
        self.lastTimestamp = lastTimestamp
        self.steps = steps
        self.totalReward = totalReward
        self.finalEquity = finalEquity
        self.costs = costs
        self.globalStep = globalStep
        self.actionsHash = actionsHash
    }
}

/// One environment step of an episode: a row of the `step` table (primary key episodeId, barIndex).
public struct StepRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    /// The table, named as a string (see `RunStoreSchema`).
    public static let databaseTableName = "step"

    /// The episode; `RunStore.writeEpisode` replaces it with the new episode's id.
    public var episodeId: Int64
    /// Index of the bar in the replayed series.
    public var barIndex: Int64
    /// Unix seconds of the bar.
    public var timestamp: Int64
    /// Action taken (a discrete action as its index).
    public var action: Double
    /// The (first) asset's weight after the fill, marked at the bar's close; a panel's every weight is in
    /// `positionsJSON`.
    public var position: Double
    /// A panel's weights after the fill (N) as a JSON array, empty for one asset (and in a panel's training
    /// episodes, whose steps keep the first asset's weight only).
    public var positionsJSON: String
    /// The (first) asset's fill price, 0 when it did not trade.
    public var fillPrice: Double
    /// Reward received.
    public var reward: Double
    /// Equity after the step.
    public var equity: Double
    /// Trading cost paid at this step.
    public var cost: Double

    /// Makes a step record; `episodeId` can stay 0 when the step is passed to `RunStore.writeEpisode`.
    public init(
        episodeId: Int64 = 0, barIndex: Int64, timestamp: Int64, action: Double, position: Double,
        positionsJSON: String = "", fillPrice: Double, reward: Double, equity: Double, cost: Double
    ) {
        self.episodeId = episodeId
        self.barIndex = barIndex
        self.timestamp = timestamp
        self.action = action
        self.position = position
        self.positionsJSON = positionsJSON
        self.fillPrice = fillPrice
        self.reward = reward
        self.equity = equity
        self.cost = cost
    }
}

/// One fill: a row of the `trade` table.
public struct TradeRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    /// The table, named as a string (see `RunStoreSchema`).
    public static let databaseTableName = "trade"

    /// Row id, `nil` before insertion.
    public var id: Int64?
    /// The episode; `RunStore.writeEpisode` replaces it with the new episode's id.
    public var episodeId: Int64
    /// Index of the bar at which the trade was filled.
    public var barIndex: Int64
    /// Unix seconds of that bar.
    public var timestamp: Int64
    /// Asset symbol.
    public var asset: String
    /// Signed quantity: positive buys, negative sells.
    public var quantity: Double
    /// Fill price.
    public var price: Double
    /// Cost paid for the trade.
    public var cost: Double

    /// Makes a trade record; `episodeId` can stay 0 when the trade is passed to `RunStore.writeEpisode`.
    public init(
        id: Int64? = nil, episodeId: Int64 = 0, barIndex: Int64, timestamp: Int64, asset: String,
        quantity: Double, price: Double, cost: Double
    ) {
        self.id = id
        self.episodeId = episodeId
        self.barIndex = barIndex
        self.timestamp = timestamp
        self.asset = asset
        self.quantity = quantity
        self.price = price
        self.cost = cost
    }
}

/// One scalar, like a TensorBoard scalar (`charts/episodicReturn`, `losses/td`, `charts/sps`): a row of the `metric`
/// table. A NaN value (a diverged loss) is stored as NULL and read back as NaN.
public struct MetricRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    /// The table, named as a string (see `RunStoreSchema`).
    public static let databaseTableName = "metric"

    /// Row id, `nil` before insertion.
    public var id: Int64?
    /// The run; `RunStore.writeEpisode` replaces it with the episode's run id.
    public var runId: Int64
    /// Training step the value belongs to.
    public var globalStep: Int64
    /// Scalar name, e.g. `losses/td`.
    public var key: String
    /// The value; NaN is allowed.
    public var value: Double
    /// Wall-clock time in unix seconds, if recorded.
    public var wallTime: Double?

    /// Makes a metric record; `runId` can stay 0 when the metric is passed to `RunStore.writeEpisode`.
    public init(
        id: Int64? = nil, runId: Int64 = 0, globalStep: Int64, key: String, value: Double, wallTime: Double? = nil
    ) {
        self.id = id
        self.runId = runId
        self.globalStep = globalStep
        self.key = key
        self.value = value
        self.wallTime = wallTime
    }

    /// Decodes a row; a NULL value is NaN.
    public init(row: Row) throws {
        id = row["id"]
        runId = row["runId"]
        globalStep = row["globalStep"]
        key = row["key"]
        value = row["value"] ?? .nan
        wallTime = row["wallTime"]
    }
}

extension MetricRecord: Equatable {
    /// Equal when every field is equal, NaN values counting as equal to each other.
    public static func == (a: MetricRecord, b: MetricRecord) -> Bool {
        a.id == b.id && a.runId == b.runId && a.globalStep == b.globalStep && a.key == b.key
            && (a.value == b.value || (a.value.isNaN && b.value.isNaN)) && a.wallTime == b.wallTime
    }
}

/// A saved model checkpoint: a row of the `checkpoint` table.
public struct CheckpointRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    /// The table, named as a string (see `RunStoreSchema`).
    public static let databaseTableName = "checkpoint"

    /// Row id, `nil` before insertion.
    public var id: Int64?
    /// The run the checkpoint belongs to.
    public var runId: Int64
    /// Training step at which it was saved.
    public var globalStep: Int64
    /// Path of the checkpoint file.
    public var file: String
    /// SHA-256 of the file, lowercase hex.
    public var sha256: String
    /// When it was saved.
    public var createdAt: Date
    /// Whether `store copy` wrote the row: the file belongs to the store the run was copied from, and deleting the run
    /// here leaves it on disk.
    public var borrowed: Bool

    /// Makes a checkpoint record.
    public init(
        id: Int64? = nil, runId: Int64, globalStep: Int64, file: String, sha256: String, createdAt: Date = Date(),
        borrowed: Bool = false
    ) {
        self.id = id
        self.runId = runId
        self.globalStep = globalStep
        self.file = file
        self.sha256 = sha256
        self.createdAt = createdAt
        self.borrowed = borrowed
    }
}

/// How many rows a run has logged: its episodes (every split, with their steps and trades) and its metric rows. A
/// checkpoint keeps them, so that a resume deletes exactly what was logged after it (`RunStore.rollback`).
public struct LoggedRows: Codable, Sendable, Equatable {
    public var episodes: Int
    public var metrics: Int

    public init(episodes: Int, metrics: Int) {
        self.episodes = episodes
        self.metrics = metrics
    }
}
