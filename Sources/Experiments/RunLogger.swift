import Agents
import Foundation
import RunStore
import TradingEnv

/// Progress of a training run, for the CLI's progress bar or plain lines.
public struct TrainingProgress: Sendable {
    public var run: String
    public var step: Int
    public var total: Int
    /// Training steps per second of training time (evaluation and checkpoint pauses excluded).
    public var stepsPerSecond: Double
    public var lastEpisodeReturn: Double?
    public var loss: Double?
    /// What the run is doing: `training`, `evaluating validation`, `checkpoint`…
    public var phase: String = "training"
    /// A line to show once, before the progress (e.g. that the budget rounds up to whole rollouts).
    public var notice: String?
    public var secondsLeft: Double { stepsPerSecond > 0 ? Double(max(total - step, 0)) / stepsPerSecond : .infinity }

    public init(
        run: String, step: Int, total: Int, stepsPerSecond: Double, lastEpisodeReturn: Double? = nil,
        loss: Double? = nil, phase: String = "training"
    ) {
        self.run = run
        self.step = step
        self.total = total
        self.stepsPerSecond = stepsPerSecond
        self.lastEpisodeReturn = lastEpisodeReturn
        self.loss = loss
        self.phase = phase
    }
}

/// Turns one run's `TrainingEvent`s into store rows: each training episode is one transaction with its kept step rows,
/// the update metrics logged since the previous episode and its `charts/episodicReturn` / `charts/episodicLength`;
/// `numeric/skippedUpdates` counts the non-finite updates skipped since the last report. The first failure (a write
/// error, or a non-finite update under `nonFinite: stop`) ends the logging of the chunk and is rethrown by `endChunk`.
struct RunLogger {
    let runId: Int64
    let runName: String
    let store: RunStore
    /// The training environment (for the dates of episodes' first bars).
    let env: MarketEnv
    let totalSteps: Int
    let numeric: NumericGuard
    /// Where every metric row also goes, live, when the experiment names a `tensorboard` folder.
    let tensorboard: TensorBoardWriter?
    /// The clock (injected by tests), which stamps the metric rows' wall time (unix seconds).
    let now: () -> Date
    /// Training episodes logged so far: the next one's index.
    private(set) var episodes: Int
    private var open: TrainingEpisodes
    private var pending: [MetricRecord] = []
    private var reportedSkips = 0
    private var lastReturn: Double?
    private var lastLoss: Double?
    private var failure: (any Error)?
    /// Steps trained and seconds spent training in earlier chunks, and when the current chunk started (for the rate).
    private var trainedSteps = 0
    /// Seconds spent in training chunks so far (no evaluation, checkpoint or set-up).
    private(set) var trainingSeconds = 0.0
    private var chunk: (start: Date, step: Int)?

    /// - Parameters:
    ///   - episodes: training episodes the run logged before (a resumed run continues their numbering).
    ///   - keepEvery: keep every k-th step row of a training episode (0: none).
    init(
        run: RunRecord, store: RunStore, env: MarketEnv, totalSteps: Int, keepEvery: Int, numeric: NumericGuard,
        episodes: Int, tensorboard: TensorBoardWriter?, now: @escaping () -> Date = Date.init
    ) {
        self.now = now
        runId = run.id!
        runName = run.name
        self.store = store
        self.env = env
        self.tensorboard = tensorboard
        self.totalSteps = totalSteps
        self.numeric = numeric
        self.episodes = episodes
        open = TrainingEpisodes(keepEvery: keepEvery)
    }

    private var wallTime: Double { now().timeIntervalSince1970 }

    /// Starts a chunk of training at global step `step`; the environments restart, so no episode stays open.
    mutating func beginChunk(step: Int) {
        open = TrainingEpisodes(keepEvery: open.keepEvery)
        chunk = (now(), step)
    }

    /// Logs one event of the chunk.
    mutating func record(_ event: TrainingEvent<StepInfo>, progress: (TrainingProgress) -> Void) {
        guard failure == nil else { return }
        if let fault = numeric.fault {
            failure = nonFiniteError(fault, step: event.globalStep)
            return
        }
        do {
            switch event {
            case .step(let env, _, let action, let reward, let info):
                open.record(env: env, action: action, reward: reward, info: info)
            case .episode(let e):
                try logEpisode(
                    vectorIndex: e.env, endStep: e.step, length: e.length, episodeReturn: e.episodeReturn, info: e.info)
            case .update(let step, let metrics):
                let wall = wallTime
                for (key, value) in metrics.sorted(by: { $0.key < $1.key }) {
                    pending.append(
                        MetricRecord(runId: runId, globalStep: Int64(step), key: key, value: value, wallTime: wall))
                }
                pending += skippedUpdateMetrics(step: step, wallTime: wall)
                lastLoss = metrics["losses/td"] ?? metrics["losses/policy"] ?? lastLoss
                progress(progressReport(step: step))
            }
        } catch {
            failure = error
        }
    }

    /// Ends the chunk at global step `step`: rethrows its failure, else logs the episodes the chunk's end cut short
    /// (the environments restart with the next chunk, so each is an episode of its own, as long as it ran), then writes
    /// `charts/globalStep` with the metrics still pending.
    mutating func endChunk(step: Int) throws {
        if failure == nil, let fault = numeric.fault { failure = nonFiniteError(fault, step: step) }
        if let failure { throw failure }
        for (env, cut) in open.running.sorted(by: { $0.key < $1.key }) {
            guard let info = cut.info else { continue }
            try logEpisode(vectorIndex: env, endStep: step, length: cut.length, episodeReturn: cut.reward, info: info)
        }
        if let chunk {
            trainedSteps += step - chunk.step
            trainingSeconds += now().timeIntervalSince(chunk.start)
        }
        chunk = nil
        let wall = wallTime
        pending.append(
            MetricRecord(
                runId: runId, globalStep: Int64(step), key: "charts/globalStep", value: Double(step),
                wallTime: wall))
        pending += skippedUpdateMetrics(step: step, wallTime: wall)
        try store.appendMetrics(pending)
        tensorboard?.add(pending)
        pending.removeAll()
        try tensorboard?.flush()
    }

