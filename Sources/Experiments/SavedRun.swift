import Agents
import Foundation
import MarketData
import RunStore
import TradingEnv

/// A run's latest checkpoint, verified: its configuration decoded from the run row, its data loaded, and every file of
/// the checkpoint checked against the SHA-256 recorded in the store.
public struct SavedRun {
    public let run: RunRecord
    let config: ResolvedConfig
    public let setup: MarketSetup
    /// The checkpoint folder and the training step it was written at.
    public let directory: String
    public let step: Int64

    /// - Parameter step: the checkpoint written at this training step (nil: the run's policy, i.e. its selected
    ///   checkpoint or else the latest).
    public init(_ run: RunRecord, store: RunStore, step wanted: Int64? = nil) throws {
        self.run = run
        guard run.agent != pretrainRunKind else {
            throw RunStateError(
                "\(store.path): run \(run.name) is a pretrain run: no policy to evaluate or resume "
                    + "(agents start from it with encoder.from)")
        }
        config = try storedConfig(of: run, store: store)
        if let names = config.ensemble {
            // An ensemble has no checkpoint of its own: its members' policies, each verified.
            members = try names.map { try SavedRun(try store.run(reference: $0), store: store) }
            (directory, step) = (members[0].directory, members.map(\.step).max()!)
        } else {
            members = []
            (directory, step) = try verifiedCheckpoint(run, store: store, step: wanted ?? run.policyStep)
        }
        setup = try config.setup()
    }

    /// An ensemble run's members (empty for other runs).
    let members: [SavedRun]

    /// The run's agent with the checkpoint's weights and state (an ensemble: its members' averaged greedy policy).
    public func agent() throws -> any Agent {
        if !members.isEmpty { return try EnsembleAgent(members: try members.map { try $0.agent() }) }
        let env = try setup.environment(.train, seed: UInt64(config.seed))
        // A config stored before one of its values was bounded is one error line, not a failed allocation.
        try checkAgent(config.agent, of: "run \(run.name)", fits: env, of: setup.path)
        let agent = makeAgent(config.agent, spec: AgentSpec(of: env), seed: UInt64(config.seed))
        try restore(agent, from: directory)
        return agent
    }
}

/// The agent name of ensemble runs in the run store (`run.agent`).
public let ensembleRunKind = "ensemble"

/// Makes an ensemble of stored runs (the seeds of one configuration, typically) a run of its own: a policy that
/// averages the members' Q-values (DQN) or action probabilities and means (policy gradient) and acts greedily
/// (`EnsembleAgent`). The run's configuration is its first member's with the members' names, so evaluate, compare
/// and replay load it like any run (each member's checkpoint verified); it is evaluated on the members' `evaluateOn`
/// splits now, with every step logged, and marked finished. The members must share the environment and data.
public func createEnsemble(of references: [String], store: RunStore) throws -> RunRecord {
    let runs = try references.map { try store.run(reference: $0) }
    guard !runs.isEmpty else { throw ConfigError("ensemble: no runs given") }
    let saved = try runs.map { try SavedRun($0, store: store) }
    let base = saved[0].config
    for s in saved.dropFirst()
    where try sortedJSON(s.config.environment) != (try sortedJSON(base.environment))
        || s.config.dataSHA256 != base.dataSHA256
    {
        throw ConfigError("ensemble: run \(s.run.name) trades other data or another environment than \(runs[0].name)")
    }
    do { _ = try EnsembleAgent(members: try saved.map { try $0.agent() }) } catch let error as EnsembleError {
        throw ConfigError("ensemble of \(runs.map(\.name).joined(separator: ", ")): \(error)")
    }
    var config = base
    config.ensemble = runs.map(\.name)
    config.seed = 0
    let json = try config.json()
    let run = try store.createRun(
        experiment: runs[0].experiment, agent: ensembleRunKind, seed: 0,
        experimentYAML: runs[0].experimentYAML, configJSON: json, configHash: fnv1aHex(json),
        codeVersion: tradesimVersion)
    do {
        let ensemble = try SavedRun(run, store: store)
        let agent = try ensemble.agent()
        for split in base.experiment.evaluateOn {
            _ = try logEvaluation(agent, setup: ensemble.setup, split: split, runId: run.id!, store: store)
        }
        try store.finishRun(run.id!)
    } catch {
        try? store.failRun(run.id!, message: "\(error)")
        throw error
    }
    return try store.run(id: run.id!)
}

/// The first ensemble run of `store` outside `runs` that has a member in `runs`, with that member: deleting `runs`
/// alone would leave it unable to load its policy.
public func ensembleLeftWithoutAMember(_ runs: [RunRecord], store: RunStore) throws -> (
    ensemble: RunRecord, member: RunRecord
)? {
    let ids = Set(runs.map(\.id))
    for ensemble in try store.runs() where ensemble.agent == ensembleRunKind && !ids.contains(ensemble.id) {
        let members = try storedConfig(of: ensemble, store: store).ensemble ?? []
        if let member = runs.first(where: { members.contains($0.name) }) { return (ensemble, member) }
    }
    return nil
}

