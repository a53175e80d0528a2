import Foundation
import RLCore

/// The result of `checkEnvironment`: what was run and every contract violation found (empty = the environment passes).
public struct EnvCheckReport: Sendable, Equatable {
    public var episodes = 0
    public var steps = 0
    public var problems: [String] = []
    public var passed: Bool { problems.isEmpty }
}

/// Checks the Gymnasium contract and the accounting of a market environment with seeded random actions:
/// seeded resets give equal observations and equal step sequences; observations are finite, the right shape and never
/// past their bar; actions sampled from the space are in it; equity = cash + Σ sharesᵢ·closeᵢ after every step; under
/// the log-return reward Σ rewards = log(final / initial equity); episodes end by `terminated` or `truncated` and
/// reset.
public func checkEnvironment(_ prototype: MarketEnv, seed: UInt64 = 0, episodes: Int = 2, maxSteps: Int = 2_000)
    -> EnvCheckReport
{
    var report = EnvCheckReport()
    func fail(_ s: String) { if report.problems.count < 20 { report.problems.append(s) } }

    var a = prototype, b = prototype
    let oa = a.reset(seed: seed), ob = b.reset(seed: seed)
    if oa != ob { fail("reset(seed: \(seed)) twice gave different observations") }

    var rng = Xoshiro256(seed: seed ^ 0x5EED)
    for episode in 0..<episodes {
        var obs = episode == 0 ? oa : a.reset(seed: seed &+ UInt64(episode))
        if episode > 0 { _ = b.reset(seed: seed &+ UInt64(episode)) }
        report.episodes += 1
        let initial = a.equity
        var sumReward = 0.0
        for _ in 0..<maxSteps {
            checkObservation(obs, env: a, fail: fail)
            let action = a.actionSpace.sample(using: &rng)
            if !a.actionSpace.contains(action) { fail("sampled action \(action) is not in the action space") }
            let s = a.step(action), t = b.step(action)
            report.steps += 1
            if s.observation != t.observation || s.reward != t.reward || s.info != t.info
                || s.terminated != t.terminated || s.truncated != t.truncated
            {
                fail("step \(report.steps): same seed and actions gave different steps")
            }
            if !s.reward.isFinite { fail("step \(report.steps): reward \(s.reward) is not finite") }
            var marked = a.cash
            for i in 0..<a.assetCount { marked += a.shares[i] * a.closePrice(bar: a.bar, asset: i) }
            if abs(marked - s.info.equity) > 1e-9 * max(1, abs(s.info.equity)) {
                fail("step \(report.steps): equity \(s.info.equity) ≠ cash + Σ shares·close = \(marked)")
            }
            sumReward += s.reward
            obs = s.observation
            if s.done {
                if prototype.config.reward.kind == .logReturn && s.info.equity > 0 {
                    let expected = log(s.info.equity / initial)
                    if abs(sumReward - expected) > 1e-9 * max(1, abs(expected)) {
                        fail("episode \(episode): Σ log-return rewards \(sumReward) ≠ log(final/initial) \(expected)")
                    }
                }
                break
            }
        }
    }
    return report
}

private func checkObservation(_ o: MarketObservation, env: MarketEnv, fail: (String) -> Void) {
    if o.window != env.config.window || o.width != env.featureWidth || o.weights.count != env.assetCount {
        fail("observation shape (\(o.window), \(o.width)) + \(o.weights.count) weights does not match the environment")
    }
    if o.bar - o.window + 1 < 0 || o.bar != env.bar { fail("observation at bar \(o.bar) reaches outside the data") }
    if !o.window2D.allSatisfy(\.isFinite) { fail("observation at bar \(o.bar) has non-finite features") }
    if !o.weights.allSatisfy(\.isFinite) || !o.cashWeight.isFinite {
        fail("observation at bar \(o.bar) has non-finite weights")
    }
}
