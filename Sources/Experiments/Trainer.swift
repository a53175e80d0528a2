import Agents
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
/// `evaluateEvery` steps and a full evaluation of each `evaluateOn` split at the end (every step logged). A failure marks
/// the run `failed` with its message and is rethrown; what was committed before stays.
public func runExperiment(_ experiment: Experiment, store storePath: String? = nil,
                          progress: (TrainingProgress) -> Void = { _ in }) throws -> [RunOutcome] {
    let setup = try MarketSetup(path: experiment.environmentPath, overrides: experiment.environmentOverrides)
    let agentConfig = try AgentFile.load(experiment.agentPath, overrides: experiment.agentOverrides)
    let store = try RunStore(path: storePath ?? experiment.spec.store)
    return try experiment.spec.seeds.map { seed in
        try trainOneSeed(experiment, seed: seed, setup: setup, agentConfig: agentConfig, store: store, progress: progress)
    }
}

func trainOneSeed(_ experiment: Experiment, seed: Int, setup: MarketSetup, agentConfig: AgentConfig, store: RunStore,
                  progress: (TrainingProgress) -> Void) throws -> RunOutcome {
    let spec = experiment.spec
    let trainEnv = try setup.environment(.train, seed: UInt64(seed))
    let resolved = ResolvedConfig(experiment: spec, environment: setup.spec, agent: agentConfig)
    let json = try resolved.json()
    let run = try store.createRun(experiment: experiment.name, agent: experiment.agentName, seed: Int64(seed),
                                  experimentYAML: experiment.yaml, configJSON: json, configHash: fnv1aHex(json),
                                  codeVersion: tradesimVersion)
    let runId = run.id!
    do {
        let agent = makeAgent(agentConfig, spec: AgentSpec(of: trainEnv), seed: UInt64(seed))
        var episodeIndex = 0
        var lastReturn: Double?, lastLoss: Double?
        var pendingMetrics: [MetricRecord] = []
        let start = Date()
        let chunk = spec.evaluateEvery > 0 ? spec.evaluateEvery : spec.steps
        var chunkIndex = 0
        while agent.stepsDone < spec.steps {
            let n = min(chunk, spec.steps - agent.stepsDone)
            var failure: (any Error)?
            agent.train(env: trainEnv, steps: n, seed: UInt64(seed) &* 1_000_003 &+ UInt64(chunkIndex)) { event in
                guard failure == nil else { return }
                do {
                    switch event {
                    case .episode(let e):
                        lastReturn = e.episodeReturn
                        let first = trainEnv.timestamp(ofBar: max(e.info.bar - e.length, 0))
                        let record = EpisodeRecord(runId: runId, split: .train, index: Int64(episodeIndex),
                                                   firstTimestamp: first, lastTimestamp: e.info.timestamp,
                                                   steps: Int64(e.length), totalReward: e.episodeReturn,
                                                   finalEquity: e.info.equity, costs: 0, globalStep: Int64(e.step),
                                                   actionsHash: "")
                        let metrics = [MetricRecord(runId: runId, globalStep: Int64(e.step), key: "charts/episodicReturn",
                                                    value: e.episodeReturn, wallTime: Date().timeIntervalSince(start)),
                                       MetricRecord(runId: runId, globalStep: Int64(e.step), key: "charts/episodicLength",
                                                    value: Double(e.length), wallTime: Date().timeIntervalSince(start))]
                        _ = try store.writeEpisode(record, steps: [], metrics: pendingMetrics + metrics)
                        pendingMetrics.removeAll()
                        episodeIndex += 1
                    case .update(let step, let metrics):
                        let wall = Date().timeIntervalSince(start)
                        for (key, value) in metrics.sorted(by: { $0.key < $1.key }) {
                            pendingMetrics.append(MetricRecord(runId: runId, globalStep: Int64(step), key: key, value: value, wallTime: wall))
                        }
                        lastLoss = metrics["losses/td"] ?? metrics["losses/policy"] ?? lastLoss
                        let sps = Double(step) / max(Date().timeIntervalSince(start), 1e-9)
                        progress(TrainingProgress(run: run.name, step: step, total: spec.steps, stepsPerSecond: sps,
                                                  lastEpisodeReturn: lastReturn, loss: lastLoss))
                    }
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
            chunkIndex += 1
            pendingMetrics.append(MetricRecord(runId: runId, globalStep: Int64(agent.stepsDone), key: "charts/globalStep",
                                               value: Double(agent.stepsDone), wallTime: Date().timeIntervalSince(start)))
            try store.appendMetrics(pendingMetrics)
            pendingMetrics.removeAll()
            if spec.evaluateEvery > 0 && agent.stepsDone < spec.steps {
                _ = try evaluateAndLog(agent, setup: setup, split: .validation, runId: runId, index: chunkIndex, store: store)
            }
        }
        var evaluations: [(Split, EpisodeSummary)] = []
        for (k, split) in spec.evaluateOn.enumerated() {
            let summary = try evaluateAndLog(agent, setup: setup, split: split, runId: runId, index: chunkIndex + k, store: store)
            evaluations.append((split, summary))
        }
        try store.finishRun(runId)
        return RunOutcome(run: try store.run(id: runId), evaluations: evaluations)
    } catch {
        try? store.failRun(runId, message: "\(error)")
        throw error
    }
}

/// Runs the agent's greedy policy over a whole split with every step logged, writes the episode and its
/// `eval/{split}/…` metrics at the agent's current step, and returns the summary.
func evaluateAndLog(_ agent: any Agent, setup: MarketSetup, split: Split, runId: Int64, index: Int, store: RunStore) throws -> EpisodeSummary {
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

/// The agent's greedy (deterministic) policy over a whole split, every step kept.
public func evaluateAgent(_ agent: any Agent, setup: MarketSetup, split: Split, seed: UInt64 = 0,
                          configure: (inout MarketConfig) -> Void = { _ in }) throws -> EpisodeLog {
    var env = try setup.environment(split, seed: seed) { market in
        configure(&market)
        market.episode.mode = .whole
    }
    let actions = env
    return runEpisode(&env, seed: seed, keepEvery: 1) { observation in
        let a = agent.act(observation, deterministic: true)
        switch a {
        case .index(let k): return (actions.action(for: a), Double(k))
        case .continuous(let v): return (actions.action(for: a), v.first ?? 0)
        }
    }
}

/// Everything a run was configured with, as stored in `run.configJSON`.
struct ResolvedConfig: Encodable {
    var experiment: ExperimentSpec
    var environment: EnvironmentSpec
    var agent: AgentConfig

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// FNV-1a 64 of a string's UTF-8 bytes, as 16 hex digits (the config hash: equal configs, equal hashes).
func fnv1aHex(_ s: String) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 { h ^= UInt64(b); h = h &* 0x0000_0100_0000_01b3 }
    return String(h, radix: 16).leftPadded(to: 16)
}
