import Foundation
import NeuralCore
import RLCore
import SyntheticMarkets
import Testing

@testable import Agents
@testable import TradingEnv

/// Small configs of every algorithm for fast debug-build tests.
func tinyConfig(_ algo: Algorithm) -> AgentConfig {
    switch algo {
    case .dqn:
        var c = DQNConfig()
        c.encoder = tinyEncoder; c.batchSize = 8; c.learningStarts = 16; c.trainFrequency = 2;
        c.targetUpdateInterval = 20
        c.epsilonSteps = 50; c.bufferSize = 256; c.logInterval = 5
        return .dqn(c)
    case .reinforce:
        var c = ReinforceConfig()
        c.encoder = tinyEncoder; c.episodesPerUpdate = 2; c.minibatchSize = 7
        return .reinforce(c)
    case .a2c:
        var c = A2CConfig()
        c.encoder = tinyEncoder; c.numEnvs = 2; c.nSteps = 5
        return .a2c(c)
    case .ppo:
        var c = PPOConfig()
        c.encoder = tinyEncoder; c.numEnvs = 2; c.nSteps = 16; c.minibatchSize = 12; c.epochs = 2;
        c.clipRangeValue = 0.2
        return .ppo(c)
    }
}

func parameters(_ agent: any Agent) -> [Float] {
    switch agent {
    case let a as DQNAgent: a.online.parameters + a.target.parameters
    case let a as PPOAgent: a.core.net.parameters + a.core.logStd + a.core.adam.m
    case let a as A2CAgent: a.core.net.parameters + a.core.logStd + a.core.adam.m
    case let a as ReinforceAgent: a.core.net.parameters + a.core.logStd + a.core.adam.m
    default: []
    }
}

func smallMarket(window: Int = 4, length: Int = 20) throws -> MarketEnv {
    try marketEnv(sinePanel(bars: 120), bars: 0..<120, window: window, randomEpisodes: length)
}

@Test(arguments: Algorithm.allCases)
func sameSeedGivesBitIdenticalWeightsAndActions(algo: Algorithm) throws {
    setBLASThreads(1)
    let env = try smallMarket()
    func run(seed: UInt64) -> ([Float], [AgentAction], [String]) {
        let agent = makeAgent(tinyConfig(algo), spec: AgentSpec(of: env), seed: seed)
        var log: [String] = []
        agent.train(env: env, steps: 80, seed: 5) { event in
            switch event {
            case .episode(let e): log.append("e\(e.step):\(e.episodeReturn.bitPattern):\(e.length)")
            case .update(let step, let m):
                log.append("u\(step):\((m["losses/td"] ?? m["losses/policy"] ?? .nan).bitPattern)")
            case .step(let i, let step, let action, _, _): log.append("s\(i):\(step):\(action)")
            }
        }
        var e = env
        var o = e.reset(seed: 9)
        var actions: [AgentAction] = []
        for _ in 0..<10 {
            let a = agent.act(o, deterministic: false)
            actions.append(a)
            o = e.step(e.action(for: a)).observation
        }
        #expect(agent.stepsDone >= 80 && agent.updatesDone > 0)
        return (parameters(agent), actions, log)
    }
    let (w1, a1, l1) = run(seed: 1), (w2, a2, l2) = run(seed: 1), (w3, _, _) = run(seed: 2)
    #expect(w1.map(\.bitPattern) == w2.map(\.bitPattern))
    #expect(a1 == a2)
    #expect(l1 == l2 && l1.contains { $0.hasPrefix("e") } && l1.contains { $0.hasPrefix("u") })
    #expect(w1 != w3)
}