    /// Progress at `step` in `phase`.
    func progressReport(step: Int, phase: String = "training") -> TrainingProgress {
        TrainingProgress(
            run: runName, step: step, total: totalSteps, stepsPerSecond: rate(at: step),
            lastEpisodeReturn: lastReturn, loss: lastLoss, phase: phase)
    }

    /// One training episode's transaction: its row, kept steps, pending metrics and episodic metrics.
    private mutating func logEpisode(vectorIndex: Int, endStep: Int, length: Int, episodeReturn: Double, info: StepInfo)
        throws
    {
        lastReturn = episodeReturn
        let wall = wallTime
        let (steps, costs, hash) = open.finish(env: vectorIndex)
        let record = EpisodeRecord(
            runId: runId, split: .train, index: Int64(episodes),
            firstTimestamp: env.timestamp(ofBar: max(info.bar - length, 0)),
            lastTimestamp: info.timestamp, steps: Int64(length), totalReward: episodeReturn,
            finalEquity: info.equity, costs: costs, globalStep: Int64(endStep), actionsHash: hash)
        let metrics = [
            MetricRecord(
                runId: runId, globalStep: Int64(endStep), key: "charts/episodicReturn", value: episodeReturn,
                wallTime: wall),
            MetricRecord(
                runId: runId, globalStep: Int64(endStep), key: "charts/episodicLength", value: Double(length),
                wallTime: wall),
        ]
        _ = try store.writeEpisode(record, steps: steps, metrics: pending + metrics)
        tensorboard?.add(pending + metrics)
        pending.removeAll()
        episodes += 1
    }

    /// Steps per second of training time up to `step` (evaluation and checkpoint pauses between chunks excluded).
    func rate(at step: Int) -> Double {
        var (steps, seconds) = (trainedSteps, trainingSeconds)
        if let chunk {
            steps += step - chunk.step
            seconds += now().timeIntervalSince(chunk.start)
        }
        return seconds > 0 ? Double(steps) / seconds : 0
    }

    /// `numeric/skippedUpdates`: the non-finite updates skipped since the last report (none when there were none).
    private mutating func skippedUpdateMetrics(step: Int, wallTime: Double) -> [MetricRecord] {
        let count = numeric.nonFiniteUpdates
        defer { reportedSkips = count }
        guard count > reportedSkips else { return [] }
        return [
            MetricRecord(
                runId: runId, globalStep: Int64(step), key: "numeric/skippedUpdates",
                value: Double(count - reportedSkips), wallTime: wallTime)
        ]
    }

    /// The one line a run stopped by a non-finite update fails with.
    private func nonFiniteError(_ fault: String, step: Int) -> NonFiniteUpdateError {
        let last =
            (try? store.latestCheckpoint(runId: runId)).flatMap { $0 }
            .map { "its last checkpoint (step \($0.globalStep)) is intact" } ?? "it has no checkpoint"
        return NonFiniteUpdateError(
            "run \(runName): non-finite update before training step \(step) (\(fault)); stopped without applying it, "
                + "\(last); set `nonFinite: skip` in the experiment to skip such batches")
    }
}

extension TensorBoardWriter {
    /// Adds metric rows as scalars (their tag is the metric key), stamped now.
    func add(_ metrics: [MetricRecord]) {
        let now = Date().timeIntervalSince1970
        for m in metrics { add(tag: m.key, value: m.value, step: m.globalStep, wallTime: now) }
    }
}

extension TrainingEvent {
    /// The global training step the event happened at.
    var globalStep: Int {
        switch self {
        case .step(_, let step, _, _, _): step
        case .episode(let e): e.step
        case .update(let step, _): step
        }
    }
}

/// The training episodes still running in each vectorised environment: costs, the actions' hash, the sum of rewards,
/// the last step's info, and every `keepEvery`-th step row (plus the last one) for the store.
struct TrainingEpisodes {
    typealias Episode = (
        steps: [StepRecord], costs: Double, hash: FNV1a, length: Int, last: StepRecord?, reward: Double,
        info: StepInfo?
    )
    let keepEvery: Int
    var running: [Int: Episode] = [:]

    init(keepEvery: Int) { self.keepEvery = keepEvery }

    mutating func record(env: Int, action: Double, reward: Double, info: StepInfo) {
        var e = running[env] ?? ([], 0, FNV1a(), 0, nil, 0, nil)
        e.costs += info.cost
        e.reward += reward
        e.info = info
        e.hash.add(action)
        e.length += 1
        if keepEvery > 0 {
            let row = StepRecord(
                barIndex: Int64(info.bar), timestamp: info.timestamp, action: action,
                position: info.position, positionsJSON: "", fillPrice: info.fillPrice, reward: reward,
                equity: info.equity, cost: info.cost)
            if e.length % keepEvery == 0 {
                e.steps.append(row)
                e.last = nil
            } else {
                e.last = row
            }
        }
        running[env] = e
    }

    /// The kept rows (with the episode's last step), the costs and the actions' hash of environment `env`'s episode.
    mutating func finish(env: Int) -> (steps: [StepRecord], costs: Double, hash: String) {
        guard var e = running.removeValue(forKey: env) else { return ([], 0, FNV1a().hex) }
        if let last = e.last { e.steps.append(last) }
        return (e.steps, e.costs, e.hash.hex)
    }
}
