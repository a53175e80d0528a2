import Agents
import Foundation
import MarketData
import RunStore
import TradingEnv

/// Runs one whole episode of `env` (reset with `seed`) under `policy`, which returns the environment action and the
/// number to log as the action; the log keeps every `keepEvery`-th step (0: none). Each step is written over the one
/// before (`MarketEnv.step(_:into:)`).
public func runEpisode(
    _ env: inout MarketEnv, seed: UInt64, keepEvery: Int,
    policy: (MarketObservation) -> (action: TradingAction, logged: Double)
) -> EpisodeLog {
    var (action, logged) = policy(env.reset(seed: seed))
    var log = EpisodeLog(env: env, keepEvery: keepEvery)
    var step = env.step(action)
    while true {
        log.record(step, action: logged, env: env)
        if step.done { return log }
        (action, logged) = policy(step.observation)
        env.step(action, into: &step)
    }
}

/// The number a baseline's action is logged as: its target weight of asset 0 (a hold: the weight it holds).
func loggedValue(_ action: TradingAction, at observation: MarketObservation) -> Double {
    switch action {
    case .index(let k): Double(k)
    case .indices(let ks): Double(ks.first ?? 0)
    case .weights(let w): w.first ?? 0
    case .hold: observation.weights.first ?? 0
    }
}

/// Evaluates a baseline over one split, as a whole-split episode with full step logging.
public func evaluateBaseline(
    _ kind: Baseline, setup: MarketSetup, split: Split, config: BaselineConfig = BaselineConfig(),
    seed: UInt64 = 0, configure: (inout MarketConfig) -> Void = { _ in }
) throws -> EpisodeLog {
    let env = try setup.environment(split, seed: seed) { market in
        configure(&market)
        market.episode.mode = .whole
    }
    return evaluateBaseline(kind, env: env, config: config, seed: seed, train: setup.bars(of: .train))
}

/// A baseline over one whole episode of `env` (built with `episode.mode = .whole`), every step kept; `train` is the
/// window the minimum-variance baseline fits its covariance on.
public func evaluateBaseline(
    _ kind: Baseline, env: MarketEnv, config: BaselineConfig = BaselineConfig(), seed: UInt64 = 0,
    train: Range<Int>? = nil
) -> EpisodeLog {
    var env = env
    var policy = BaselinePolicy(kind, env: env, config: config, seed: seed, train: train)
    return runEpisode(&env, seed: seed, keepEvery: 1) { observation in
        let action = policy.action(for: observation)
        return (action, loggedValue(action, at: observation))
    }
}

/// The agent's greedy (deterministic) policy over a whole split, every step kept.
public func evaluateAgent(
    _ agent: any Agent, setup: MarketSetup, split: Split, seed: UInt64 = 0,
    configure: (inout MarketConfig) -> Void = { _ in }
) throws -> EpisodeLog {
    let env = try setup.environment(split, seed: seed) { market in
        configure(&market)
        market.episode.mode = .whole
    }
    return evaluateAgent(agent, env: env, seed: seed)
}

/// The agent's greedy policy over one whole episode of `env` (built with `episode.mode = .whole`), every step kept.
public func evaluateAgent(_ agent: any Agent, env: MarketEnv, seed: UInt64 = 0) -> EpisodeLog {
    var env = env
    let actions = env
    return runEpisode(&env, seed: seed, keepEvery: 1) { observation in
        let a = agent.act(observation, deterministic: true)
        return (actions.action(for: a), a.number)
    }
}
