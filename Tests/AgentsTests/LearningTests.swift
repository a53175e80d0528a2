import Foundation
import NeuralCore
import RLCore
import Testing
@testable import Agents
@testable import TradingEnv

// Learning on a market with a known optimum: a deterministic sine price (period 11.3 bars, so held-out bars meet phases
// the training bars did not), one asset, short / flat / long, 1 bp commission, log-return reward, window T = 8.
// Training runs on random 48-bar episodes of bars 0..<600; evaluation runs the deterministic policy over the held-out
// bars 600..<800 as one episode, against the exact optimum of that episode (`optimalReturn`, dynamic programming over
// positions with costs). Each agent must reach 90% of the optimum.
//
// These tests need a release build: `TRADESIM_SLOW=1 swift test -c release --filter AgentsTests.Learning`.
// Without TRADESIM_SLOW they are skipped.

let learningEncoder = EncoderConfig(embedding: 16, hidden: 32, layers: 1)

struct LearningSetup {
    let train: MarketEnv
    let test: MarketEnv
    let optimum: Double

    init() throws {
        let p = sinePanel(bars: 800, period: 11.3, amplitude: 0.05)
        train = try marketEnv(p, bars: 0..<600, window: 8, randomEpisodes: 48)
        test = try marketEnv(p, bars: (600 - 7)..<800, window: 8)
        optimum = optimalReturn(test)
    }

    /// Trains `config` from `seed` and returns the held-out return as a fraction of the optimum.
    func fraction(_ config: AgentConfig, steps: Int, seed: UInt64 = 1) -> (Double, any Agent) {
        setBLASThreads(1)
        let agent = makeAgent(config, spec: AgentSpec(of: train), seed: seed)
        let untrained = evaluate(agent, test) / optimum
        #expect(untrained < 0.5, "the untrained policy already reaches \(untrained) of the optimum: the market is too easy")
        agent.train(env: train, steps: steps, seed: seed) { _ in }
        return (evaluate(agent, test) / optimum, agent)
    }
}

@Test func optimalReturnBeatsEveryFixedPolicyAndTheOracle() throws {
    let s = try LearningSetup()
    // the optimum dominates always-long / always-short / flat and the costless sign oracle minus its costs
    for k in 0..<3 {
        var e = s.test
        _ = e.reset(seed: 0)
        var total = 0.0
        while true { let st = e.step(.index(k)); total += st.reward; if st.done { break } }
        #expect(s.optimum > total)
    }
    var e = s.test
    var o = e.reset(seed: 0)
    var oracle = 0.0
    let p = sinePanel(bars: 800, period: 11.3, amplitude: 0.05)
    while true {
        let next = p.close[o.bar + 1] > p.close[o.bar] ? 2 : 0
        let st = e.step(.index(next))
        oracle += st.reward
        o = st.observation
        if st.done { break }
    }
    #expect(s.optimum >= oracle - 1e-12 && oracle > 0.95 * s.optimum)
    #expect(s.optimum > 2)   // ≈ 200 bars × |log return| ≈ 0.017
}

@Test(.enabled(if: slowTests), arguments: [false, true])
func dqnLearnsTheSineMarket(prioritized: Bool) throws {
    let s = try LearningSetup()
    var c = DQNConfig()
    c.prioritizedReplay = prioritized
    c.encoder = learningEncoder
    c.learningRate = 1e-3; c.rewardScale = 50; c.gamma = 0.9; c.nStep = 3
    c.learningStarts = 500; c.epsilonSteps = 6_000; c.epsilonEnd = 0.02; c.targetUpdateInterval = 500
    c.bufferSize = 20_000; c.batchSize = 64; c.trainFrequency = 2
    let (fraction, _) = s.fraction(.dqn(c), steps: 15_000)
    print("learning: dqn (prioritized \(prioritized)) reached \(fraction) of the optimum \(s.optimum)")
    #expect(fraction >= 0.9)
}

@Test(.enabled(if: slowTests)) func reinforceLearnsTheSineMarket() throws {
    let s = try LearningSetup()
    var c = ReinforceConfig()
    c.encoder = learningEncoder
    c.learningRate = 2e-3; c.rewardScale = 50; c.gamma = 0.9; c.episodesPerUpdate = 4; c.entropyCoefficient = 0.003
    let (fraction, _) = s.fraction(.reinforce(c), steps: 60_000)
    print("learning: reinforce reached \(fraction) of the optimum \(s.optimum)")
    #expect(fraction >= 0.9)
}

@Test(.enabled(if: slowTests)) func a2cLearnsTheSineMarket() throws {
    let s = try LearningSetup()
    var c = A2CConfig()
    c.encoder = learningEncoder
    c.learningRate = 1e-3; c.rewardScale = 50; c.gamma = 0.9; c.numEnvs = 8; c.nSteps = 8; c.entropyCoefficient = 0.003
    let (fraction, _) = s.fraction(.a2c(c), steps: 60_000)
    print("learning: a2c reached \(fraction) of the optimum \(s.optimum)")
    #expect(fraction >= 0.9)
}

@Test(.enabled(if: slowTests)) func ppoLearnsTheSineMarket() throws {
    let s = try LearningSetup()
    var c = PPOConfig()
    c.encoder = learningEncoder
    c.learningRate = 1e-3; c.rewardScale = 50; c.gamma = 0.9; c.numEnvs = 8; c.nSteps = 64; c.minibatchSize = 128
    c.entropyCoefficient = 0.003
    let (fraction, _) = s.fraction(.ppo(c), steps: 40_000)
    print("learning: ppo reached \(fraction) of the optimum \(s.optimum)")
    #expect(fraction >= 0.9)
}

/// The Gaussian policy on continuous target weights (tanh-squashed into [−1, 1]): the same market, the optimum is still
/// the DP over {−1, 0, 1} (the log growth of one bar is monotone in the weight, so the best weight is at a bound or 0).
@Test(.enabled(if: slowTests)) func ppoGaussianLearnsTheSineMarket() throws {
    let p = sinePanel(bars: 800, period: 11.3, amplitude: 0.05)
    let train = try marketEnv(p, bars: 0..<600, window: 8, randomEpisodes: 48) { $0.actions.kind = .weights }
    let test = try marketEnv(p, bars: (600 - 7)..<800, window: 8) { $0.actions.kind = .weights }
    let optimum = optimalReturn(try marketEnv(p, bars: (600 - 7)..<800, window: 8))
    setBLASThreads(1)
    var c = PPOConfig()
    c.encoder = learningEncoder
    c.learningRate = 1e-3; c.rewardScale = 50; c.gamma = 0.9; c.numEnvs = 8; c.nSteps = 64; c.minibatchSize = 128
    c.entropyCoefficient = 0; c.continuous.squash = .tanh
    let agent = PPOAgent(c, spec: AgentSpec(of: train), seed: 1)
    #expect(AgentSpec(of: train).discreteActions == 0)
    agent.train(env: train, steps: 60_000, seed: 1) { _ in }
    let fraction = evaluate(agent, test) / optimum
    print("learning: ppo gaussian reached \(fraction) of the optimum \(optimum)")
    #expect(fraction >= 0.9)
}
