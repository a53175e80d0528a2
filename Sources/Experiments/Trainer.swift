import Agents
import Crypto
import Foundation
import MarketData
import RLCore
import RunStore
import TradingEnv

/// The version written into every run.
public let tradesimVersion = "tradesim 0.1.0"

/// Progress of a training run, for the CLI's progress bar or plain lines.
public struct TrainingProgress: Sendable {
    public var run: String
    public var step: Int
    public var total: Int
    public var stepsPerSecond: Double
    public var lastEpisodeReturn: Double?
    public var loss: Double?
    public var secondsLeft: Double { stepsPerSecond > 0 ? Double(total - step) / stepsPerSecond : .infinity }
}

/// What one run of an experiment produced.
public struct RunOutcome {
    public var run: RunRecord
    /// Greedy-policy evaluation of each split in `evaluateOn`, after training.
    public var evaluations: [(split: Split, summary: EpisodeSummary)]
}

/// Trains one run per seed of `experiment`, logging to its store: the run row with the experiment YAML and the resolved
/// configs, every training episode (one transaction each), the agents' update metrics, validation evaluations every
/// `evaluateEvery` steps, checkpoints every `checkpointEvery` steps, and a full evaluation of each `evaluateOn` split at
/// the end (every step logged). A failure marks the run `failed` with its message and is rethrown; what was committed
/// before stays.
public func runExperiment(_ experiment: Experiment, store storePath: String? = nil,
                          progress: (TrainingProgress) -> Void = { _ in }) throws -> [RunOutcome] {
    let setup = try MarketSetup(path: experiment.environmentPath, overrides: experiment.environmentOverrides)
    let agentConfig = try AgentFile.load(experiment.agentPath, overrides: experiment.agentOverrides)
    let store = try RunStore(path: storePath ?? experiment.spec.store)
    return try experiment.spec.seeds.map { seed in
        let resolved = ResolvedConfig(experiment: experiment.spec, environment: setup.spec,
                                      environmentFolder: absolutePath(setup.folder), agent: agentConfig, seed: seed)
        let json = try resolved.json()
        let run = try store.createRun(experiment: experiment.name, agent: experiment.agentName, seed: Int64(seed),
                                      experimentYAML: experiment.yaml, configJSON: json, configHash: fnv1aHex(json),
                                      codeVersion: tradesimVersion)
        var session: TrainingSession
        do { session = try TrainingSession(run: run, config: resolved, setup: setup, store: store, state: TrainerState()) } catch {
            try? store.failRun(run.id!, message: "\(error)")
            throw error
        }
        return try session.train(progress: progress)
    }
}

/// Continues a run from its latest checkpoint: checks every checkpoint file against its recorded SHA-256, restores the
/// agent (weights, optimizer, RNG, counters) and the trainer's counters, removes what the run logged after that step,
/// and trains to the run's step budget. The result is bit-identical to a run that was never interrupted.
public func resumeRun(_ reference: String, store: RunStore, progress: (TrainingProgress) -> Void = { _ in }) throws -> RunOutcome {
    let run = try store.run(reference: reference)
    guard run.status != .finished else { throw ConfigError("\(store.path): run \(run.name) has already finished") }
    guard run.status != .running else {
        throw ConfigError("\(store.path): run \(run.name) is still running (process \(run.ownerPid.map(String.init) ?? "?") on \(run.ownerHost ?? "?"))")
    }
    let saved = try SavedRun(run, store: store)
    var state: TrainerState
    let stateFile = saved.directory + "/" + TrainerState.file
    do {
        state = try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: URL(fileURLWithPath: stateFile)))
    } catch {
        throw ConfigError("\(stateFile): cannot read the trainer state (\(error))")
    }
    state.resumedFrom = saved.directory
    try store.rollback(runId: run.id!, after: saved.step)
    try store.setStatus(ofRun: run.id!, to: .running)
    var session = try TrainingSession(run: run, config: saved.config, setup: saved.setup, store: store, state: state)
    return try session.train(progress: progress)
}

/// A run's latest checkpoint, verified: its configuration decoded from the run row, its data loaded, and every file of
/// the checkpoint checked against the SHA-256 recorded in the store.
public struct SavedRun {
    public let run: RunRecord
    let config: ResolvedConfig
    public let setup: MarketSetup
    /// The checkpoint folder and the training step it was written at.
    public let directory: String
    public let step: Int64