@Test(arguments: Algorithm.allCases)
func checkpointRestoresWeightsRNGAndCounters(algo: Algorithm) throws {
    setBLASThreads(1)
    let env = try smallMarket()
    let a = makeAgent(tinyConfig(algo), spec: AgentSpec(of: env), seed: 3)
    a.train(env: env, steps: 60, seed: 1) { _ in }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
        "agents-ckpt-\(algo.rawValue)-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    try a.save(to: dir)
    let b = makeAgent(tinyConfig(algo), spec: AgentSpec(of: env), seed: 99)
    #expect(parameters(a) != parameters(b))
    try b.load(from: dir)
    #expect(parameters(a).map(\.bitPattern) == parameters(b).map(\.bitPattern))
    #expect(a.stepsDone == b.stepsDone && a.updatesDone == b.updatesDone)
    var e = env
    let o = e.reset(seed: 4)
    #expect((0..<5).map { _ in a.act(o, deterministic: false) } == (0..<5).map { _ in b.act(o, deterministic: false) })
    // another algorithm's checkpoint is refused
    let other = makeAgent(tinyConfig(algo == .ppo ? .a2c : .ppo), spec: AgentSpec(of: env), seed: 1)
    #expect(throws: CheckpointError.self) { try other.load(from: dir) }
}

@Test func policyRolloutsBootstrapTruncationNotTermination() throws {
    for terminates in [false, true] {
        let env = CountdownEnv(length: 3, terminates: terminates)
        var rng = Xoshiro256(seed: 1)
        let core = ActorCritic(
            spec: AgentSpec(of: env), encoder: tinyEncoder, continuous: ContinuousPolicyConfig(),
            learningRate: 1e-3, using: &rng)
        var venv = VectorEnv([env, env])
        var observations = venv.reset(seed: 0)
        var buffer = RolloutBuffer(envs: 2, extrasWidth: 1, actionWidth: 1)
        var tracker = EpisodeTracker(envs: 2), step = 0, profile = TrainingProfile()
        var ended: [EpisodeEnd<Int>] = []
        let episodes = core.collect(
            &venv, observations: &observations, into: &buffer, steps: 4, rewardScale: 1, rng: &rng,
            tracker: &tracker, globalStep: &step, profile: &profile
        ) { event in
            if case .episode(let e) = event { ended.append(e) }
        }
        #expect(episodes == 2 && step == 8 && buffer.count == 8)
        #expect(
            ended.map(\.length) == [3, 3] && ended.map(\.episodeReturn) == [3, 3]
                && ended.allSatisfy { $0.terminated == terminates })
        // step t = 2 ended both episodes; the bootstrap is V(final observation) for truncation, 0 for termination.
        let finalObs: [CountdownEnv.Obs] = (0..<2).map { b in
            var e = CountdownEnv(length: 3, terminates: terminates)
            _ = e.reset(seed: UInt64(b))
            _ = e.step(0); _ = e.step(0)
            return e.step(0).observation
        }
        let v = core.values(finalObs)
        for b in 0..<2 {
            let k = 2 * 2 + b
            #expect(buffer.terminated[k] == terminates && buffer.truncated[k] == !terminates)
            #expect(buffer.bootstrapValues[k] == (terminates ? 0 : v[b]))
            #expect(v[b] != 0)
        }
        // and GAE uses it: A = r + γ·bootstrap − V at the last step of the episode
        buffer.computeAdvantages(lastValues: core.values(observations), gamma: 0.9, lambda: 0.95)
        for b in 0..<2 {
            let k = 4 + b
            let expected = buffer.rewards[k] + (terminates ? 0 : 0.9 * v[b]) - buffer.values[k]
            #expect(abs(buffer.advantages[k] - expected) < 1e-6)
        }
    }
}

