import Foundation
import MarketData
import RLCore

/// Result of `benchmarkEnv`, printed as one JSON line by `tradesim bench env`.
public struct EnvBenchResult: Codable, Sendable {
    public var assets: Int
    public var window: Int
    public var steps: Int
    public var episodes: Int
    public var seconds: Double
    public var stepsPerSecond: Double
}

/// Env stepping throughput on gym-anytrading `stocks-v0`'s workload: window T, two features per asset (close and its
/// change, as `stocks-v0`), random discrete actions drawn before the clock starts, whole-split episodes with the resets
/// inside the timed loop. Costs as a realistic default (commission and spread) so fills do real work.
///
/// - Parameter panel: the bars to replay (N assets × D).
public func benchmarkEnv(panel: Panel, window: Int, steps: Int, seed: UInt64 = 0) throws -> EnvBenchResult {
    let n = panel.assetCount, d = panel.barCount
    var features = [Float](repeating: 0, count: d * 2 * n)
    for t in 0..<d {
        for i in 0..<n {
            let c = panel.close[t * n + i]
            features[t * 2 * n + 2 * i] = Float(c)
            features[t * 2 * n + 2 * i + 1] = t == 0 ? 0 : Float(c - panel.close[(t - 1) * n + i])
        }
    }
    var config = MarketConfig()
    config.window = window
    config.costs = CostModel(commissionBps: 1, halfSpreadBps: 1)
    var env = try MarketEnv(panel: panel, features: features, width: 2 * n, bars: 0..<d, config: config, seed: seed)
    var rng = Xoshiro256(seed: seed)
    let pool = 1 << 12
    let actions: [TradingAction] = (0..<pool).map { _ in env.actionSpace.sample(using: &rng) }

    var episodes = 1
    var checksum = 0.0
    _ = env.reset(seed: seed)
    let start = DispatchTime.now().uptimeNanoseconds
    for k in 0..<steps {
        let s = env.step(actions[k & (pool - 1)])
        checksum += s.reward
        if s.done {
            _ = env.reset(seed: nil)
            episodes += 1
        }
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    precondition(checksum.isFinite, "benchmark rewards must stay finite")
    return EnvBenchResult(assets: n, window: window, steps: steps, episodes: episodes, seconds: seconds,
                          stepsPerSecond: Double(steps) / seconds)
}

/// A seeded synthetic panel (geometric random walks with gaps, realistic ranges), for benchmarks that need more assets
/// or bars than the committed data has. Shapes: N assets × D bars, daily timestamps from 2000-01-03.
public func syntheticPanel(assets n: Int, bars d: Int, seed: UInt64 = 1) -> Panel {
    var rng = Xoshiro256(seed: seed)
    var open = [Double](repeating: 0, count: n * d), high = open, low = open, close = open
    var last = [Double](repeating: 100, count: n)
    for t in 0..<d {
        for i in 0..<n {
            let o = last[i] * exp(0.002 * standardNormal(using: &rng))
            let c = o * exp(0.01 * standardNormal(using: &rng))
            let k = t * n + i
            open[k] = o; close[k] = c
            high[k] = max(o, c) * (1 + 0.005 * abs(standardNormal(using: &rng)))
            low[k] = min(o, c) * (1 - 0.005 * abs(standardNormal(using: &rng)))
            last[i] = c
        }
    }
    return Panel(source: "synthetic(\(n)×\(d), seed \(seed))", tickers: (0..<n).map { "S\($0)" },
                 timestamps: (0..<d).map { 946_857_600 + Int64($0) * 86_400 },
                 open: open, high: high, low: low, close: close,
                 volume: [Double](repeating: 1e6, count: n * d), observed: [Bool](repeating: true, count: n * d))
}