    /// - Parameter step: the checkpoint written at this training step (nil: the latest).
    public init(_ run: RunRecord, store: RunStore, step wanted: Int64? = nil) throws {
        self.run = run
        guard run.agent != pretrainRunKind else {
            throw ConfigError("\(store.path): run \(run.name) is a pretrain run: no policy to evaluate or resume (agents start from it with encoder.from)")
        }
        do {
            config = try JSONDecoder().decode(ResolvedConfig.self, from: Data(run.configJSON.utf8))
        } catch {
            throw ConfigError("\(store.path): run \(run.name): its stored configuration cannot be read (\(error))")
        }
        (directory, step) = try verifiedCheckpoint(run, store: store, step: wanted)
        setup = try MarketSetup(spec: config.environment, folder: config.environmentFolder, path: config.environmentFolder)
    }

    /// The run's agent with the checkpoint's weights and state.
    public func agent() throws -> any Agent {
        let env = try setup.environment(.train, seed: UInt64(config.seed))
        let agent = makeAgent(config.agent, spec: AgentSpec(of: env), seed: UInt64(config.seed))
        do { try agent.load(from: URL(fileURLWithPath: directory)) } catch {
            throw ConfigError("\(directory): cannot restore the agent (\(error))")
        }
        return agent
    }
}

/// The folder and step of `run`'s checkpoint written at training step `wanted` (nil: the latest), after checking every
/// file of it against its recorded SHA-256.
func verifiedCheckpoint(_ run: RunRecord, store: RunStore, step wanted: Int64? = nil) throws -> (directory: String, step: Int64) {
    let runId = run.id!
    guard var chosen = try store.latestCheckpoint(runId: runId) else {
        throw ConfigError("\(store.path): run \(run.name) has no checkpoint")
    }
    let all = try store.checkpoints(runId: runId)
    if let wanted, wanted != chosen.globalStep {
        guard let found = all.last(where: { $0.globalStep == wanted }) else {
            let steps = Array(Set(all.map(\.globalStep))).sorted().map(String.init).joined(separator: ", ")
            throw ConfigError("\(store.path): run \(run.name) has no checkpoint at step \(wanted) (checkpoints at steps \(steps))")
        }
        chosen = found
    }
    for f in all where f.globalStep == chosen.globalStep {
        let actual: String
        do { actual = try sha256Hex(ofFile: f.file) } catch {
            throw ConfigError("\(f.file): checkpoint file of run \(run.name) is missing or unreadable")
        }
        guard actual == f.sha256 else {
            throw ConfigError("\(f.file): checksum mismatch (recorded \(f.sha256.prefix(12))…, file \(actual.prefix(12))…): the checkpoint is corrupt")
        }
    }
    return ((chosen.file as NSString).deletingLastPathComponent, chosen.globalStep)
}

/// `tradesim evaluate`: the run's saved greedy policy over a whole split, every step logged as an episode of that split
/// with `eval/{split}/…` metrics at the checkpoint's step. Returns the summary.
public func evaluateRun(_ reference: String, split: Split, store: RunStore) throws -> (saved: SavedRun, summary: EpisodeSummary) {
    let saved = try SavedRun(try store.run(reference: reference), store: store)
    let agent = try saved.agent()
    let index = try store.episodes(runId: saved.run.id!, split: EpisodeSplit(rawValue: split.rawValue)!).count
    let summary = try logEvaluation(agent, setup: saved.setup, split: split, runId: saved.run.id!, index: index, store: store)
    return (saved, summary)
}

