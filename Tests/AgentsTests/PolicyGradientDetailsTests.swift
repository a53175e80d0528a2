import Foundation
import NeuralCore
import RLCore
import Testing

@testable import Agents
@testable import TradingEnv

// Details of the policy-gradient agents where SB3 / CleanRL are the reference: the global gradient clip takes the
// Gaussian log-std in, PPO's learning-rate anneal spans `annealSteps` across `train` calls, training events carry the
// action the environment received, and a one-row minibatch keeps its advantage.

/// The network's gradients and the log-std's are clipped by one global norm, which `step` returns, as SB3's
/// `clip_grad_norm_` over all the policy's parameters.
@Test func theLogStdIsClippedWithTheNetwork() {
    let spec = AgentSpec(window: 2, features: 1, extras: 0, discreteActions: 0, continuousActions: 2)
    var rng = Xoshiro256(seed: 2)
    let core = ActorCritic(
        spec: spec, encoder: tinyEncoder, continuous: ContinuousPolicyConfig(), learningRate: 1e-3, using: &rng)
    core.zeroGradients()
    core.net.gradients[0] = 3
    core.dLogStd = [4, 0]
    let norm = core.step(maxGradNorm: 1, learningRate: 1e-3)
    let c = Float(1) / (5 + 1e-6)
    #expect(norm == 5)
    #expect(core.net.gradients[0] == 3 * c && core.dLogStd == [4 * c, 0], "\(core.dLogStd)")
    #expect(core.net.gradients.dropFirst().allSatisfy { $0 == 0 })
}

/// With `annealSteps`, the learning rate falls linearly from the agent's first step over that many steps, whatever the
/// `train` calls; without it, over each call (the library's behaviour for a single call).
@Test func ppoAnnealsTheLearningRateOverAnnealSteps() throws {
    setBLASThreads(1)
    let env = try smallMarket()
    func rates(annealSteps: Int?) -> [Double] {
        var c = PPOConfig()
        c.encoder = tinyEncoder; c.numEnvs = 2; c.nSteps = 16; c.minibatchSize = 16; c.epochs = 1
        c.annealLearningRate = true; c.annealSteps = annealSteps
        let agent = PPOAgent(c, spec: AgentSpec(of: env), seed: 1)
        var out: [Double] = []
        for _ in 0..<2 {  // two calls of two 32-step rollouts each, as the trainer's stretches
            agent.train(env: env, steps: 64, seed: 3) { event in
                if case .update(_, let m) = event { out.append(m["charts/learning_rate"]!) }
            }
        }
        return out
    }
    #expect(rates(annealSteps: 128) == [1, 0.75, 0.5, 0.25].map { 3e-4 * $0 })
    #expect(rates(annealSteps: nil) == [1, 0.5, 1, 0.5].map { 3e-4 * $0 })
}

/// A training step event carries the action the environment received (softmax weights here), as evaluation's step
/// rows do, not the Gaussian sample before the squash.
@Test func trainingEventsCarryTheSquashedAction() throws {
    setBLASThreads(1)
    let env = try weightsMarket()
    var c = PPOConfig()
    c.encoder = tinyEncoder; c.numEnvs = 2; c.nSteps = 8; c.minibatchSize = 8; c.epochs = 1
    c.continuous.squash = .softmax
    let agent = PPOAgent(c, spec: AgentSpec(of: env), seed: 1)
    var actions: [Double] = [], positions: [Double] = []
    agent.train(env: env, steps: 64, seed: 1) { event in
        if case .step(_, _, let action, _, let info) = event {
            actions.append(action)
            positions.append(info.position)
        }
    }
    #expect(actions.count == 64 && actions.allSatisfy { $0 > 0 && $0 < 1 }, "\(actions)")
    // the first asset's weight after the fill is its target, moved only by the bar's return from open to close
    #expect(zip(actions, positions).allSatisfy { abs($0 - $1) < 0.05 }, "\(actions) \(positions)")
}

/// One value is kept as it is (SB3 skips normalising a one-row minibatch); more are standardised.
@Test func aSingleAdvantageIsNotNormalised() {
    var out: [Float] = []
    normalized([2.5], into: &out)
    #expect(out == [2.5])
    normalized([1, 3], into: &out)
    #expect(abs(out[0] + 0.70710677) < 1e-6 && abs(out[1] - 0.70710677) < 1e-6, "\(out)")
}