@Test func dqnReplayBootstrapsTruncationNotTermination() throws {
    for terminates in [false, true] {
        let env = CountdownEnv(length: 3, terminates: terminates)
        var c = DQNConfig()
        c.encoder = tinyEncoder; c.nStep = 2; c.gamma = 0.5; c.learningStarts = 1_000; c.bufferSize = 64
        let agent = DQNAgent(c, spec: AgentSpec(of: env), seed: 1)
        agent.train(env: env, steps: 3, seed: 0) { _ in }
        let r = agent.replay
        #expect(r.count == 3)
        // entry 0: 1 + 0.5·1 from bar 4 (2 steps later), discount 0.25; entries 1, 2 end at the final bar 5.
        #expect(r.bars[0...2] == [2, 3, 4] && r.nextBars[0...2] == [4, 5, 5] && r.rewards[0...2] == [1.5, 1.5, 1])
        #expect(r.discounts[0] == 0.25)
        #expect(r.discounts[1...2] == (terminates ? [0, 0] : [0.25, 0.5]))
        // the next extras are those of the final observation (count 3 → 0.3)
        #expect(abs(r.nextExtras[2] - 0.3) < 1e-7)
    }
}

@Test func continuousPoliciesActInsideTheirConstraints() throws {
    setBLASThreads(1)
    let env = try weightsMarket()
    let spec = AgentSpec(of: env)
    #expect(spec.discreteActions == 0 && spec.continuousActions == 3 && spec.extras == 3)
    for mode in LogStdMode.allCases {
        var c = PPOConfig()
        c.encoder = tinyEncoder; c.numEnvs = 2; c.nSteps = 8; c.minibatchSize = 8; c.epochs = 1
        c.continuous.squash = .softmax; c.continuous.logStd = mode
        let agent = PPOAgent(c, spec: spec, seed: 1)
        let before = agent.core.logStd
        agent.train(env: env, steps: 32, seed: 1) { _ in }
        if mode == .stateIndependent { #expect(agent.core.logStd != before && before == [-0.5, -0.5, -0.5]) }
        var e = env
        let o = e.reset(seed: 0)
        for deterministic in [true, false] {
            guard case .continuous(let w) = agent.act(o, deterministic: deterministic) else {
                Issue.record("not continuous"); continue
            }
            #expect(w.count == 3 && w.allSatisfy { $0 > 0 } && abs(w.reduce(0, +) - 1) < 1e-9)
        }
    }
}

@Test func gaussianLogProbGradientMatchesFiniteDifference() throws {
    // ∂ log π / ∂ μ and ∂ log π / ∂ log σ of the learned-std Gaussian, against central differences on the outputs.
    let spec = AgentSpec(window: 2, features: 1, extras: 0, discreteActions: 0, continuousActions: 2)
    var cp = ContinuousPolicyConfig(); cp.logStd = .learned
    var rng = Xoshiro256(seed: 2)
    let core = ActorCritic(spec: spec, encoder: tinyEncoder, continuous: cp, learningRate: 1e-3, using: &rng)
    let ws = core.workspaces(batch: 1)
    let out = ws.outputs[0].pointer
    let values: [Float] = [0.3, -0.2, -0.4, 0.1]
    for j in 0..<4 { out[j] = values[j] }
    let action: [Float] = [0.9, -1.1]
    ws.dOutputs[0].zero()
    let terms = action.withUnsafeBufferPointer { core.terms(ws, 0, $0.baseAddress!) }
    action.withUnsafeBufferPointer { core.addPolicyGradients(ws, 0, $0.baseAddress!, terms, logProb: 1, entropy: 0) }
    for j in 0..<4 {
        let h: Float = 1e-2
        out[j] = values[j] + h
        let up = action.withUnsafeBufferPointer { core.logProb(ws, 0, $0.baseAddress!) }
        out[j] = values[j] - h
        let down = action.withUnsafeBufferPointer { core.logProb(ws, 0, $0.baseAddress!) }
        out[j] = values[j]
        #expect(abs((up - down) / (2 * h) - ws.dOutputs[0][j]) < 2e-3, "output \(j)")
    }
    // entropy of a Gaussian: Σ log σ + ½ log(2πe)
    #expect(abs(Double(terms.entropy) - (-0.4 + 0.1 + log(2 * Double.pi * exp(1.0)))) < 1e-5)
    #expect(terms.logProb == action.withUnsafeBufferPointer { core.logProb(ws, 0, $0.baseAddress!) })
}

@Test func categoricalPolicyGradientsMatchFiniteDifferences() throws {
    // c_π · ∂ log π(a) / ∂ logits + c_H · ∂ H / ∂ logits from one call, against central differences of the same
    // combination of `terms`; without c_π only the entropy's part.
    let spec = AgentSpec(window: 2, features: 1, extras: 0, discreteActions: 3, continuousActions: 0)
    var rng = Xoshiro256(seed: 3)
    let core = ActorCritic(
        spec: spec, encoder: tinyEncoder, continuous: ContinuousPolicyConfig(), learningRate: 1e-3, using: &rng)
    let ws = core.workspaces(batch: 2)
    let out = ws.outputs[0].pointer
    let logits: [Float] = [0.9, -0.3, 0.2, 0.5, -1.2, 0.4]  // rows 0 and 1
    for j in 0..<6 { out[j] = logits[j] }
    let action: [Float] = [2]
    for cPi: Float? in [0.7, nil] {
        let cH: Float = -0.4
        ws.dOutputs[0].zero()
        let terms = action.withUnsafeBufferPointer { core.terms(ws, 1, $0.baseAddress!) }
        action.withUnsafeBufferPointer {
            core.addPolicyGradients(ws, 1, $0.baseAddress!, terms, logProb: cPi, entropy: cH)
        }
        func loss() -> Float {
            let t = action.withUnsafeBufferPointer { core.terms(ws, 1, $0.baseAddress!) }
            return (cPi ?? 0) * t.logProb + cH * t.entropy
        }
        for j in 0..<3 {
            #expect(ws.dOutputs[0][j] == 0, "row 0 untouched")
            let h: Float = 1e-2
            out[3 + j] = logits[3 + j] + h
            let up = loss()
            out[3 + j] = logits[3 + j] - h
            let down = loss()
            out[3 + j] = logits[3 + j]
            #expect(
                abs((up - down) / (2 * h) - ws.dOutputs[0][3 + j]) < 2e-3, "logit \(j), c_π \(String(describing: cPi))")
        }
    }
}