/// Runs the greedy policy over a whole split with every step logged; writes the episode and its `eval/{split}/…`
/// metrics at the agent's current step.
func logEvaluation(_ agent: any Agent, setup: MarketSetup, split: Split, runId: Int64, index: Int, store: RunStore) throws -> EpisodeSummary {
    let log = try evaluateAgent(agent, setup: setup, split: split)
    let s = log.summary
    let step = Int64(agent.stepsDone)
    let values: [(String, Double?)] = [
        ("sharpe", s.metrics.sharpe), ("totalReturn", s.metrics.totalReturn), ("annualReturn", s.metrics.annualReturn),
        ("maxDrawdown", s.metrics.maxDrawdown), ("psr", s.metrics.psr), ("finalEquity", s.finalEquity),
        ("turnover", s.turnover), ("exposure", s.exposure), ("costs", s.costs),
    ]
    let metrics = values.compactMap { key, value in
        value.map { MetricRecord(runId: runId, globalStep: step, key: "eval/\(split.rawValue)/\(key)", value: $0) }
    }
    _ = try store.writeEpisode(log.record(runId: runId, split: EpisodeSplit(rawValue: split.rawValue)!, index: index,
                                          globalStep: Int(step)),
                               steps: log.steps, trades: log.trades, metrics: metrics)
    return s
}

/// Counters of the training loop that a checkpoint must restore besides the agent's own state.
struct TrainerState: Codable {
    static let file = "trainer.json"
    /// Chunks trained so far (a chunk's environments are seeded from the run seed and this index).
    var chunk = 0
    /// Training episodes logged so far.
    var episodes = 0
    /// Set when resuming: the checkpoint directory the agent is loaded from.
    var resumedFrom: String?
}

/// One run being trained: the agent, its environment, the store and the loop's counters.
struct TrainingSession {
    let run: RunRecord
    let config: ResolvedConfig
    let setup: MarketSetup
    let store: RunStore
    let agent: any Agent
    let trainEnv: MarketEnv
    var state: TrainerState
    /// Catches non-finite updates (see `NumericGuard`), under the experiment's `nonFinite` policy.
    let numeric: NumericGuard

    init(run: RunRecord, config: ResolvedConfig, setup: MarketSetup, store: RunStore, state: TrainerState) throws {
        self.run = run
        self.config = config
        self.setup = setup
        self.store = store
        self.state = state
        numeric = NumericGuard(policy: config.experiment.nonFinite)
        trainEnv = try setup.environment(.train, seed: UInt64(config.seed))
        agent = makeAgent(config.agent, spec: AgentSpec(of: trainEnv), seed: UInt64(config.seed))
        if let directory = state.resumedFrom {
            do { try agent.load(from: URL(fileURLWithPath: directory)) } catch {
                throw ConfigError("\(directory): cannot restore the agent (\(error))")
            }
        } else if !config.agent.encoder.from.isEmpty {
            do { try agent.loadEncoder(from: loadPretrainedNetwork(config.agent.encoder.from, store: store)) } catch {
                throw ConfigError("encoder.from '\(config.agent.encoder.from)': \(error)")
            }
        }
    }

    var runId: Int64 { run.id! }
    var spec: ExperimentSpec { config.experiment }

    /// The next step at which training stops for an evaluation, a checkpoint or the end.
    func nextBoundary(after step: Int) -> Int {
        var b = spec.steps
        for every in [spec.evaluateEvery, spec.checkpointEvery] where every > 0 { b = min(b, (step / every + 1) * every) }
        return b
    }

