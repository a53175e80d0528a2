import Agents
import Foundation
import MarketData
import NeuralCore
import RunStore
import TradingEnv
import Yams

/// The version written into every run.
public let tradesimVersion = "tradesim 0.1.0"

/// What one run of an experiment produced.
public struct RunOutcome {
    public var run: RunRecord
    /// Greedy-policy evaluation of each split in `evaluateOn`, after training.
    public var evaluations: [(split: Split, summary: EpisodeSummary)]
}

/// A run about to be created: an experiment (with any sweep assignments) and a seed, resolved as the run will store
/// it (the agent and environment files decoded strictly, the data file hashed). Making a plan loads no data.
public struct RunPlan {
    public let experiment: Experiment
    public let seed: Int
    let config: ResolvedConfig
    /// The resolved configuration as stored in `run.configJSON`, and its hash.
    public let configJSON: String
    public var configHash: String { fnv1aHex(configJSON) }

    public init(_ experiment: Experiment, seed: Int) throws {
        guard seed >= 0 else {
            throw ConfigError("\(experiment.path.isEmpty ? "--seed" : experiment.path): seed \(seed) must be ≥ 0")
        }
        let environment = try EnvironmentSpec.load(
            experiment.environmentPath, overrides: experiment.environmentOverrides)
        let folder = absolutePath(folderOf(experiment.environmentPath))
        let data = dataFilePath(environment.data, folder: folder)
        let sha: String
        do { sha = try sha256Hex(ofFile: data) } catch {
            throw ConfigError("\(experiment.environmentPath): data: cannot read \(data)")
        }
        self.experiment = experiment
        self.seed = seed
        var agent = try AgentFile.load(experiment.agentPath, overrides: experiment.agentOverrides)
        // PPO's learning rate falls to 0 once over the run (the trainer calls `train` once per stretch between
        // evaluations and checkpoints).
        if case .ppo(var ppo) = agent, ppo.annealLearningRate, ppo.annealSteps == nil {
            ppo.annealSteps = experiment.spec.steps
            agent = .ppo(ppo)
        }
        config = ResolvedConfig(
            experiment: experiment.spec, environment: environment, environmentFolder: folder, agent: agent,
            seed: seed, dataSHA256: sha, environmentFile: absolutePath(experiment.environmentPath))
        configJSON = try config.json()
    }

    /// The run's environment with its data loaded, as training builds it (`ResolvedConfig.setup`); the data of a setup
    /// in `loaded` with the same data config is reused.
    public func setup(sharingDataWith loaded: [MarketSetup] = []) throws -> MarketSetup {
        try config.setup(sharingDataWith: loaded)
    }

    /// The run row to create: named `{experiment}__{agent}__{seed}__{unix time}`, status `running`.
    public func runRecord(startedAt: Date = Date()) -> RunRecord {
        RunRecord(
            name: "\(experiment.name)__\(experiment.agentName)__\(seed)__\(Int64(startedAt.timeIntervalSince1970))",
            experiment: experiment.name, agent: experiment.agentName, experimentYAML: experiment.yaml,
            configJSON: configJSON, configHash: configHash, codeVersion: tradesimVersion, seed: Int64(seed),
            startedAt: startedAt)
    }
}

/// Trains one run per seed of `experiment`, logging to its store: the run row with the experiment YAML and the resolved
/// configs, every training episode (one transaction each), the agents' update metrics, validation evaluations every
/// `evaluateEvery` steps, checkpoints every `checkpointEvery` steps, and a full evaluation of each `evaluateOn` split
/// at the end (every step logged). A failure marks the run `failed` with its message and is rethrown; what was
/// committed before stays.
public func runExperiment(
    _ experiment: Experiment, store storePath: String? = nil, progress: (TrainingProgress) -> Void = { _ in }
) throws -> [RunOutcome] {
    let setup = try MarketSetup(path: experiment.environmentPath, overrides: experiment.environmentOverrides)
    let plans = try experiment.spec.seeds.map { try RunPlan(experiment, seed: $0) }
    try checkBeforeTraining(experiment, plans: plans, setup: setup)
    let location = storePath ?? experiment.spec.store
    let store = try RunStore(path: location)
    try createRunFolders(experiment, store: location)
    return try zip(experiment.spec.seeds, plans).map { seed, plan in
        let run = try store.createRun(
            experiment: experiment.name, agent: experiment.agentName, seed: Int64(seed),
            experimentYAML: experiment.yaml, configJSON: plan.configJSON,
            configHash: plan.configHash, codeVersion: tradesimVersion)
        return try train(plan, run: run, setup: setup, store: store, progress: progress)
    }
}

