import Foundation
import NeuralCore
import RLCore

// REINFORCE (Williams 1992) with a learned baseline: run whole episodes with the current policy, then one gradient
// step on −(G_t − b(s_t))·log π(a_t|s_t) + c_v·½(V(s_t) − G_t)² − c_e·H, with G_t the discounted return to the end
// of the episode. b = V (the value head) when `baseline`, else 0. A truncated episode (the data ran out) is
// completed by bootstrapping G from V(final observation); a terminated one is not. The returns come from the shared
// GAE routine with λ = 1, which is exactly G_t − V(s_t). Policy and value share the encoder (`ActorCritic`).
//
// Shapes: M minibatch (gradient accumulation chunk), T window, F features, P extras, K / A actions.

/// REINFORCE's hyper-parameters.
public struct ReinforceConfig: PolicyGradientConfig {
    /// Algorithm discriminator; must be `reinforce`.
    public var algo: Algorithm = .reinforce
    /// The shared encoder's size.
    public var encoder: EncoderConfig = EncoderConfig()
    /// Continuous-action policy (used when the environment has no discrete actions).
    public var continuous: ContinuousPolicyConfig = ContinuousPolicyConfig()
    /// Adam learning rate.
    public var learningRate: Double = 1e-3
    /// Whole episodes per update.
    public var episodesPerUpdate: Int = 4
    /// Discount γ.
    public var gamma: Double = 0.99
    /// Subtract the learned value V(s) from the return (false: plain REINFORCE; V is still learned for truncation).
    public var baseline: Bool = true
    /// Normalise the advantages of each update.
    public var normalizeAdvantage: Bool = true
    /// Entropy bonus coefficient.
    public var entropyCoefficient: Double = 0.01
    /// Value loss coefficient (the value loss is ½(V − G)²).
    public var valueCoefficient: Double = 0.5
    /// Global gradient-norm clip (0 = none).
    public var maxGradNorm: Double = 1
    /// Rows per forward/backward chunk (at most `AgentLimits.batch`); chunks accumulate into one gradient per update.
    public var minibatchSize: Int = 256
    /// Rewards are multiplied by this before learning (events report unscaled returns).
    public var rewardScale: Double = 1

    public init() {}

    /// Checks the discriminator and ranges; throws one line naming the field.
    public func validate() throws {
        try expect(algo == .reinforce, "algo is \(algo.rawValue), expected reinforce")
        try expect(episodesPerUpdate >= 1 && minibatchSize >= 1, "episodesPerUpdate and minibatchSize must be ≥ 1")
        try expect("minibatchSize", minibatchSize, atMost: AgentLimits.batch)
        try expect(learningRate > 0 && maxGradNorm >= 0, "learningRate must be > 0, maxGradNorm ≥ 0")
        try expect(gamma >= 0 && gamma <= 1, "gamma must be in [0,1]")
        try expectRewardScale(rewardScale)
    }
}

/// REINFORCE with a baseline, one environment, categorical (K) or Gaussian (A) policy.
public final class ReinforceAgent: PolicyGradientAgent<ReinforceConfig>, Agent {
    /// Collects `episodesPerUpdate` episodes per update; when the step budget ends inside an episode, the partial
    /// episode is used too, bootstrapped from V of its current observation.
    public func train<Env: AgentEnvironment>(
        env: Env, steps: Int, seed: UInt64, progress: (TrainingEvent<Env.Info>) -> Void
    ) {
        var venv = VectorEnv([env])
        var observations = venv.reset(seed: seed)
        var buffer = RolloutBuffer(envs: 1, extrasWidth: spec.extras, actionWidth: core.actionWidth, reserve: 1_024)
        var tracker = EpisodeTracker(envs: 1)
        let start = stepsDone, stop = stepsDone + steps, startTime = now()
        while stepsDone < stop {
            buffer.clear()
            var episodes = 0
            while episodes < config.episodesPerUpdate && stepsDone < stop {
                episodes += core.collect(
                    &venv, observations: &observations, into: &buffer, steps: 1,
                    rewardScale: config.rewardScale, rng: &rng, tracker: &tracker,
                    globalStep: &stepsDone, profile: &profile, progress: progress)
            }
            let t0 = now()
            var metrics = update(&buffer, lastValues: core.values(observations))
            profile.update += now() - t0
            metrics["charts/sps"] = Double(stepsDone - start) / max(now() - startTime, 1e-9)
            progress(.update(step: stepsDone, metrics: metrics))
        }
    }

    /// One gradient step over all stored steps, in chunks of `minibatchSize` accumulated into one gradient.
    func update(_ buffer: inout RolloutBuffer, lastValues: [Float]) -> [String: Double] {
        buffer.computeAdvantages(lastValues: lastValues, gamma: Float(config.gamma), lambda: 1)
        let advantages = config.baseline ? buffer.advantages : buffer.returns  // G − V, or G
        var metrics = vanillaUpdate(
            buffer, advantages: advantages, normalize: config.normalizeAdvantage,
            chunk: config.minibatchSize)
        metrics["charts/rollout_steps"] = Double(buffer.count)
        return metrics
    }
}