@Test func configsRoundTripAndShippedYAMLNamesOnlyTheirFields() throws {
    for algo in Algorithm.allCases {
        let config = AgentConfig.defaults(algo)
        let data = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(AgentConfig.self, from: data) == config)
        let keys = Set((try JSONSerialization.jsonObject(with: data) as! [String: Any]).keys)
        #expect(keys.contains("algo"))
        // agents/<algo>-lstm.yaml: every top-level key is a field and it names its algorithm
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("agents/\(algo.rawValue)-lstm.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        var top: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix(" ") && !line.hasPrefix("#") && line.contains(":")
        {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            top[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        #expect(
            Set(top.keys).isSubset(of: keys),
            "\(url.lastPathComponent): unknown keys \(Set(top.keys).subtracting(keys))")
        #expect(top["algo"] == algo.rawValue)
    }
    var wrong = PPOConfig(); wrong.algo = .dqn
    #expect(throws: AgentConfigError.self) { try wrong.validate() }
}

@Test func encoderMistakesAreConfigErrors() throws {
    var frozen = tinyEncoder
    frozen.freeze = true
    #expect(throws: AgentConfigError.self) { try frozen.validate() }
    frozen.from = "pretrain"
    try frozen.validate()

    let env = try smallMarket(), spec = AgentSpec(of: env)
    let agent = makeAgent(tinyConfig(.a2c), spec: spec, seed: 1)
    var rng = Xoshiro256(seed: 2)
    var wider = tinyEncoder
    wider.hidden += 1
    let head = [HeadSpec("head", .linear(outputs: 1))]
    let mismatched = wider.network(inputWidth: spec.inputWidth, window: spec.window, heads: head, using: &rng)
    #expect(throws: AgentConfigError.self) { try agent.loadEncoder(from: mismatched) }
    let matching = tinyEncoder.network(inputWidth: spec.inputWidth, window: spec.window, heads: head, using: &rng)
    try agent.loadEncoder(from: matching)
    let net = agent.networks[0], encoder = net.encoderParameters
    #expect(Array(net.parameters[encoder]) == Array(matching.parameters[encoder]))
}

@Test func dqnPrioritizedReplayUpdatesPrioritiesAndPolyakMovesTheTarget() throws {
    setBLASThreads(1)
    let env = try smallMarket()
    guard case .dqn(var c) = tinyConfig(.dqn) else { return }
    c.prioritizedReplay = true
    c.tau = 0.25
    c.targetUpdateInterval = 1_000_000
    let agent = DQNAgent(c, spec: AgentSpec(of: env), seed: 1)
    agent.train(env: env, steps: 60, seed: 2) { _ in }
    // every stored slot has a priority; the sampled ones were reset from their TD errors (not all equal to the max)
    let stored = (0..<agent.replay.count).map { agent.prioritized.tree.priority($0) }
    #expect(stored.allSatisfy { $0 > 0 } && Set(stored).count > 1)
    #expect(abs(agent.prioritized.tree.total - stored.reduce(0, +)) < 1e-9 * agent.prioritized.tree.total)
    // Polyak: θ⁻ ← τθ + (1 − τ)θ⁻
    let online = agent.online.parameters, before = agent.target.parameters
    #expect(online != before)
    agent.syncTarget()
    for i in stride(from: 0, to: online.count, by: 97) {
        #expect(agent.target.parameters[i] == 0.25 * online[i] + 0.75 * before[i])
    }
}

/// The target values DQN keeps between writes of the target network change no bit of a run: the same parameters as a
/// run that evaluates every sampled row, with a replay small enough to be overwritten many times between two syncs,
/// hard syncs and Polyak steps, uniform and prioritized sampling, on one thread and two; and they spare most rows.
@Test(arguments: [(tau: 1.0, prioritized: false, threads: 1), (0.5, true, 2), (1.0, false, 2)])
func dqnKeptTargetValuesChangeNoBit(_ c: (tau: Double, prioritized: Bool, threads: Int)) throws {
    setBLASThreads(c.threads)
    let env = try smallMarket()
    guard case .dqn(var config) = tinyConfig(.dqn) else { return }
    config.bufferSize = 40
    config.tau = c.tau
    config.prioritizedReplay = c.prioritized
    config.targetUpdateInterval = 30
    func run(keeping: Bool) -> DQNAgent {
        let agent = DQNAgent(config, spec: AgentSpec(of: env), seed: 3)
        agent.keepsTargetValues = keeping
        agent.train(env: env, steps: 400, seed: 4) { _ in }
        return agent
    }
    let kept = run(keeping: true), all = run(keeping: false)
    let same = parameters(kept) == parameters(all)
    #expect(same)
    #expect(all.targetRowsEvaluated == all.updatesDone * config.batchSize && all.updatesDone > 150)
    #expect(kept.targetRowsEvaluated < all.targetRowsEvaluated / 2)
}

@Test func dqnEpisodeEventsCarryReturnsLengthsAndFinalInfo() throws {
    let env = try marketEnv(sinePanel(bars: 30), bars: 0..<30, window: 4)
    guard case .dqn(let c) = tinyConfig(.dqn) else { return }
    let agent = DQNAgent(c, spec: AgentSpec(of: env), seed: 1)
    var episodes: [EpisodeEnd<StepInfo>] = []
    var updates: [[String: Double]] = []
    agent.train(env: env, steps: 52, seed: 0) { event in
        switch event {
        case .episode(let e): episodes.append(e)
        case .update(_, let m): updates.append(m)
        case .step: break
        }
    }
    // whole-split episodes: decisions at bars 3 … 28, 26 steps, truncated when the data runs out
    #expect(episodes.count == 2 && episodes.allSatisfy { $0.length == 26 && !$0.terminated && $0.info.bar == 29 })
    #expect(episodes.allSatisfy { abs($0.episodeReturn - log($0.info.equity / 1_000)) < 1e-9 })
    #expect(
        !updates.isEmpty
            && updates.allSatisfy { $0["losses/td"] != nil && $0["charts/epsilon"] != nil && $0["charts/sps"] != nil })
}

