import Foundation
import NeuralCore
import RLCore

// Proximal Policy Optimization (Schulman et al. 2017), clipped objective, as CleanRL's `ppo.py` / SB3's PPO:
// B environments × S steps per rollout, GAE(λ) advantages (bootstrapping truncated episodes from V(final
// observation)), E epochs of shuffled minibatches, advantage normalisation per minibatch, optional value clipping,
// entropy bonus, global gradient clipping, optional target-KL early stop. The policy and the value share the
// Market2Vec + LSTM encoder (`ActorCritic`); each observation window is encoded from a zero LSTM state, so
// minibatches need no sequence bookkeeping.
//
// Shapes: B envs, S steps, M minibatch, T window, F features, P extras, K discrete actions / A continuous values.

/// PPO's hyper-parameters. Defaults: CleanRL / SB3 PPO, with 8 environments × 128 steps and minibatches of 256.
public struct PPOConfig: PolicyGradientConfig {
    /// Algorithm discriminator; must be `ppo`.
    public var algo: Algorithm = .ppo
    /// The shared encoder's size.
    public var encoder: EncoderConfig = EncoderConfig()
    /// Continuous-action policy (used when the environment has no discrete actions).
    public var continuous: ContinuousPolicyConfig = ContinuousPolicyConfig()
    /// Adam learning rate.
    public var learningRate: Double = 3e-4
    /// Anneal the learning rate linearly to 0, as CleanRL: over the agent's first `annealSteps` steps, or over each
    /// `train` call when that is nil.
    public var annealLearningRate: Bool = false
    /// The steps over which `annealLearningRate` takes the rate to 0, counted from the agent's first step (at least 1;
    /// nil: each `train` call's steps). `tradesim train` sets it to the experiment's `steps` when it is not given, so
    /// that the rate falls once over the run, not again in each stretch between evaluations and checkpoints.
    public var annealSteps: Int?
    /// Environments stepped together (B; at most `AgentLimits.environments`).
    public var numEnvs: Int = 8
    /// Steps per environment per rollout (S; B·S at most `AgentLimits.rollout`).
    public var nSteps: Int = 128
    /// Passes over each rollout (at most `AgentLimits.epochs`).
    public var epochs: Int = 4
    /// Entries per minibatch (M; at most `AgentLimits.batch`).
    public var minibatchSize: Int = 256
    /// Discount γ.
    public var gamma: Double = 0.99
    /// GAE λ.
    public var gaeLambda: Double = 0.95
    /// Policy ratio clip ε.
    public var clipRange: Double = 0.2
    /// Value clip around the rollout's values (0 = no value clipping).
    public var clipRangeValue: Double = 0
    /// Normalise advantages per minibatch.
    public var normalizeAdvantage: Bool = true
    /// Entropy bonus coefficient.
    public var entropyCoefficient: Double = 0.01
    /// Value loss coefficient (the value loss is ½(V − R)²).
    public var valueCoefficient: Double = 0.5
    /// Global gradient-norm clip (0 = none).
    public var maxGradNorm: Double = 0.5
    /// Stop the epochs when a minibatch's approximate KL exceeds 1.5 × this, as SB3 (0 = never).
    public var targetKL: Double = 0
    /// Rewards are multiplied by this before learning (events report unscaled returns).
    public var rewardScale: Double = 1

    public init() {}

    /// Checks the discriminator and ranges; throws one line naming the field.
    public func validate() throws {
        try expect(algo == .ppo, "algo is \(algo.rawValue), expected ppo")
        try expect(
            numEnvs >= 1 && nSteps >= 1 && epochs >= 1 && minibatchSize >= 1,
            "numEnvs, nSteps, epochs and minibatchSize must be ≥ 1")
        try expectRollout(numEnvs: numEnvs, nSteps: nSteps)
        try expect("epochs", epochs, atMost: AgentLimits.epochs)
        try expect("minibatchSize", minibatchSize, atMost: AgentLimits.batch)
        try expect(
            learningRate > 0 && clipRange > 0 && clipRangeValue >= 0 && targetKL >= 0 && maxGradNorm >= 0,
            "learningRate and clipRange must be > 0; clipRangeValue, targetKL, maxGradNorm ≥ 0")
        try expect(gamma >= 0 && gamma <= 1 && gaeLambda >= 0 && gaeLambda <= 1, "gamma and gaeLambda must be in [0,1]")
        try expectRewardScale(rewardScale)
        if let annealSteps { try expect(annealSteps >= 1, "annealSteps must be ≥ 1, not \(annealSteps)") }
    }
}

/// PPO with a categorical (K) or Gaussian (A) policy.
public final class PPOAgent: PolicyGradientAgent<PPOConfig>, Agent {
    /// Minibatch order of the update (N).
    var order: [Int] = []

