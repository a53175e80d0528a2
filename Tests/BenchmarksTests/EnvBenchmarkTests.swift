import Foundation
import RLCore
import SyntheticMarkets
import Testing
import TradingEnv

@testable import Benchmarks

/// A 300-bar synthetic panel of N assets with costs and random 30-bar episodes (so that resets draw on the
/// environment's stream), and a pool of 64 random actions.
func benchmarkedEnvironment(assets: Int) throws -> (MarketEnv, [TradingAction]) {
    let panel = syntheticPanel(assets: assets, bars: 300, seed: 4)
    var config = MarketConfig()
    config.window = 5
    config.costs = CostModel(commissionBps: 1, halfSpreadBps: 1)
    config.episode.mode = .random
    config.episode.length = 30
    let env = try MarketEnv(
        panel: panel, features: panel.close.map(Float.init), width: assets, bars: 0..<300, config: config, seed: 9)
    var rng = Xoshiro256(seed: 2)
    return (env, (0..<64).map { _ in env.actionSpace.sample(using: &rng) })
}

/// `bench env --envs B` (`stepVector`) steps B copies through `VectorEnv`'s batch step: its steps, episodes and summed
/// rewards are, bit for bit, those of B environments each stepped on its own, copy b taking actions b, B + b, 2B + b, …
/// of the pool and reset at once when its episode ends (random episodes, so that resets draw on each copy's stream).
@Test(arguments: [1, 3, 11])
func envBenchmarkStepsCopiesAsSeparateEnvironments(copies B: Int) throws {
    let (env, actions) = try benchmarkedEnvironment(assets: 1)
    let run = stepVector(env, copies: B, steps: 2_000, actions: actions, seed: 9)

    var copies = (0..<B).map { b in
        var copy = env
        _ = copy.reset(seed: 9 &+ UInt64(b))
        return copy
    }
    var episodes = B, checksum = 0.0
    for j in 0..<2_000 / B {
        for b in 0..<B {
            let s = copies[b].step(actions[(j * B + b) % 64])
            checksum += s.reward
            if s.done {
                episodes += 1
                _ = copies[b].reset(seed: nil)
            }
        }
    }
    #expect(run.steps == 2_000 / B * B && run.episodes == episodes)
    #expect(run.checksum.bitPattern == checksum.bitPattern && checksum != 0)
    #expect(episodes >= 2_000 / 30)  // episodes ended and restarted
}

/// `bench env` on one environment (`stepOne`, each step written over the one before): its steps, episodes and summed
/// rewards are, bit for bit, those of the environment stepped with `step(_:)` on the same actions, step k taking
/// action k of the pool, reset at once when an episode ends; one asset (the actions built as indices) and a panel.
@Test(arguments: [1, 3])
func envBenchmarkStepsOneEnvironmentAsItsSteps(assets: Int) throws {
    let (env, actions) = try benchmarkedEnvironment(assets: assets)
    let run = stepOne(env, steps: 2_000, seed: 9) { actions[$0 % 64] }

    var alone = env, episodes = 1, checksum = 0.0
    _ = alone.reset(seed: 9)
    for k in 0..<2_000 {
        let s = alone.step(actions[k % 64])
        checksum += s.reward
        if s.done {
            episodes += 1
            _ = alone.reset(seed: nil)
        }
    }
    #expect(run.steps == 2_000 && run.episodes == episodes && episodes >= 2_000 / 30)
    #expect(run.checksum.bitPattern == checksum.bitPattern && checksum != 0)
}