/// The configuration a run was stored with (`run.configJSON`), keys added since filled with their defaults.
func storedConfig(of run: RunRecord, store: RunStore) throws -> ResolvedConfig {
    do {
        return try ResolvedConfig.stored(run.configJSON)
    } catch {
        throw RunStateError("\(store.path): run \(run.name): its stored configuration cannot be read (\(error))")
    }
}

/// The files a stored run is evaluated on, or depends on: its environment file and its data and side series files,
/// as its configuration names them (none for a pretrain run, which has no policy to evaluate).
public func inputFiles(of run: RunRecord, store: RunStore) throws -> [String] {
    guard run.agent != pretrainRunKind else { return [] }
    let config = try storedConfig(of: run, store: store)
    return [config.environmentPath] + config.environment.dataFiles(folder: config.environmentFolder)
}

/// Loads a checkpoint folder into `agent`.
func restore(_ agent: any Agent, from directory: String) throws {
    do { try agent.load(from: URL(fileURLWithPath: directory)) } catch {
        throw CheckpointError("\(directory): cannot restore the agent (\(error))")
    }
}

/// Loads only the network weights of a checkpoint folder into `agent` (every network of it, so a DQN's target starts
/// equal to its online network, as in a fresh agent); its optimizer, RNG and counters start fresh.
func restoreWeights(_ agent: any Agent, from directory: String) throws {
    let file = URL(fileURLWithPath: directory).appendingPathComponent("network.safetensors")
    do { for network in agent.networks { try network.load(from: file) } } catch {
        throw CheckpointError("\(file.path): cannot load the weights (\(error))")
    }
}

/// The folder and step of `run`'s checkpoint written at training step `wanted` (nil: the latest), after checking every
/// file of it against its recorded SHA-256.
func verifiedCheckpoint(_ run: RunRecord, store: RunStore, step wanted: Int64? = nil) throws
    -> (directory: String, step: Int64)
{
    let runId = run.id!
    guard var chosen = try store.latestCheckpoint(runId: runId) else {
        throw RunStateError("\(store.path): run \(run.name) has no checkpoint")
    }
    let all = try store.checkpoints(runId: runId)
    if let wanted, wanted != chosen.globalStep {
        guard let found = all.last(where: { $0.globalStep == wanted }) else {
            let steps = Array(Set(all.map(\.globalStep))).sorted().map(String.init).joined(separator: ", ")
            throw RunStateError(
                "\(store.path): run \(run.name) has no checkpoint at step \(wanted) (checkpoints at steps \(steps))")
        }
        chosen = found
    }
    for f in all where f.globalStep == chosen.globalStep {
        let actual: String
        do { actual = try sha256Hex(ofFile: f.file) } catch {
            throw CheckpointError("\(f.file): checkpoint file of run \(run.name) is missing or unreadable")
        }
        guard actual == f.sha256 else {
            throw CheckpointError(
                "\(f.file): checksum mismatch (recorded \(f.sha256.prefix(12))…, file \(actual.prefix(12))…): "
                    + "the checkpoint is corrupt")
        }
    }
    return ((chosen.file as NSString).deletingLastPathComponent, chosen.globalStep)
}

/// `tradesim evaluate`: the run's saved greedy policy over a whole split, every step logged as an episode of that split
/// with `eval/{split}/…` metrics at the checkpoint's step. Returns the summary.
public func evaluateRun(_ reference: String, split: Split, store: RunStore) throws
    -> (saved: SavedRun, summary: EpisodeSummary)
{
    let saved = try SavedRun(try store.run(reference: reference), store: store)
    let agent = try saved.agent()
    let summary = try logEvaluation(agent, setup: saved.setup, split: split, runId: saved.run.id!, store: store).summary
    return (saved, summary)
}

/// Runs the greedy policy over a whole split with every step logged; writes the episode, numbered after the split's
/// earlier episodes, and its `eval/{split}/…` metrics at the agent's current step. Returns both.
func logEvaluation(_ agent: any Agent, setup: MarketSetup, split: Split, runId: Int64, store: RunStore) throws
    -> (summary: EpisodeSummary, metrics: [MetricRecord])
{
    let episodeSplit = EpisodeSplit(rawValue: split.rawValue)!
    let index = try store.episodes(runId: runId, split: episodeSplit).count
    let log = try evaluateAgent(agent, setup: setup, split: split)
    let s = log.summary
    let step = Int64(agent.stepsDone)
    let values: [(String, Double?)] = [
        ("sharpe", s.metrics.sharpe), ("totalReturn", s.metrics.totalReturn), ("annualReturn", s.metrics.annualReturn),
        ("maxDrawdown", s.metrics.maxDrawdown), ("psr", s.metrics.psr), ("finalEquity", s.finalEquity),
        ("turnover", s.turnover), ("exposure", s.exposure), ("costs", s.costs),
    ]
    let wall = Date().timeIntervalSince1970
    let metrics = values.compactMap { key, value in
        value.map {
            MetricRecord(
                runId: runId, globalStep: step, key: "eval/\(split.rawValue)/\(key)", value: $0, wallTime: wall)
        }
    }
    _ = try store.writeEpisode(
        log.record(runId: runId, split: episodeSplit, index: index, globalStep: Int(step)),
        steps: log.steps, trades: log.trades, metrics: metrics)
    return (s, metrics)
}