/// A config of each algorithm with one count beyond its `AgentLimits` bound, and the error line it gives.
let agentsBeyondTheirLimits: [(AgentConfig, String)] = {
    var dqn = DQNConfig(), ppo = PPOConfig(), a2c = A2CConfig(), reinforce = ReinforceConfig()
    dqn.numEnvs = 100_000_000
    ppo.nSteps = 1_000_000
    a2c.numEnvs = .max
    reinforce.encoder.layers = 100_000
    var wide = DQNConfig(), deep = PPOConfig(), minibatch = PPOConfig(), nStep = DQNConfig(), epochs = PPOConfig()
    wide.encoder.hidden = 10_000_000
    deep.encoder.embedding = 100_000_000
    minibatch.minibatchSize = 1_000_000
    nStep.nStep = 100_000_000
    epochs.epochs = 1_000_000_000
    return [
        (.dqn(dqn), "numEnvs must be at most 1024, not 100000000"),
        (.ppo(ppo), "numEnvs × nSteps (the rollout) must be at most 1048576, not 8 × 1000000"),
        (.a2c(a2c), "numEnvs must be at most 1024, not \(Int.max)"),
        (.reinforce(reinforce), "encoder.layers must be at most 16, not 100000"),
        (.dqn(wide), "encoder.hidden must be at most 4096, not 10000000"),
        (.ppo(deep), "encoder.embedding must be at most 4096, not 100000000"),
        (.ppo(minibatch), "minibatchSize must be at most 65536, not 1000000"),
        (.dqn(nStep), "nStep must be at most 1000, not 100000000"),
        (.ppo(epochs), "epochs must be at most 1000, not 1000000000"),
    ]
}()

