import Foundation
import MarketData
import RLCore
import TradingEnv

/// Result of `benchmarkEnv`, printed as one JSON line by `tradesim bench env`.
public struct EnvBenchResult: Codable, Sendable {
    public var assets: Int
    public var window: Int
    /// B: environments stepped together through `VectorEnv`; 0 when one environment is stepped on its own.
    public var envs: Int
    /// Environment steps (B per `VectorEnv` step).
    public var steps: Int
    public var episodes: Int
    public var seconds: Double
    public var stepsPerSecond: Double
}

/// Env stepping throughput on gym-anytrading `stocks-v0`'s workload: window T, two features per asset (close and its
/// change, as `stocks-v0`), random discrete actions drawn before the clock starts, whole-split episodes with the resets
/// inside the timed loop. Costs as a realistic default (commission and spread) so fills do real work.
///
/// - Parameters:
///   - panel: the bars to replay (N assets × D).
///   - envs: B > 0 steps B copies through `VectorEnv` (what RL training does), `steps` / B times; 0 steps one
///     environment on its own.
public func benchmarkEnv(
    panel: Panel, window: Int, steps: Int, envs B: Int = 0,
    seed: UInt64 = 0
) throws -> EnvBenchResult {
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
    let env = try MarketEnv(panel: panel, features: features, width: 2 * n, bars: 0..<d, config: config, seed: seed)
    var rng = Xoshiro256(seed: seed)
    let pool = 1 << 12
    let actions: [TradingAction] = (0..<pool).map { _ in env.actionSpace.sample(using: &rng) }

    // One asset's discrete actions are built as the step takes them, `.index(k)` as a policy's choice is, rather than
    // copied out of the pool (an enum with array cases, whose copy and destroy are calls).
    let indices = actions.compactMap { a -> Int? in if case .index(let k) = a { k } else { nil } }
    let start = DispatchTime.now().uptimeNanoseconds
    let (taken, episodes, checksum) =
        B > 0
        ? stepVector(env, copies: B, steps: steps, actions: actions, seed: seed)
        : indices.count == pool
            ? indices.withUnsafeBufferPointer { i in
                stepOne(env, steps: steps, seed: seed) { .index(i[$0 & (pool - 1)]) }
            }
            : actions.withUnsafeBufferPointer { a in stepOne(env, steps: steps, seed: seed) { a[$0 & (pool - 1)] } }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    precondition(checksum.isFinite, "benchmark rewards must stay finite")
    return EnvBenchResult(
        assets: n, window: window, envs: B, steps: taken, episodes: episodes, seconds: seconds,
        stepsPerSecond: Double(taken) / seconds)
}

/// `steps` steps of one environment, step k taking `action(k)`, each step written over the one before
/// (`step(_:into:)`, as `runEpisode` steps); returns the steps taken, the episodes begun and the sum of the rewards.
func stepOne(
    _ env: MarketEnv, steps: Int, seed: UInt64, action: (Int) -> TradingAction
) -> (steps: Int, episodes: Int, checksum: Double) {
    precondition(steps > 0, "the benchmark takes at least one step")
    var env = env, episodes = 1, checksum = 0.0
    _ = env.reset(seed: seed)
    var s = env.step(action(0))
    for k in 0..<steps {
        if k > 0 { env.step(action(k), into: &s) }
        checksum += s.reward
        if s.done {
            _ = env.reset(seed: nil)
            episodes += 1
        }
    }
    return (steps, episodes, checksum)
}

/// `steps` / B steps of B copies of `env` through `VectorEnv`'s window columns, each taking the next B actions of
/// `actions` (cut into batches of B before the loop).
func stepVector(
    _ env: MarketEnv, copies B: Int, steps: Int, actions: [TradingAction],
    seed: UInt64
) -> (steps: Int, episodes: Int, checksum: Double) {
    var venv = VectorEnv(Array(repeating: env, count: B))
    venv.resetWindows(seed: seed)
    // Batch j takes actions jB ..< (j + 1)B (mod the pool), which repeat after pool / gcd(B, pool) batches.
    let period = actions.count >> min(B.trailingZeroBitCount, actions.count.trailingZeroBitCount)
    let batches = (0..<period).map { j in (0..<B).map { b in actions[(j * B + b) & (actions.count - 1)] } }
    var episodes = B, checksum = 0.0
    for j in 0..<steps / B {
        venv.stepWindows(batches[j & (batches.count - 1)])
        let (rewards, terminated, truncated) = (venv.rewards, venv.terminated, venv.truncated)
        for b in 0..<B {
            checksum += rewards[b]
            if terminated[b] || truncated[b] { episodes += 1 }
        }
    }
    return (steps / B * B, episodes, checksum)
}
