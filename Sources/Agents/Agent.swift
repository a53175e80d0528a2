import Foundation
import NeuralCore
import RLCore

/// The learning algorithms; encodes as its raw string (the `algo:` key of an agent YAML file).
public enum Algorithm: String, Codable, Sendable, CaseIterable {
    case dqn, reinforce, a2c, ppo
}

/// An action as the agent chose it; `env.action(for:)` turns it into the environment's action.
public enum AgentAction: Equatable, Sendable {
    /// A discrete index k (0 ≤ k < K).
    case index(Int)
    /// A continuous vector (A), already squashed as the policy's config says (e.g. softmax weights).
    case continuous([Double])

    /// The action as one number, as step rows keep it: the discrete index, or the first value of a continuous action.
    public var number: Double {
        switch self {
        case .index(let k): Double(k)
        case .continuous(let v): v.first ?? 0
        }
    }
}

/// What an agent's greedy decision is made from (`Agent.actionScores`), and so what an ensemble averages.
public enum ActionScoreKind: Equatable, Sendable, CustomStringConvertible {
    /// Q(s, a) of the K discrete actions (DQN); greedy: the argmax.
    case qValues
    /// π(a | s) of the K discrete actions (categorical policies), summing to 1; greedy: the argmax.
    case probabilities
    /// The A means μ of a Gaussian policy before any squash; greedy: `squash` of them.
    case means(squash: ContinuousSquash)

    /// The greedy action for `scores` of this kind (K or A): the first index of the largest score, or the squashed
    /// means.
    public func greedyAction(_ scores: [Double]) -> AgentAction {
        switch self {
        case .qValues, .probabilities:
            var best = 0
            for a in scores.indices.dropFirst() where scores[a] > scores[best] { best = a }
            return .index(best)
        case .means(let squash):
            return .continuous(squash.apply(scores))
        }
    }

    public var description: String {
        switch self {
        case .qValues: "Q-values"
        case .probabilities: "action probabilities"
        case .means(let squash): "Gaussian means (squash \(squash.rawValue))"
        }
    }
}

extension AgentEnvironment {
    /// The environment's action for an agent's action.
    public func action(for a: AgentAction) -> Action {
        switch a {
        case .index(let k): action(index: k)
        case .continuous(let v): action(continuous: v)
        }
    }
}

/// What training reports, in order, for the lead's logger (SQLite).
public enum TrainingEvent<Info> {
    /// Environment `env` took a step: the action as a number (the discrete index, or the first value of a continuous
    /// action), the environment's reward and info. Emitted before the `.episode` event of a step that ends an episode.
    case step(env: Int, globalStep: Int, action: Double, reward: Double, info: Info)
    /// An episode of environment `env` ended at global env step `step`.
    case episode(EpisodeEnd<Info>)
    /// An update finished; `metrics` are named like CleanRL's (`losses/td`, `losses/policy`, `losses/value`,
    /// `losses/entropy`, `losses/approx_kl`, `charts/epsilon`, `charts/learning_rate`, `charts/sps`).
    case update(step: Int, metrics: [String: Double])
}

/// How an episode ended, as training reports it (`.episode` events): when and in which environment, its return and
/// length, termination or truncation, and its last step's info. (RunStore's `EpisodeRecord` is the stored row the
/// experiment loop writes from it and the episode's steps.)
public struct EpisodeEnd<Info> {
    /// Global env step (all environments) at which it ended.
    public var step: Int
    /// Which of the vectorised environments it ran in.
    public var env: Int
    /// Σ of the environment's rewards (unscaled).
    public var episodeReturn: Double
    /// Steps in the episode.
    public var length: Int
    /// Ended by termination (true) or truncation (false).
    public var terminated: Bool
    /// The info of its last step.
    public var info: Info
}

