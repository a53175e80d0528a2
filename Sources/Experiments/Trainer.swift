import Agents
import Foundation
import MarketData
import RunStore
import TradingEnv

/// The version written into every run.
public let tradesimVersion = "tradesim 0.1.0"

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
public func runExperiment(
    _ experiment: Experiment, store storePath: String? = nil, progress: (TrainingProgress) -> Void = { _ in }
) throws -> [RunOutcome] {
    let setup = try MarketSetup(path: experiment.environmentPath, overrides: experiment.environmentOverrides)
    let agentConfig = try AgentFile.load(experiment.agentPath, overrides: experiment.agentOverrides)
    let store = try RunStore(path: storePath ?? experiment.spec.store)
    let dataSHA256 = try sha256Hex(ofFile: setup.dataPath)
    return try experiment.spec.seeds.map { seed in
        let resolved = ResolvedConfig(experiment: experiment.spec, environment: setup.spec,
                                      environmentFolder: absolutePath(setup.folder), agent: agentConfig, seed: seed,
                                      dataSHA256: dataSHA256)
        let json = try resolved.json()
        let run = try store.createRun(experiment: experiment.name, agent: experiment.agentName, seed: Int64(seed),
                                      experimentYAML: experiment.yaml, configJSON: json, configHash: fnv1aHex(json),
                                      codeVersion: tradesimVersion)
        var session: TrainingSession
        do {
            session = try TrainingSession(run: run, config: resolved, setup: setup, store: store, state: TrainerState())
        } catch {
            try? store.failRun(run.id!, message: "\(error)")
            throw error
        }
        return try session.train(progress: progress)
    }
}

