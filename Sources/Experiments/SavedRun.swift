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

    /// - Parameter step: the checkpoint written at this training step (nil: the latest).
    public init(_ run: RunRecord, store: RunStore, step wanted: Int64? = nil) throws {
        self.run = run
        guard run.agent != pretrainRunKind else {
            throw RunStateError(
                "\(store.path): run \(run.name) is a pretrain run: no policy to evaluate or resume "
                    + "(agents start from it with encoder.from)")
        }
        config = try storedConfig(ResolvedConfig.self, of: run, store: store)
        (directory, step) = try verifiedCheckpoint(run, store: store, step: wanted)
        setup = try MarketSetup(spec: config.environment, folder: config.environmentFolder,
                                path: config.environmentFile)
    }

    /// The run's agent with the checkpoint's weights and state.
    public func agent() throws -> any Agent {
        let env = try setup.environment(.train, seed: UInt64(config.seed))
        let agent = makeAgent(config.agent, spec: AgentSpec(of: env), seed: UInt64(config.seed))
        try restore(agent, from: directory)
        return agent
    }
}

extension ResolvedConfig {
    /// The environment file the run was trained on: the file the experiment names, in the folder recorded for it.
    var environmentFile: String {
        let name = (experiment.environment as NSString).lastPathComponent
        return URL(fileURLWithPath: environmentFolder + "/" + name).standardized.path
    }
}

/// The configuration a run was stored with (`run.configJSON`), decoded as `T`.
func storedConfig<T: Decodable>(_ type: T.Type, of run: RunRecord, store: RunStore) throws -> T {
    do {
        return try JSONDecoder().decode(T.self, from: Data(run.configJSON.utf8))
    } catch {
        throw RunStateError("\(store.path): run \(run.name): its stored configuration cannot be read (\(error))")
    }
}

/// Loads a checkpoint folder into `agent`.
func restore(_ agent: any Agent, from directory: String) throws {
    do { try agent.load(from: URL(fileURLWithPath: directory)) } catch {
        throw CheckpointError("\(directory): cannot restore the agent (\(error))")
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
    let summary = try logEvaluation(agent, setup: saved.setup, split: split, runId: saved.run.id!, store: store)
    return (saved, summary)
}

/// Runs the greedy policy over a whole split with every step logged; writes the episode, numbered after the split's
/// earlier episodes, and its `eval/{split}/…` metrics at the agent's current step.
func logEvaluation(_ agent: any Agent, setup: MarketSetup, split: Split, runId: Int64, store: RunStore) throws
    -> EpisodeSummary
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
    let metrics = values.compactMap { key, value in
        value.map { MetricRecord(runId: runId, globalStep: step, key: "eval/\(split.rawValue)/\(key)", value: $0) }
    }
    _ = try store.writeEpisode(log.record(runId: runId, split: episodeSplit, index: index, globalStep: Int(step)),
                               steps: log.steps, trades: log.trades, metrics: metrics)
    return s
}