/// The API every agent offers to the experiment loop and the CLI.
///
///     let agent = makeAgent(config, spec: AgentSpec(of: env), seed: 1)
///     agent.train(env: env, steps: 100_000, seed: 7) { event in log(event) }
///     let action = env.action(for: agent.act(observation, deterministic: true))
///     try agent.save(to: directory); try agent.load(from: directory)
///
/// Determinism: the same config, spec, agent seed, training seed and BLAS thread count give bit-identical actions and
/// weights. `train` resets fresh copies of `env` (environment i gets seed `seed + i`) and can be called again to
/// continue training: counters, optimizer state, the exploration RNG and schedules continue; the environments restart
/// and, for DQN, the replay buffer is kept. `save` writes all of that, DQN's replay buffer included (`replay.bin`), so
/// an agent restored with `load` trains on exactly as the saved one would.
public protocol Agent: AnyObject {
    /// Which algorithm this is.
    var algorithm: Algorithm { get }
    /// The environment shape the networks were built for.
    var spec: AgentSpec { get }
    /// Environment steps trained so far (all environments).
    var stepsDone: Int { get }
    /// Network updates (optimizer steps) so far.
    var updatesDone: Int { get }
    /// Where the wall time of `train` went (seconds).
    var profile: TrainingProfile { get }
    /// Every network the agent holds (the trained one first; DQN's target network second), for loading a pretrained
    /// encoder into them (`loadEncoder`).
    var networks: [EncoderNetwork] { get }
    /// Trains for `steps` more environment steps (rounded up to whole rollouts for policy-gradient agents).
    func train<Env: AgentEnvironment>(env: Env, steps: Int, seed: UInt64, progress: (TrainingEvent<Env.Info>) -> Void)
    /// The agent's action for one observation: greedy / the policy's mode when `deterministic`, else exploring with
    /// the agent's own RNG (ε-greedy for DQN, a policy sample otherwise).
    func act<O: WindowObservation>(_ observation: O, deterministic: Bool) -> AgentAction
    /// What `actionScores` returns and how the greedy action follows from it.
    var scoreKind: ActionScoreKind { get }
    /// The numbers the greedy action for `observation` is chosen from, for averaging over an ensemble
    /// (`EnsembleAgent`): Q(s, ·) (K) for DQN, π(· | s) (K) for a categorical policy, the Gaussian means μ (A)
    /// before the squash for a continuous policy. `scoreKind.greedyAction(actionScores(o))` equals
    /// `act(o, deterministic: true)`; no randomness is drawn.
    func actionScores<O: WindowObservation>(_ observation: O) -> [Double]
    /// Writes a checkpoint directory: weights and optimizer moments (safetensors), and `agent.json` (config, spec,
    /// RNG state, counters).
    func save(to directory: URL) throws
    /// Restores a checkpoint written by `save` for the same config and spec.
    func load(from directory: URL) throws
}

/// Seconds spent in each part of training.
public struct TrainingProfile: Codable, Equatable, Sendable {
    /// Choosing actions (network forward for the acting batch, sampling).
    public var act: Double = 0
    /// Stepping the environments and storing transitions.
    public var env: Double = 0
    /// Updates: sampling, forward, backward, optimizer.
    public var update: Double = 0
    public init() {}
}

/// Any agent's config, discriminated by its `algo` key (each config struct carries its own `algo` field, so one YAML
/// file decodes either straight into its struct or into this wrapper).
public enum AgentConfig: Codable, Equatable, Sendable {
    case dqn(DQNConfig)
    case reinforce(ReinforceConfig)
    case a2c(A2CConfig)
    case ppo(PPOConfig)

    enum Key: String, CodingKey { case algo }

    public init(from decoder: any Decoder) throws {
        let algo = try decoder.container(keyedBy: Key.self).decode(Algorithm.self, forKey: .algo)
        switch algo {
        case .dqn: self = .dqn(try DQNConfig(from: decoder))
        case .reinforce: self = .reinforce(try ReinforceConfig(from: decoder))
        case .a2c: self = .a2c(try A2CConfig(from: decoder))
        case .ppo: self = .ppo(try PPOConfig(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .dqn(let c): try c.encode(to: encoder)
        case .reinforce(let c): try c.encode(to: encoder)
        case .a2c(let c): try c.encode(to: encoder)
        case .ppo(let c): try c.encode(to: encoder)
        }
    }

    /// The default config of `algorithm`.
    public static func defaults(_ algorithm: Algorithm) -> AgentConfig {
        switch algorithm {
        case .dqn: .dqn(DQNConfig())
        case .reinforce: .reinforce(ReinforceConfig())
        case .a2c: .a2c(A2CConfig())
        case .ppo: .ppo(PPOConfig())
        }
    }

    /// Checks the algorithm's config and the encoder's (`validate()` of each); throws one line naming the field.
    public func validate() throws {
        switch self {
        case .dqn(let c): try c.validate()
        case .reinforce(let c): try c.validate()
        case .a2c(let c): try c.validate()
        case .ppo(let c): try c.validate()
        }
        try encoder.validate()
    }

    public var algorithm: Algorithm {
        switch self {
        case .dqn: .dqn
        case .reinforce: .reinforce
        case .a2c: .a2c
        case .ppo: .ppo
        }
    }
}

/// A new agent for `config`, its networks built for `spec` and initialised from `seed`.
public func makeAgent(_ config: AgentConfig, spec: AgentSpec, seed: UInt64) -> any Agent {
    switch config {
    case .dqn(let c): DQNAgent(c, spec: spec, seed: seed)
    case .reinforce(let c): ReinforceAgent(c, spec: spec, seed: seed)
    case .a2c(let c): A2CAgent(c, spec: spec, seed: seed)
    case .ppo(let c): PPOAgent(c, spec: spec, seed: seed)
    }
}
