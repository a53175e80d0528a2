import Agents
import Foundation
import NeuralCore
import RLCore

/// Result of `benchmarkAgent`, printed as one JSON line by `tradesim bench agent`.
public struct AgentBenchResult: Codable, Sendable {
    public var algo: Algorithm
    public var envSteps: Int
    public var updates: Int
    public var seconds: Double
    public var envStepsPerSecond: Double
    public var updatesPerSecond: Double
    /// Seconds choosing actions (acting forwards, sampling).
    public var actSeconds: Double
    /// Seconds stepping the environments and storing transitions.
    public var envSeconds: Double
    /// Seconds in updates (sampling, forward, backward, optimizer).
    public var updateSeconds: Double
    /// DQN: the sampled next states the target network evaluated, of `updates` · B; the others read target values
    /// kept since the target's last write (`DQNAgent.targetRowsEvaluated`). Absent for the other algorithms.
    public var targetRowsEvaluated: Int?
}

/// The benchmark workloads, the same work as the peer scripts in `benchmarks/peers/` (encoder E32 H64 L1; set the BLAS
/// threads before calling):
/// - dqn: Double DQN, Huber, Adam, batch 64, one update every 4 env steps, target sync every 1,000 steps, dueling
///   and n-step off, updates from step 1,000, ε 1 → 0.05 over 10,000 steps: the work of the PyTorch peer
///   (`benchmarks/peers/dqn_lstm_torch.py`, CleanRL's `dqn.py` with the Market2Vec + LSTM Q-network);
/// - ppo: 8 envs × 128 steps, 4 epochs, minibatch 256 (sb3-contrib RecurrentPPO's workload);
/// - a2c: 8 envs × 16 steps; reinforce: 4 whole episodes per update.
public func benchmarkConfig(
    _ algo: Algorithm, encoder: EncoderConfig = EncoderConfig(embedding: 32, hidden: 64, layers: 1)
) -> AgentConfig {
    switch algo {
    case .dqn:
        var c = DQNConfig()
        c.encoder = encoder
        c.doubleDQN = true; c.loss = .huber; c.batchSize = 64; c.trainFrequency = 4; c.targetUpdateInterval = 1_000
        c.dueling = false; c.nStep = 1; c.learningStarts = 1_000; c.epsilonSteps = 10_000
        return .dqn(c)
    case .ppo:
        var c = PPOConfig()
        c.encoder = encoder
        c.numEnvs = 8; c.nSteps = 128; c.epochs = 4; c.minibatchSize = 256
        return .ppo(c)
    case .a2c:
        var c = A2CConfig()
        c.encoder = encoder
        return .a2c(c)
    case .reinforce:
        var c = ReinforceConfig()
        c.encoder = encoder
        return .reinforce(c)
    }
}

/// Trains a fresh agent of `algo` (`benchmarkConfig`) on `env` for `steps` env steps and times it; the clock covers
/// the whole `train` call (acting, env steps, updates).
public func benchmarkAgent<Env: AgentEnvironment>(
    algo: Algorithm, env: Env, steps: Int, seed: UInt64 = 0,
    config: AgentConfig? = nil
) -> AgentBenchResult {
    let agent = makeAgent(config ?? benchmarkConfig(algo), spec: AgentSpec(of: env), seed: seed)
    var episodes = 0
    let start = now()
    agent.train(env: env, steps: steps, seed: seed) { event in
        if case .episode = event { episodes += 1 }
    }
    let seconds = now() - start
    let p = agent.profile
    return AgentBenchResult(
        algo: algo, envSteps: agent.stepsDone, updates: agent.updatesDone, seconds: seconds,
        envStepsPerSecond: Double(agent.stepsDone) / seconds,
        updatesPerSecond: Double(agent.updatesDone) / seconds,
        actSeconds: p.act, envSeconds: p.env, updateSeconds: p.update,
        targetRowsEvaluated: (agent as? DQNAgent)?.targetRowsEvaluated)
}