    mutating func train(progress: (TrainingProgress) -> Void) throws -> RunOutcome {
        do {
            let start = Date()
            var lastReturn: Double?, lastLoss: Double?
            var pending: [MetricRecord] = []
            var reportedSkips = 0
            /// `numeric/skippedUpdates`: the non-finite updates skipped since the last report (none when there were none).
            func skippedUpdateMetrics(step: Int, wallTime: Double) -> [MetricRecord] {
                let count = numeric.nonFiniteUpdates
                defer { reportedSkips = count }
                guard count > reportedSkips else { return [] }
                return [MetricRecord(runId: runId, globalStep: Int64(step), key: "numeric/skippedUpdates",
                                     value: Double(count - reportedSkips), wallTime: wallTime)]
            }
            while agent.stepsDone < spec.steps {
                let before = agent.stepsDone
                var failure: (any Error)?
                var episodes = state.episodes
                var open = TrainingEpisodes(keepEvery: spec.logEvery)
                let (runId, name, total, store, trainEnv) = (self.runId, run.name, spec.steps, self.store, self.trainEnv)
                let doneBefore = agent.stepsDone
                let guardian = numeric
                NumericGuard.$current.withValue(guardian) {
                    agent.train(env: trainEnv, steps: nextBoundary(after: before) - before,
                                seed: UInt64(config.seed) &* 1_000_003 &+ UInt64(state.chunk)) { event in
                        guard failure == nil else { return }
                        if let fault = guardian.fault {
                            failure = nonFiniteError(fault, step: agent.stepsDone)
                            return
                        }
                        do {
                            switch event {
                            case .step(let env, _, let action, let reward, let info):
                                open.record(env: env, action: action, reward: reward, info: info)
                            case .episode(let e):
                                lastReturn = e.episodeReturn
                                let wall = Date().timeIntervalSince(start)
                                let (steps, costs, hash) = open.finish(env: e.env)
                                let record = EpisodeRecord(runId: runId, split: .train, index: Int64(episodes),
                                                           firstTimestamp: trainEnv.timestamp(ofBar: max(e.info.bar - e.length, 0)),
                                                           lastTimestamp: e.info.timestamp, steps: Int64(e.length),
                                                           totalReward: e.episodeReturn, finalEquity: e.info.equity, costs: costs,
                                                           globalStep: Int64(e.step), actionsHash: hash)
                                let metrics = [MetricRecord(runId: runId, globalStep: Int64(e.step), key: "charts/episodicReturn", value: e.episodeReturn, wallTime: wall),
                                               MetricRecord(runId: runId, globalStep: Int64(e.step), key: "charts/episodicLength", value: Double(e.length), wallTime: wall)]
                                _ = try store.writeEpisode(record, steps: steps, metrics: pending + metrics)
                                pending.removeAll()
                                episodes += 1
                            case .update(let step, let metrics):
                                let wall = Date().timeIntervalSince(start)
                                for (key, value) in metrics.sorted(by: { $0.key < $1.key }) {
                                    pending.append(MetricRecord(runId: runId, globalStep: Int64(step), key: key, value: value, wallTime: wall))
                                }
                                pending += skippedUpdateMetrics(step: step, wallTime: wall)
                                lastLoss = metrics["losses/td"] ?? metrics["losses/policy"] ?? lastLoss
                                progress(TrainingProgress(run: name, step: step, total: total,
                                                          stepsPerSecond: Double(step - doneBefore) / max(wall, 1e-9),
                                                          lastEpisodeReturn: lastReturn, loss: lastLoss))
                            }
                        } catch {
                            failure = error
                        }
                    }
                }
                if failure == nil, let fault = numeric.fault { failure = nonFiniteError(fault, step: agent.stepsDone) }
                if let failure { throw failure }
                state.episodes = episodes
                state.chunk += 1
                let now = agent.stepsDone
                pending.append(MetricRecord(runId: runId, globalStep: Int64(now), key: "charts/globalStep", value: Double(now),
                                            wallTime: Date().timeIntervalSince(start)))
                pending += skippedUpdateMetrics(step: now, wallTime: Date().timeIntervalSince(start))
                try store.appendMetrics(pending)
                pending.removeAll()
                let finished = now >= spec.steps
                if spec.evaluateEvery > 0 && !finished && now / spec.evaluateEvery > before / spec.evaluateEvery {
                    _ = try evaluate(.validation)
                }
                if finished || (spec.checkpointEvery > 0 && now / spec.checkpointEvery > before / spec.checkpointEvery) {
                    try checkpoint()
                }
            }
            var evaluations: [(Split, EpisodeSummary)] = []
            for split in spec.evaluateOn { evaluations.append((split, try evaluate(split))) }
            try store.finishRun(runId)
            return RunOutcome(run: try store.run(id: runId), evaluations: evaluations)
        } catch {
            try? store.failRun(runId, message: "\(error)")
            throw error
        }
    }

    /// The one line a run stopped by a non-finite update fails with.
    func nonFiniteError(_ fault: String, step: Int) -> ConfigError {
        let last = (try? store.latestCheckpoint(runId: runId)).flatMap { $0 }
            .map { "its last checkpoint (step \($0.globalStep)) is intact" } ?? "it has no checkpoint"
        return ConfigError("run \(run.name): non-finite update before training step \(step) (\(fault)); stopped without applying it, \(last); set `nonFinite: skip` in the experiment to skip such batches")
    }

