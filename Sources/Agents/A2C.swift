import Foundation
import NeuralCore
import RLCore

// Advantage actor-critic (Mnih et al. 2016, synchronous, as SB3's A2C): B environments × n steps per update, n-step
// returns (GAE with λ = 1 by default) bootstrapped from V of the observation after the rollout and, for a truncated
// episode, from V(final observation); one gradient step per rollout on −A·log π + c_v·½(V − R)² − c_e·H.
// Policy and value share the Market2Vec + LSTM encoder (`ActorCritic`).
//
// Shapes: B envs, n steps, T window, F features, P extras, K discrete actions / A continuous values.

/// A2C's hyper-parameters. Defaults: SB3's A2C learning rate (7e-4), value coefficient (½) and gradient clip (0.5),
/// with Adam (SB3: RMSprop), an entropy bonus of 0.01 (SB3: 0) and 8 environments × 16 steps (SB3: n = 5) for daily
/// bars. The value loss is c_v·½(V − R)², so c_v = ½ weighs the value gradient half as much as SB3's c_v·MSE.
public struct A2CConfig: PolicyGradientConfig {
    /// Algorithm discriminator; must be `a2c`.
    public var algo: Algorithm = .a2c
    /// The shared encoder's size.
    public var encoder: EncoderConfig = EncoderConfig()
    /// Continuous-action policy (used when the environment has no discrete actions).
    public var continuous: ContinuousPolicyConfig = ContinuousPolicyConfig()
    /// Adam learning rate.
    public var learningRate: Double = 7e-4
    /// Environments stepped together (B; at most `AgentLimits.environments`).
    public var numEnvs: Int = 8
    /// Steps per environment per update (n of the n-step return; B·n at most `AgentLimits.rollout`).
    public var nSteps: Int = 16
    /// Discount γ.
    public var gamma: Double = 0.99
    /// GAE λ (1 = plain n-step returns).
    public var gaeLambda: Double = 1
    /// Normalise the advantages of each update.
    public var normalizeAdvantage: Bool = false
    /// Entropy bonus coefficient.
    public var entropyCoefficient: Double = 0.01
    /// Value loss coefficient (the value loss is ½(V − R)²).
    public var valueCoefficient: Double = 0.5
    /// Global gradient-norm clip (0 = none).
    public var maxGradNorm: Double = 0.5
    /// Rewards are multiplied by this before learning (events report unscaled returns).
    public var rewardScale: Double = 1

    public init() {}

    /// Checks the discriminator and ranges; throws one line naming the field.
    public func validate() throws {
        try expect(algo == .a2c, "algo is \(algo.rawValue), expected a2c")
        try expect(numEnvs >= 1 && nSteps >= 1, "numEnvs and nSteps must be ≥ 1")
        try expectRollout(numEnvs: numEnvs, nSteps: nSteps)
        try expect(learningRate > 0 && maxGradNorm >= 0, "learningRate must be > 0, maxGradNorm ≥ 0")
        try expect(gamma >= 0 && gamma <= 1 && gaeLambda >= 0 && gaeLambda <= 1, "gamma and gaeLambda must be in [0,1]")
        try expectRewardScale(rewardScale)
    }
}

/// A2C with a categorical (K) or Gaussian (A) policy.
public final class A2CAgent: PolicyGradientAgent<A2CConfig>, Agent {
    /// Per rollout of B × n steps: n-step (GAE) advantages, then one gradient step on the whole rollout.
    public func train<Env: AgentEnvironment>(
        env: Env, steps: Int, seed: UInt64, progress: (TrainingEvent<Env.Info>) -> Void
    ) {
        trainOnRollouts(
            env: env, steps: steps, seed: seed, envs: config.numEnvs, length: config.nSteps,
            gaeLambda: config.gaeLambda, progress: progress
        ) { buffer, _ in
            vanillaUpdate(
                buffer, advantages: buffer.advantages, normalize: config.normalizeAdvantage,
                chunk: buffer.count)
        }
    }
}
