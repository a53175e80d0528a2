import Foundation
import MarketData
import RLCore
import TradingEnv

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