/// What the runs of `experiment` would only find out after training, checked before any run is created: each plan's
/// agent fits the environment and the machine's memory (`checkAgent`), and each split the runs evaluate has bars.
public func checkBeforeTraining(_ experiment: Experiment, plans: [RunPlan], setup: MarketSetup) throws {
    let trainEnv = try setup.environment(.train)
    for plan in plans {
        try checkAgent(plan.config.agent, of: plan.experiment.agentPath, fits: trainEnv, of: setup.path)
    }
    let evaluated = Set(experiment.spec.evaluateOn + (experiment.spec.evaluateEvery > 0 ? [.validation] : []))
    for split in Split.allCases where evaluated.contains(split) && setup.bars(of: split).isEmpty {
        throw ConfigError(
            "\(experiment.path.isEmpty ? setup.path : experiment.path): the run evaluates the \(split.rawValue) split "
                + "(evaluateOn, evaluateEvery), which has no bars"
                + (experiment.path.isEmpty ? "" : " in \(setup.path)"))
    }
}

/// Refuses an agent (named `agentName` in messages) that `env` (of the environment file `path`) cannot drive: DQN needs
/// discrete actions on one asset, and no agent chooses one level per asset of a panel; and one whose config is out of
/// range (a stored one, made before a bound existed) or whose networks do not fit in this machine's memory on `env`.
func checkAgent(_ agent: AgentConfig, of agentName: String, fits env: MarketEnv, of path: String) throws {
    do {
        try agent.validate()
        try agent.checkMemory(for: AgentSpec(of: env))
    } catch let error as AgentConfigError {
        throw ConfigError("\(agentName) on \(path): \(error)")
    }
    let n = env.assetCount, discrete = env.actionSpace.kind == .discrete
    if n > 1 && discrete {
        throw ConfigError(
            "\(path): actions.kind discrete on a panel of \(n) assets needs one level per asset, which no agent "
                + "chooses; use kind: weights")
    }
    if case .dqn = agent, !discrete {
        throw ConfigError("\(path): a DQN agent needs discrete actions (actions.kind: discrete on one asset)")
    }
}

/// Trains a planned run whose row `run` exists (created by `createRun` or a sweep's claim); `setup` is its loaded
/// environment when the caller has it, `warmStart` a checkpoint folder whose weights the agent starts from.
public func train(
    _ plan: RunPlan, run: RunRecord, setup: MarketSetup? = nil, warmStart: String? = nil,
    store: RunStore, progress: (TrainingProgress) -> Void = { _ in }
) throws -> RunOutcome {
    var session: TrainingSession
    do {
        let setup = try setup ?? plan.config.setup()
        session = try TrainingSession(
            run: run, config: plan.config, setup: setup, store: store, state: TrainerState(),
            warmStart: warmStart)
    } catch {
        try? store.failRun(run.id!, message: "\(error)")
        throw error
    }
    return try session.train(progress: progress)
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
    guard try store.claimRun(run) else {
        throw RunStateError("\(store.path): run \(run.name) was taken by another process resuming it")
    }
    return try continueRun(run, store: store, progress: progress)
}