    /// Per rollout of B × S steps: GAE(λ) advantages, then `update` with the learning rate of this point of the anneal
    /// (`annealSteps`, or this call).
    public func train<Env: AgentEnvironment>(
        env: Env, steps: Int, seed: UInt64, progress: (TrainingEvent<Env.Info>) -> Void
    ) {
        let first = stepsDone
        trainOnRollouts(
            env: env, steps: steps, seed: seed, envs: config.numEnvs, length: config.nSteps,
            gaeLambda: config.gaeLambda, progress: progress
        ) { buffer, before in
            let (done, horizon) = config.annealSteps.map { (first + before, $0) } ?? (before, steps)
            let fraction = Double(done) / Double(max(horizon, 1))
            let lr = config.annealLearningRate ? config.learningRate * max(1 - fraction, 0) : config.learningRate
            var metrics = update(buffer, learningRate: lr)
            metrics["charts/learning_rate"] = lr
            return metrics
        }
    }

    /// E epochs over shuffled minibatches of the rollout. Per minibatch (M rows), with r = π(a|s)/π_old(a|s) and
    /// normalised advantages Â: L = −mean min(r·Â, clip(r, 1−ε, 1+ε)·Â) + c_v·mean ½·max((V−R)², (V_clip−R)²)
    /// − c_e·mean H, where V_clip = V_old + clip(V − V_old, ±ε_v) when value clipping is on (else V_clip = V).
    func update(_ buffer: RolloutBuffer, learningRate: Double) -> [String: Double] {
        let N = buffer.count, M = min(config.minibatchSize, N), W = core.actionWidth
        let eps = Float(config.clipRange), epsV = Float(config.clipRangeValue)
        let cv = Float(config.valueCoefficient), ce = Float(config.entropyCoefficient)
        // Start every update from the identity so the minibatches depend only on the RNG (a restored agent replays
        // them).
        if order.count != N { order = Array(0..<N) }
        for i in 0..<N { order[i] = i }
        var policySum = 0.0, valueSum = 0.0, entropySum = 0.0, klSum = 0.0, clipSum = 0.0, rows = 0, minibatches = 0
        var stopped = false
        epochs: for _ in 0..<config.epochs {
            shuffle(&order, using: &rng)
            var begin = 0
            while begin < N {
                let batch = order[begin..<min(begin + M, N)]
                begin += M
                let m = Float(batch.count)
                core.zeroGradients()
                let ws = core.forward(buffer, rows: batch)
                if config.normalizeAdvantage {
                    normalized(batch.lazy.map { buffer.advantages[$0] }, into: &advantageScratch)
                } else {
                    advantageScratch.removeAll(keepingCapacity: true)
                    for k in batch { advantageScratch.append(buffer.advantages[k]) }
                }
                var kl = 0.0
                let dValue = ws.dOutputs[1].pointer
                buffer.actions.withUnsafeBufferPointer { actions in
                    for (i, k) in batch.enumerated() {
                        let action = actions.baseAddress! + k * W
                        let terms = core.terms(ws, i, action)
                        let logRatio = terms.logProb - buffer.logProbs[k]
                        let ratio = Foundation.exp(logRatio), advantage = advantageScratch[i]
                        let clipped = min(max(ratio, 1 - eps), 1 + eps)
                        policySum -= Double(min(ratio * advantage, clipped * advantage))
                        let clipActive = (advantage > 0 && ratio > 1 + eps) || (advantage < 0 && ratio < 1 - eps)
                        kl += Double((ratio - 1) - logRatio)
                        if abs(ratio - 1) > eps { clipSum += 1 }

                        let v = core.value(ws, i), target = buffer.returns[k], old = buffer.values[k]
                        var dv = v - target, loss = 0.5 * dv * dv
                        if epsV > 0 {
                            let vClipped = old + min(max(v - old, -epsV), epsV)
                            let lossClipped = 0.5 * (vClipped - target) * (vClipped - target)
                            if lossClipped > loss {
                                loss = lossClipped
                                dv = abs(v - old) < epsV ? vClipped - target : 0
                            }
                        }
                        valueSum += Double(loss)
                        dValue[i] += cv * dv / m
                        entropySum += Double(terms.entropy)
                        core.addPolicyGradients(
                            ws, i, action, terms, logProb: clipActive ? nil : -advantage * ratio / m, entropy: -ce / m)
                        rows += 1
                    }
                }
                let approxKL = kl / Double(batch.count)
                klSum += approxKL
                minibatches += 1
                if config.targetKL > 0 && approxKL > 1.5 * config.targetKL { stopped = true; break epochs }
                core.net.backward(ws)
                core.step(maxGradNorm: config.maxGradNorm, learningRate: learningRate)
                updatesDone += 1
            }
        }
        let r = Double(max(rows, 1))
        return [
            "losses/policy": policySum / r, "losses/value": valueSum / r, "losses/entropy": entropySum / r,
            "losses/approx_kl": klSum / Double(max(minibatches, 1)), "losses/clipfrac": clipSum / r,
            "losses/explained_variance": explainedVariance(buffer), "charts/early_stop": stopped ? 1 : 0,
        ]
    }
}
