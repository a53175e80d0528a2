import Foundation
import MarketData
import RLCore
import SyntheticMarkets

@testable import Agents
@testable import TradingEnv

/// A single-asset panel from closes; each bar opens at the previous close (no gaps), high/low bracket by 0.5%.
func panel(closes: [Double], start: Int64 = 946_684_800) -> Panel {
    let open = [closes[0]] + closes.dropLast()
    return Panel(
        source: "agents-test", tickers: ["X"], timestamps: (0..<closes.count).map { start + Int64($0) * 86_400 },
        open: open, high: zip(open, closes).map { max($0, $1) * 1.005 },
        low: zip(open, closes).map { min($0, $1) * 0.995 }, close: closes,
        volume: [Double](repeating: 1_000, count: closes.count), observed: [Bool](repeating: true, count: closes.count))
}

/// Causal features, F = 2: the bar's log return ×50 and a constant 1 (a bias feature). Shape (D, 2).
func features(_ p: Panel) -> [Float] {
    var f = [Float](repeating: 0, count: p.barCount * 2)
    for t in 0..<p.barCount {
        f[2 * t] = t == 0 ? 0 : Float(50 * log(p.close[t] / p.close[t - 1]))
        f[2 * t + 1] = 1
    }
    return f
}

/// A deterministic sine market: close_t = 100·exp(amplitude·sin(2πt/period)).
func sinePanel(bars: Int, period: Double = 12, amplitude: Double = 0.05) -> Panel {
    panel(closes: (0..<bars).map { 100 * exp(amplitude * sin(2 * Double.pi * Double($0) / period)) })
}

/// A market environment on `bars` of `p`: window T, short/flat/long, small costs, log-return reward.
func marketEnv(
    _ p: Panel, bars: Range<Int>, window: Int, randomEpisodes length: Int = 0, costBps: Double = 1,
    configure: (inout MarketConfig) -> Void = { _ in }
) throws -> MarketEnv {
    var c = MarketConfig()
    c.window = window
    c.initialCash = 1_000
    c.costs = CostModel(commissionBps: costBps)
    if length > 0 { c.episode.mode = .random; c.episode.length = length }
    configure(&c)
    return try MarketEnv(panel: p, features: features(p), width: 2, bars: bars, config: c)
}

/// A long-only weights market on 80 bars of a three-asset synthetic panel (A = 3, P = 3 extras), window 4, features
/// the assets' log returns; episodes of `length` bars from random starts (0: the default episodes).
func weightsMarket(randomEpisodes length: Int = 0) throws -> MarketEnv {
    let p = syntheticPanel(assets: 3, bars: 80)
    var f = [Float](repeating: 0, count: 80 * 3)
    for t in 1..<80 { for i in 0..<3 { f[t * 3 + i] = Float(log(p.close[t * 3 + i] / p.close[(t - 1) * 3 + i])) } }
    var mc = MarketConfig()
    mc.window = 4; mc.actions.kind = .weights; mc.actions.longOnly = true
    if length > 0 { mc.episode.mode = .random; mc.episode.length = length }
    return try MarketEnv(panel: p, features: f, width: 3, bars: 0..<80, config: mc)
}

/// The best possible return of a whole episode over the K discrete actions, by dynamic programming (Viterbi) over the
/// previous action: with fractional shares and proportional costs the growth of a step depends only on the previous
/// and current target, not on the equity, so keeping the best path per last action is exact. Environments are
/// values, so each path is a copy of the environment.
func optimalReturn<Env: AgentEnvironment>(_ env: Env, seed: UInt64 = 0) -> Double {
    var start = env
    _ = start.reset(seed: seed)
    let K = env.discreteActionCount
    var paths: [(env: Env, total: Double)] = []
    var done = false
    // first step from the reset state
    for a in 0..<K {
        var e = start
        let s = e.step(e.action(index: a))
        paths.append((e, s.reward))
        done = s.done
    }
    while !done {
        var next: [(env: Env, total: Double)] = []
        var anyDone = false
        for a in 0..<K {
            var best: (env: Env, total: Double)? = nil
            for p in paths {
                var e = p.env
                let s = e.step(e.action(index: a))
                anyDone = anyDone || s.done
                if best == nil || p.total + s.reward > best!.total { best = (e, p.total + s.reward) }
            }
            next.append(best!)
        }
        paths = next
        done = anyDone
    }
    return paths.map(\.total).max()!
}

/// The return of the agent's deterministic policy over one whole episode.
func evaluate<Env: AgentEnvironment>(_ agent: any Agent, _ env: Env, seed: UInt64 = 0) -> Double {
    var e = env
    var o = e.reset(seed: seed)
    var total = 0.0
    while true {
        let s = e.step(e.action(for: agent.act(o, deterministic: true)))
        total += s.reward
        o = s.observation
        if s.done { return total }
    }
}

/// A tiny environment with a known horizon: features (D,1) = bar index / D, one extra (the step count / 10), reward
/// 1 per step; the episode ends after `length` steps, as a termination when `terminates`, else a truncation.
struct CountdownEnv: AgentEnvironment {
    struct Obs: WindowObservation {
        var features: [Float]; var bar: Int; var window: Int; var width: Int; var extras: [Double]
    }
    let features: [Float]
    let window: Int
    let length: Int
    let terminates: Bool
    var bar = 0
    var count = 0
    var actionSpace: Discrete { Discrete(2) }
    var discreteActionCount: Int { 2 }
    var continuousActionCount: Int { 1 }
    func action(index k: Int) -> Int { k }
    func action(continuous values: [Double]) -> Int { values[0] > 0 ? 1 : 0 }

    init(bars: Int = 64, window: Int = 3, length: Int = 5, terminates: Bool) {
        features = (0..<bars).map { Float($0) / Float(bars) }
        self.window = window; self.length = length; self.terminates = terminates
    }

    func observation() -> Obs {
        Obs(features: features, bar: bar, window: window, width: 1, extras: [Double(count) / 10])
    }

    mutating func reset(seed: UInt64?) -> Obs {
        bar = window - 1 + Int(seed ?? 0) % 4
        count = 0
        return observation()
    }

    mutating func step(_ action: Int) -> Step<Obs, Int> {
        bar += 1; count += 1
        let end = count >= length
        return Step(
            observation: observation(), reward: 1, terminated: end && terminates, truncated: end && !terminates,
            info: bar)
    }
}

/// A small encoder for fast tests.
let tinyEncoder = EncoderConfig(embedding: 8, hidden: 8, layers: 1)

/// Whether the slow learning tests run (`TRADESIM_SLOW=1`, meant for a release build).
let slowTests = ProcessInfo.processInfo.environment["TRADESIM_SLOW"] != nil