    /// Writes the agent and the trainer state to `{checkpoints}/{run name}/step-{N}/` and records every file with its
    /// SHA-256. The files are complete before their rows are committed, so a recorded checkpoint is always whole.
    mutating func checkpoint() throws {
        let step = agent.stepsDone
        // The run name is a folder name under `checkpoints`; a name from a foreign store must not lead outside it.
        guard !run.name.isEmpty, !run.name.contains("/"), run.name != ".", run.name != ".." else {
            throw ConfigError("\(store.path): run name '\(run.name)' is not a plain folder name; refusing to write its checkpoint")
        }
        let directory = URL(fileURLWithPath: absolutePath(spec.checkpoints)).appendingPathComponent(run.name).appendingPathComponent("step-\(step)")
        do {
            try agent.save(to: directory)
            var saved = state
            saved.resumedFrom = nil
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(saved).write(to: directory.appendingPathComponent(TrainerState.file), options: .atomic)
        } catch {
            throw ConfigError("\(directory.path): cannot write the checkpoint (\(error))")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().map { name in
            let file = directory.appendingPathComponent(name).path
            return (file: file, sha256: try sha256Hex(ofFile: file))
        }
        try store.addCheckpoint(runId: runId, globalStep: Int64(step), files: files)
    }

    /// Logs a greedy evaluation of `split` (see `logEvaluation`), numbered after the split's earlier episodes.
    func evaluate(_ split: Split) throws -> EpisodeSummary {
        let index = try store.episodes(runId: runId, split: EpisodeSplit(rawValue: split.rawValue)!).count
        return try logEvaluation(agent, setup: setup, split: split, runId: runId, index: index, store: store)
    }
}

/// The training episodes still running in each vectorised environment: costs, the actions' hash, and every
/// `keepEvery`-th step row (plus the last one) for the store.
struct TrainingEpisodes {
    let keepEvery: Int
    var open: [Int: (steps: [StepRecord], costs: Double, hash: FNV1a, length: Int, last: StepRecord?)] = [:]

    init(keepEvery: Int) { self.keepEvery = keepEvery }

    mutating func record(env: Int, action: Double, reward: Double, info: StepInfo) {
        var e = open[env] ?? ([], 0, FNV1a(), 0, nil)
        e.costs += info.cost
        e.hash.add(action)
        e.length += 1
        if keepEvery > 0 {
            let row = StepRecord(barIndex: Int64(info.bar), timestamp: info.timestamp, action: action, position: info.position,
                                 positionsJSON: "", fillPrice: info.fillPrice, reward: reward, equity: info.equity, cost: info.cost)
            if e.length % keepEvery == 0 { e.steps.append(row); e.last = nil } else { e.last = row }
        }
        open[env] = e
    }

    /// The kept rows (with the episode's last step), the costs and the actions' hash of environment `env`'s episode.
    mutating func finish(env: Int) -> (steps: [StepRecord], costs: Double, hash: String) {
        guard var e = open.removeValue(forKey: env) else { return ([], 0, FNV1a().hex) }
        if let last = e.last { e.steps.append(last) }
        return (e.steps, e.costs, e.hash.hex)
    }
}

/// Everything a run was configured with, as stored in `run.configJSON`; enough to rebuild and resume the run.
struct ResolvedConfig: Codable {
    var experiment: ExperimentSpec
    var environment: EnvironmentSpec
    /// Absolute folder the environment's data path is relative to.
    var environmentFolder: String
    var agent: AgentConfig
    var seed: Int

    func json() throws -> String { try sortedJSON(self) }
}

/// `value` as JSON with sorted keys (equal values, equal text: what the config hash is taken of).
func sortedJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// `path` made absolute against the working directory.
func absolutePath(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}

/// SHA-256 of a file's bytes, as 64 hex digits.
func sha256Hex(ofFile path: String) throws -> String {
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    var hasher = SHA256()
    // 256 KiB at a time: hashing a full replay buffer holds no copy of it in memory.
    while let chunk = try handle.read(upToCount: 1 << 18), !chunk.isEmpty { hasher.update(data: chunk) }
    return hasher.finalize().map { String(format: "%02x", $0) }.joined()
}

/// FNV-1a 64 of a string's UTF-8 bytes, as 16 hex digits (the config hash: equal configs, equal hashes).
func fnv1aHex(_ s: String) -> String {
    var h = FNV1a()
    for b in s.utf8 { h.add(byte: b) }
    return h.hex
}
