import Foundation
import NeuralCore
import RLCore

// Advantage actor-critic (Mnih et al. 2016, synchronous, as SB3's A2C): B environments × n steps per update, n-step
// returns (GAE with λ = 1 by default) bootstrapped from V of the observation after the rollout and, for a truncated
// episode, from V(final observation); one gradient step per rollout on −A·log π + c_v·½(V − R)² − c_e·H.
// Policy and value share the Market2Vec + LSTM encoder (`ActorCritic`).
//
// Shapes: B envs, n steps, T window, F features, P extras, K discrete actions / A continuous values.

/// A2C's hyper-parameters. Defaults: SB3's A2C (n = 5, lr 7e-4, entropy 0, value ½, clip 0.5) with Adam and 8
/// environments × 16 steps for daily bars.
public struct A2CConfig: Codable, Equatable, Sendable {
    /// Algorithm discriminator; must be `a2c`.
    public var algo: Algorithm = .a2c
    /// The shared encoder's size.
    public var encoder: EncoderConfig = EncoderConfig()
    /// Continuous-action policy (used when the environment has no discrete actions).
    public var continuous: ContinuousPolicyConfig = ContinuousPolicyConfig()
    /// Adam learning rate.
    public var learningRate: Double = 7e-4
    /// Environments stepped together (B).
    public var numEnvs: Int = 8
    /// Steps per environment per update (n of the n-step return).
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
        try expect(learningRate > 0 && maxGradNorm >= 0, "learningRate must be > 0, maxGradNorm ≥ 0")
        try expect(gamma >= 0 && gamma <= 1 && gaeLambda >= 0 && gaeLambda <= 1, "gamma and gaeLambda must be in [0,1]")
    }
}

/// A2C with a categorical (K) or Gaussian (A) policy.
public final class A2CAgent: Agent {
    public let config: A2CConfig
    public var spec: AgentSpec { core.spec }
    public var algorithm: Algorithm { .a2c }
    public private(set) var stepsDone = 0
    public private(set) var updatesDone = 0
    public private(set) var profile = TrainingProfile()
    let core: ActorCritic
    public var networks: [RecurrentNetwork] { [core.net] }
    var rng: Xoshiro256
    var rows: [Int] = []
    var advantageScratch: [Float] = []

    public init(_ config: A2CConfig, spec: AgentSpec, seed: UInt64) {
        do { try config.validate() } catch { preconditionFailure("invalid A2C config: \(error)") }
        self.config = config
        rng = Xoshiro256(seed: seed)
        core = ActorCritic(spec: spec, encoder: config.encoder, continuous: config.continuous,
                           learningRate: config.learningRate, using: &rng)
    }

    /// The policy + value network.
    public var network: RecurrentNetwork { core.net }

    public func act<O: WindowObservation>(_ observation: O, deterministic: Bool) -> AgentAction {
        core.act(observation, deterministic: deterministic, using: &rng)
    }

    public func train<Env: AgentEnvironment>(env: Env, steps: Int, seed: UInt64, progress: (TrainingEvent<Env.Info>) -> Void) {
        let B = config.numEnvs, S = config.nSteps
        var venv = VectorEnv(Array(repeating: env, count: B))
        var observations = venv.reset(seed: seed)
        var buffer = RolloutBuffer(envs: B, extrasWidth: spec.extras, actionWidth: core.actionWidth, reserve: S)
        var tracker = EpisodeTracker(envs: B)
        let start = stepsDone, stop = stepsDone + steps, startTime = now()
        if rows.count != B * S { rows = Array(0..<(B * S)) }
        while stepsDone < stop {
            buffer.clear()
            _ = core.collect(&venv, observations: &observations, into: &buffer, steps: S, rewardScale: config.rewardScale,
                             rng: &rng, tracker: &tracker, globalStep: &stepsDone, profile: &profile, progress: progress)
            let t0 = now()
            buffer.computeAdvantages(lastValues: core.values(observations), gamma: Float(config.gamma), lambda: Float(config.gaeLambda))
            if config.normalizeAdvantage {
                normalized(buffer.advantages, into: &advantageScratch)
            } else {
                advantageScratch = buffer.advantages
            }
            var sums = LossSums()
            core.zeroGradients()
            let ws = core.forward(buffer, rows: rows[...])
            core.addVanillaLoss(ws, rows: rows[...], buffer: buffer, advantages: advantageScratch[...],
                                valueCoefficient: config.valueCoefficient, entropyCoefficient: config.entropyCoefficient,
                                normalizer: buffer.count, sums: &sums)
            core.net.backward(ws)
            let norm = core.step(maxGradNorm: config.maxGradNorm, learningRate: config.learningRate)
            updatesDone += 1
            profile.update += now() - t0
            let n = Double(max(sums.count, 1))
            progress(.update(step: stepsDone, metrics: [
                "losses/policy": sums.policy / n, "losses/value": sums.value / n, "losses/entropy": sums.entropy / n,
                "losses/explained_variance": explainedVariance(buffer), "charts/grad_norm": Double(norm),
                "charts/learning_rate": config.learningRate,
                "charts/sps": Double(stepsDone - start) / max(now() - startTime, 1e-9)]))
        }
    }

    public func save(to directory: URL) throws {
        try core.save(to: directory, algorithm: .a2c, config: config, rng: rng, stepsDone: stepsDone, updatesDone: updatesDone)
    }

    public func load(from directory: URL) throws {
        let state = try core.load(from: directory, algorithm: .a2c, config: config)
        rng = state.rng; stepsDone = state.stepsDone; updatesDone = state.updatesDone
    }
}