/// Continues a run from its latest checkpoint: checks every checkpoint file against its recorded SHA-256, restores the
/// agent (weights, optimizer, RNG, counters) and the trainer's counters, removes what the run logged after that step,
/// and trains to the run's step budget. The result is bit-identical to a run that was never interrupted.
public func resumeRun(_ reference: String, store: RunStore, progress: (TrainingProgress) -> Void = { _ in }) throws
    -> RunOutcome
{
    let run = try store.run(reference: reference)
    guard run.status != .finished else { throw RunStateError("\(store.path): run \(run.name) has already finished") }
    guard run.status != .running else {
        let owner = "process \(run.ownerPid.map(String.init) ?? "?") on \(run.ownerHost ?? "?")"
        throw RunStateError("\(store.path): run \(run.name) is still running (\(owner))")
    }
    let saved = try SavedRun(run, store: store)
    var state: TrainerState
    let stateFile = saved.directory + "/" + TrainerState.file
    do {
        state = try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: URL(fileURLWithPath: stateFile)))
    } catch {
        throw CheckpointError("\(stateFile): cannot read the trainer state (\(error))")
    }
    state.resumedFrom = saved.directory
    try store.rollback(runId: run.id!, after: saved.step)
    try store.setStatus(ofRun: run.id!, to: .running)
    var session = try TrainingSession(run: run, config: saved.config, setup: saved.setup, store: store, state: state)
    return try session.train(progress: progress)
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
///
/// Training runs in chunks that end at every `evaluateEvery` and `checkpointEvery` step and at the budget; each chunk
/// restarts the environments with a seed derived from the run seed and the chunk index, which is what makes a resumed
/// run bit-identical to an uninterrupted one.
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
            try restore(agent, from: directory)
        } else if !config.agent.encoder.from.isEmpty {
            do { try agent.loadEncoder(from: loadPretrainedNetwork(config.agent.encoder.from, store: store)) } catch {
                throw ConfigError("encoder.from '\(config.agent.encoder.from)': \(error)")
            }
        }
    }

    var runId: Int64 { run.id! }
    var spec: ExperimentSpec { config.experiment }

    /// Trains to the step budget (train a chunk → flush → evaluate? → checkpoint?), then evaluates every `evaluateOn`
    /// split and marks the run finished. Any failure marks the run failed and is rethrown.
    mutating func train(progress: (TrainingProgress) -> Void) throws -> RunOutcome {
        do {
            var logger = RunLogger(run: run, store: store, env: trainEnv, totalSteps: spec.steps,
                                   keepEvery: spec.logEvery, numeric: numeric, episodes: state.episodes)
            while agent.stepsDone < spec.steps {
                let before = agent.stepsDone
                try trainChunk(steps: nextBoundary(after: before) - before, logger: &logger, progress: progress)
                let now = agent.stepsDone
                if now < spec.steps && crossed(every: spec.evaluateEvery, from: before, to: now) {
                    _ = try evaluate(.validation)
                }
                if now >= spec.steps || crossed(every: spec.checkpointInterval, from: before, to: now) {
                    try checkpoint()
                }
            }
            let evaluations = try spec.evaluateOn.map { split in (split, try evaluate(split)) }
            try store.finishRun(runId)
            return RunOutcome(run: try store.run(id: runId), evaluations: evaluations)
        } catch {
            try? store.failRun(runId, message: "\(error)")
            throw error
        }
    }

    /// Trains `steps` more steps as one chunk, logging its events, and writes the chunk's pending metrics.
    mutating func trainChunk(steps: Int, logger: inout RunLogger, progress: (TrainingProgress) -> Void) throws {
        let seed = UInt64(config.seed) &* 1_000_003 &+ UInt64(state.chunk)
        let (agent, env) = (self.agent, trainEnv)
        logger.beginChunk(step: agent.stepsDone)
        NumericGuard.$current.withValue(numeric) {
            agent.train(env: env, steps: steps, seed: seed) { logger.record($0, progress: progress) }
        }
        try logger.endChunk(step: agent.stepsDone)
        state.episodes = logger.episodes
        state.chunk += 1
    }

    /// The next step at which training stops for an evaluation, a checkpoint or the end.
    func nextBoundary(after step: Int) -> Int {
        var b = spec.steps
        for every in [spec.evaluateEvery, spec.checkpointInterval] where every > 0 {
            b = min(b, (step / every + 1) * every)
        }
        return b
    }

    /// Whether a multiple of `every` (> 0) lies in (from, to].
    func crossed(every: Int, from: Int, to: Int) -> Bool { every > 0 && to / every > from / every }

    /// Writes the agent and the trainer state to `{checkpoints}/{run name}/step-{N}/` and records every file with its
    /// SHA-256. The files are complete before their rows are committed, so a recorded checkpoint is always whole.
    func checkpoint() throws {
        let step = agent.stepsDone
        // The run name is a folder name under `checkpoints`; a name from a foreign store must not lead outside it.
        guard !run.name.isEmpty, !run.name.contains("/"), run.name != ".", run.name != ".." else {
            throw RunStateError(
                "\(store.path): run name '\(run.name)' is not a plain folder name; refusing to write its checkpoint")
        }
        let directory = URL(fileURLWithPath: checkpointRoot(spec.checkpoints, store: store)).appendingPathComponent(run.name)
            .appendingPathComponent("step-\(step)")
        do {
            try agent.save(to: directory)
            var saved = state
            saved.resumedFrom = nil
            try Data(sortedJSON(saved).utf8).write(to: directory.appendingPathComponent(TrainerState.file),
                                                   options: .atomic)
        } catch {
            throw CheckpointError("\(directory.path): cannot write the checkpoint (\(error))")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().map { name in
            let file = directory.appendingPathComponent(name).path
            return (file: file, sha256: try sha256Hex(ofFile: file))
        }
        try store.addCheckpoint(runId: runId, globalStep: Int64(step), files: files)
    }

    /// Logs a greedy evaluation of `split` (see `logEvaluation`).
    func evaluate(_ split: Split) throws -> EpisodeSummary {
        try logEvaluation(agent, setup: setup, split: split, runId: runId, store: store)
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
    /// SHA-256 of the data file when the run was created (nil in runs made before it was recorded).
    var dataSHA256: String?

    func json() throws -> String { try sortedJSON(self) }

    /// What the run traded: its data file's SHA-256 (hashed now from the path the config names when the run did not
    /// record it) with the tickers chosen from it; nil when that file cannot be read. Runs with equal fingerprints
    /// traded the same bars of the same data.
    func dataFingerprint() -> String? {
        guard let sha = dataSHA256 ?? (try? sha256Hex(ofFile: dataFilePath(environment.data, folder: environmentFolder)))
        else { return nil }
        return sha + " " + environment.data.tickers.joined(separator: ",")
    }
}

/// The folder that holds the runs' checkpoint folders: `configured` (relative to the working directory), or
/// `checkpoints/` beside the store file when it is empty.
func checkpointRoot(_ configured: String, store: RunStore) -> String {
    configured.isEmpty ? store.folder + "/checkpoints" : absolutePath(configured)
}

/// `path` made absolute against the working directory.
func absolutePath(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}