@Test(arguments: agentsBeyondTheirLimits.indices)
func countsBeyondTheirLimitsAreConfigErrors(_ i: Int) {
    let (config, message) = agentsBeyondTheirLimits[i]
    do {
        try config.validate()
        Issue.record("expected: \(message)")
    } catch {
        #expect("\(error)" == message)
    }
}

@Test func encodersLargerThanMemoryAreRefusedBeforeAllocating() throws {
    let spec = AgentSpec(window: 32, features: 5, extras: 1, discreteActions: 3, continuousActions: 0)
    try AgentConfig.defaults(.ppo).checkMemory(for: spec)
    // Each size within its bound, together petabytes: more than any machine has.
    var huge = DQNConfig()
    (huge.encoder.embedding, huge.encoder.hidden, huge.encoder.layers) = (4_096, 4_096, 16)
    huge.batchSize = AgentLimits.batch
    try AgentConfig.dqn(huge).validate()
    do {
        try AgentConfig.dqn(huge).checkMemory(for: spec)
        Issue.record("expected a memory error")
    } catch {
        #expect("\(error)".hasPrefix("encoder lstm with embedding 4096, hidden 4096 and 16 layers needs at least "))
        #expect("\(error)".contains("for 6 inputs a bar over windows of 32 bars in batches of 65536, more than this"))
    }
    // The estimate is a lower bound: the weights, their gradients and Adam's moments of the network as built.
    var rng = Xoshiro256(seed: 1)
    let net = tinyEncoder.network(inputWidth: 6, window: 8, heads: [HeadSpec("q", .linear(outputs: 3))], using: &rng)
    #expect(tinyEncoder.minimumBytes(inputWidth: 6, window: 8, batch: 0) <= Double(16 * net.parameters.count))
}