/// `resumeRun` without the status checks: for a caller that already owns the run (a sweep's claim).
public func continueRun(_ run: RunRecord, store: RunStore, progress: (TrainingProgress) -> Void = { _ in }) throws
    -> RunOutcome
{
    guard run.agent != ensembleRunKind else {
        throw RunStateError(
            "\(store.path): run \(run.name) is an ensemble: it is not trained, so there is nothing to resume")
    }
    let latest = try store.latestCheckpoint(runId: run.id!)?.globalStep
    let saved = try SavedRun(run, store: store, step: latest)
    var state: TrainerState
    let stateFile = saved.directory + "/" + TrainerState.file
    do {
        state = try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: URL(fileURLWithPath: stateFile)))
    } catch {
        throw CheckpointError("\(stateFile): cannot read the trainer state (\(fileSystemReason(error)))")
    }
    state.resumedFrom = saved.directory
    // The agent is restored before any row goes: a checkpoint that cannot be loaded leaves the store as it was.
    var session = try TrainingSession(run: run, config: saved.config, setup: saved.setup, store: store, state: state)
    try store.rollback(runId: run.id!, after: saved.step, keeping: state.logged)
    try store.setStatus(ofRun: run.id!, to: .running)
    try session.restartTensorBoard()
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
    /// `select: bestValidation`: the step of the best validation evaluation so far, its Sharpe (nil when undefined,
    /// e.g. a flat policy, which any defined Sharpe beats), and the evaluations since it.
    var bestStep: Int?
    var bestSharpe: Double?
    var sinceBest: Int?
    /// Set when `patience` stopped training at this checkpoint's step.
    var stoppedEarly: Bool?
    /// The rows the run had in the store when the checkpoint was written (nil in checkpoints written before they were
    /// kept): a resume deletes every row logged after them (`RunStore.rollback`).
    var logged: LoggedRows?

    /// Records a validation evaluation at `step` (Sharpe `sharpe`); returns whether `patience` evaluations have
    /// passed without a better one (0: never).
    mutating func observe(sharpe: Double?, step: Int, patience: Int) -> Bool {
        let better = bestStep == nil || (sharpe ?? -.infinity) > (bestSharpe ?? -.infinity)
        if better {
            (bestStep, bestSharpe, sinceBest) = (step, sharpe, 0)
        } else {
            sinceBest = (sinceBest ?? 0) + 1
        }
        return patience > 0 && (sinceBest ?? 0) >= patience
    }
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
    /// The run's TensorBoard event file in `{tensorboard}/{run name}/`, when the experiment names a folder.
    let tensorboard: TensorBoardWriter?

    /// - Parameter warmStart: a checkpoint folder whose network weights the agent starts from (a walk-forward
    ///   window's predecessor).
    init(
        run: RunRecord, config: ResolvedConfig, setup: MarketSetup, store: RunStore, state: TrainerState,
        warmStart: String? = nil
    ) throws {
        self.run = run
        self.config = config
        self.setup = setup
        self.store = store
        self.state = state
        _ = try checkpointRoot(config.experiment.checkpoints, store: store)  // before any step is taken
        numeric = NumericGuard(policy: config.experiment.nonFinite)
        let folder = config.experiment.tensorboard
        do {
            tensorboard =
                try folder.isEmpty
                ? nil
                : TensorBoardWriter(
                    directory: URL(fileURLWithPath: absolutePath(folder)).appendingPathComponent(run.name))
        } catch {
            throw ConfigError("tensorboard: \(error)")
        }
        trainEnv = try setup.environment(.train, seed: UInt64(config.seed))
        try checkAgent(config.agent, of: "run \(run.name)", fits: trainEnv, of: setup.path)
        agent = makeAgent(config.agent, spec: AgentSpec(of: trainEnv), seed: UInt64(config.seed))
        if let directory = state.resumedFrom {
            try restore(agent, from: directory)
        } else if let warmStart {
            try restoreWeights(agent, from: warmStart)
        } else if !config.agent.encoder.from.isEmpty {
            do { try agent.loadEncoder(from: loadPretrainedNetwork(config.agent.encoder.from, store: store)) } catch {
                throw ConfigError("encoder.from '\(config.agent.encoder.from)': \(error)")
            }
        }
    }

    var runId: Int64 { run.id! }
    var spec: ExperimentSpec { config.experiment }

    /// A resumed run, once the store is rolled back to its checkpoint: TensorBoard drops what the killed process logged
    /// from the checkpoint's step on, so the rows the store kept at that step (logged before the checkpoint) go to it
    /// again.
    func restartTensorBoard() throws {
        guard let tensorboard, state.resumedFrom != nil else { return }
        let step = Int64(agent.stepsDone)
        tensorboard.addSessionStart(step: step)
        tensorboard.add(try store.metrics(runId: run.id!).filter { $0.globalStep == step })
    }

    /// Trains to the step budget (train a chunk → flush → evaluate? → checkpoint?), selects the policy, then evaluates
    /// every `evaluateOn` split and marks the run finished. Any failure marks the run failed and is rethrown.
    mutating func train(progress: (TrainingProgress) -> Void) throws -> RunOutcome {
        do {
            let total = stepsTrained(from: agent.stepsDone)
            var logger = RunLogger(
                run: run, store: store, env: trainEnv, totalSteps: total,
                keepEvery: spec.logEvery, numeric: numeric, episodes: state.episodes,
                tensorboard: tensorboard)
            var first = logger.progressReport(step: agent.stepsDone)
            first.notice = total == spec.steps ? nil : roundingNotice(total: total)
            progress(first)
            while agent.stepsDone < spec.steps && state.stoppedEarly == nil {
                let before = agent.stepsDone
                try trainChunk(steps: nextBoundary(after: before) - before, logger: &logger, progress: progress)
                if try evaluateIfDue(after: before, logger: logger, progress: progress) { state.stoppedEarly = true }
                try checkpointIfDue(after: before, logger: logger, progress: progress)
            }
            if spec.select == .bestValidation {
                try selectBestValidation(evaluatedNow: state.stoppedEarly == true, logger: logger, progress: progress)
            }
            try logTrainingTime(logger)
            let evaluations = try spec.evaluateOn.map { split in
                progress(logger.progressReport(step: agent.stepsDone, phase: "evaluating \(split.rawValue)"))
                return (split, try evaluate(split))
            }
            try store.finishRun(runId)
            try tensorboard?.close()
            return RunOutcome(run: try store.run(id: runId), evaluations: evaluations)
        } catch {
            try? store.failRun(runId, message: "\(error)")
            throw error
        }
    }

    /// The validation evaluation at an `evaluateEvery` point crossed since `before` (not at the end: the final
    /// evaluations follow); with `select: bestValidation` it is recorded. Returns whether `patience` stops training.
    mutating func evaluateIfDue(after before: Int, logger: RunLogger, progress: (TrainingProgress) -> Void) throws
        -> Bool
    {
        let now = agent.stepsDone
        guard now < spec.steps && crossed(every: spec.evaluateEvery, from: before, to: now) else { return false }
        progress(logger.progressReport(step: now, phase: "evaluating validation"))
        let sharpe = try evaluate(.validation).metrics.sharpe
        return spec.select == .bestValidation && state.observe(sharpe: sharpe, step: now, patience: spec.patience)
    }

    /// A checkpoint at the end, when training stops early, at every `checkpointInterval` crossed since `before`, and
    /// (selecting on validation) at every evaluation point, so the best one can be restored.
    func checkpointIfDue(after before: Int, logger: RunLogger, progress: (TrainingProgress) -> Void) throws {
        let now = agent.stepsDone
        let due =
            now >= spec.steps || state.stoppedEarly == true
            || crossed(every: spec.checkpointInterval, from: before, to: now)
            || (spec.select == .bestValidation && crossed(every: spec.evaluateEvery, from: before, to: now))
        guard due else { return }
        progress(logger.progressReport(step: now, phase: "checkpoint"))
        try checkpoint()
    }

    /// The line that says the budget rounds up to whole rollouts.
    func roundingNotice(total: Int) -> String {
        "\(run.name): \(config.agent.algorithm.rawValue) trains in whole rollouts of "
            + "\(config.agent.rolloutSteps) steps (each chunk between evaluations and checkpoints rounds up): \(total) "
            + "steps for the budget of \(spec.steps)"
    }

    /// `charts/trainingSeconds`: the seconds spent in training chunks, to the store and TensorBoard.
    func logTrainingTime(_ logger: RunLogger) throws {
        let seconds = [
            MetricRecord(
                runId: runId, globalStep: Int64(agent.stepsDone), key: "charts/trainingSeconds",
                value: logger.trainingSeconds, wallTime: Date().timeIntervalSince1970)
        ]
        try store.appendMetrics(seconds)
        tensorboard?.add(seconds)
    }

    /// `select: bestValidation` at the end of training: the last weights are evaluated on validation too (unless an
    /// early stop just did), then the best evaluation's checkpoint becomes the agent and the run's recorded policy.
    mutating func selectBestValidation(
        evaluatedNow: Bool, logger: RunLogger,
        progress: (TrainingProgress) -> Void
    ) throws {
        let now = agent.stepsDone
        if !evaluatedNow {
            progress(logger.progressReport(step: now, phase: "evaluating validation"))
            _ = state.observe(sharpe: try evaluate(.validation).metrics.sharpe, step: now, patience: 0)
        }
        guard let best = state.bestStep else { return }
        var report = logger.progressReport(step: now, phase: "selecting")
        let sharpe = state.bestSharpe.map { String(format: "%.4f", $0) } ?? "n/a"
        report.notice =
            (evaluatedNow
                ? "run \(run.name): stopped early at step \(now): \(spec.patience) validation evaluations without a "
                    + "better Sharpe; " : "run \(run.name): ")
            + "the policy is the step-\(best) checkpoint (best validation Sharpe \(sharpe))"
        progress(report)
        guard best != now else { return }
        let (directory, _) = try verifiedCheckpoint(run, store: store, step: Int64(best))
        try restore(agent, from: directory)
        try store.setPolicyStep(ofRun: runId, to: Int64(best))
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

    /// The global step training ends at when it starts at `step`: the budget, or more when the agent trains in whole
    /// rollouts (PPO, A2C) and a chunk between two boundaries is not a whole number of them.
    func stepsTrained(from step: Int) -> Int {
        let rollout = config.agent.rolloutSteps
        var s = step
        while s < spec.steps {
            let chunk = nextBoundary(after: s) - s
            s += (chunk + rollout - 1) / rollout * rollout
        }
        return s
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
        let directory = URL(fileURLWithPath: try checkpointRoot(spec.checkpoints, store: store))
            .appendingPathComponent(run.name).appendingPathComponent("step-\(step)")
        var saved = state
        saved.resumedFrom = nil
        saved.logged = try store.loggedRows(runId: runId)
        do {
            try agent.save(to: directory)
            try Data(sortedJSON(saved).utf8).write(
                to: directory.appendingPathComponent(TrainerState.file),
                options: .atomic)
        } catch {
            throw CheckpointError("\(directory.path): cannot write the checkpoint (\(fileSystemReason(error)))")
        }
        // (a file whose name starts with a dot is not the checkpoint's: a temporary file a killed process left)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { !$0.hasPrefix(".") }
        let files = try names.sorted().map { name in
            let file = directory.appendingPathComponent(name).path
            return (file: file, sha256: try sha256Hex(ofFile: file))
        }
        try store.addCheckpoint(runId: runId, globalStep: Int64(step), files: files)
    }

    /// Logs a greedy evaluation of `split` (see `logEvaluation`), to TensorBoard too.
    func evaluate(_ split: Split) throws -> EpisodeSummary {
        let (summary, metrics) = try logEvaluation(agent, setup: setup, split: split, runId: runId, store: store)
        tensorboard?.add(metrics)
        try tensorboard?.flush()
        return summary
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
    /// The environment file, absolute (nil in runs made before it was recorded).
    var environmentFile: String?
    /// An ensemble run: its members' run names (nil for a trained run).
    var ensemble: [String]?

    /// The environment file the run was trained on: as recorded, or (runs that did not record it) the file the
    /// experiment names, in the folder recorded for it.
    var environmentPath: String {
        environmentFile
            ?? URL(
                fileURLWithPath: environmentFolder + "/"
                    + (experiment.environment as NSString).lastPathComponent
            ).standardized.path
    }

    /// The run's environment with its data loaded (or taken from a setup in `loaded` with the same data config), named
    /// after its file in messages; a data file whose SHA-256 is not the one recorded when the run was planned is
    /// refused (evaluating, replaying or resuming on other bars).
    func setup(sharingDataWith loaded: [MarketSetup] = []) throws -> MarketSetup {
        if let recorded = dataSHA256 {
            let file = dataFilePath(environment.data, folder: environmentFolder)
            let now = try? sha256Hex(ofFile: file)
            guard now == recorded else {
                throw ConfigError(
                    "\(file): the data file is not the one the run was trained on (SHA-256 \(recorded.prefix(12))… "
                        + "recorded, \(now.map { $0.prefix(12) + "…" } ?? "unreadable") now); restore it to use the run"
                )
            }
        }
        return try MarketSetup(
            spec: environment, folder: environmentFolder, path: environmentPath, sharingDataWith: loaded)
    }

    func json() throws -> String { try sortedJSON(self) }

    /// A run's stored configuration, every key added by a later version filled with its default, so runs stored by
    /// earlier versions stay readable.
    static func stored(_ json: String) throws -> ResolvedConfig {
        guard case .mapping(var m)? = try Yams.compose(yaml: json) else {
            throw ConfigError("the stored configuration is not a JSON object")
        }
        func fill<C: Config>(_ key: String, _ type: C.Type) throws {
            m[Node(key)] = StrictYAML.filling(
                m[Node(key)] ?? .mapping(.init([])), with: try StrictYAML.defaultsNode(C.self))
        }
        try fill("experiment", ExperimentSpec.self)
        try fill("environment", EnvironmentSpec.self)
        switch m[Node("agent")]?.mapping?[Node("algo")]?.string.flatMap(Algorithm.init(rawValue:)) {
        case .dqn: try fill("agent", DQNConfig.self)
        case .reinforce: try fill("agent", ReinforceConfig.self)
        case .a2c: try fill("agent", A2CConfig.self)
        case .ppo: try fill("agent", PPOConfig.self)
        case nil: break
        }
        return try YAMLDecoder().decode(ResolvedConfig.self, from: .mapping(m))
    }

    /// What the run traded: its data file's SHA-256 (hashed now from the path the config names when the run did not
    /// record it) with the tickers chosen from it; nil when that file cannot be read. Runs with equal fingerprints
    /// traded the same bars of the same data.
    func dataFingerprint() -> String? {
        guard
            let sha = dataSHA256 ?? (try? sha256Hex(ofFile: dataFilePath(environment.data, folder: environmentFolder)))
        else { return nil }
        return sha + " " + environment.data.tickers.joined(separator: ",")
    }
}

/// The folder that holds the runs' checkpoint folders: `configured` (relative to the working directory), or
/// `checkpoints/` beside the store file when it is empty. A PostgreSQL store has no folder, so it needs one configured.
func checkpointRoot(_ configured: String, store: RunStore) throws -> String {
    try checkpointRoot(configured, storeFolder: store.folder, store: store.path)
}

/// `checkpointRoot` for a store whose folder is `storeFolder` (`RunStore.folder(of:)`: absolute, nil for PostgreSQL),
/// shown as `store` (without its password) in the error.
public func checkpointRoot(_ configured: String, storeFolder: String?, store: String) throws -> String {
    guard configured.isEmpty else { return absolutePath(configured) }
    guard let folder = storeFolder else {
        throw ConfigError(
            "\(store): a PostgreSQL store has no folder for checkpoints; "
                + "name one with --checkpoints or the experiment's checkpoints key")
    }
    return folder + "/checkpoints"
}

/// Creates the folders the runs of `experiment` on the store at `location` write into, before any run row exists: the
/// checkpoint root (`checkpointRoot`) and the TensorBoard folder, when one is named. Errors name the experiment's key
/// (the folders of command-line options are made when the options are checked, naming the option).
public func createRunFolders(_ experiment: Experiment, store location: String) throws {
    let file = experiment.path.isEmpty ? "" : "\(experiment.path): "
    let spec = experiment.spec
    let root = try checkpointRoot(
        spec.checkpoints, storeFolder: RunStore.folder(of: location), store: RunStore.shown(location))
    try createFolder(root, label: spec.checkpoints.isEmpty ? "checkpoints" : file + "key 'checkpoints'")
    if !spec.tensorboard.isEmpty { try createFolder(spec.tensorboard, label: file + "key 'tensorboard'") }
}

/// The folder of a file path (`.` for a bare name).
func folderOf(_ path: String) -> String {
    let folder = (path as NSString).deletingLastPathComponent
    return folder.isEmpty ? "." : folder
}

/// `path` made absolute against the working directory.
public func absolutePath(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}

/// `path` as outputs show it: with `.` and `..` resolved, and relative to the current folder when it lies inside it
/// (`environments/sp500-daily.yaml` where the command runs in the repository, not
/// `experiments/../environments/sp500-daily.yaml`).
public func displayPath(_ path: String) -> String {
    let full = URL(fileURLWithPath: absolutePath(path)).standardized.path
    let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardized.path + "/"
    return full.hasPrefix(here) ? String(full.dropFirst(here.count)) : full
}

extension AgentConfig {
    /// The environment steps an agent trains in at a time: a whole rollout of every environment (PPO, A2C), else 1.
    var rolloutSteps: Int {
        switch self {
        case .ppo(let c): c.numEnvs * c.nSteps
        case .a2c(let c): c.numEnvs * c.nSteps
        case .dqn, .reinforce: 1
        }
    }
}
