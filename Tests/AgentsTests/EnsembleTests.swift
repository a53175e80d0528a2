import Foundation
import NeuralCore
import RLCore
import Testing

@testable import Agents
@testable import TradingEnv

// Ensembles: N identical members act exactly as the member; different members act on the mean of their Q-values,
// probabilities or Gaussian means, checked against the networks' raw outputs; mismatched members are refused.

/// `tinyConfig(algo)` with a Gaussian policy's squash and log-std mode.
func tinyConfig(_ algo: Algorithm, squash: ContinuousSquash, logStd: LogStdMode = .stateIndependent) -> AgentConfig {
    var policy = ContinuousPolicyConfig()
    policy.squash = squash; policy.logStd = logStd
    switch tinyConfig(algo) {
    case .dqn: preconditionFailure("DQN has no continuous policy")
    case .reinforce(var c): c.continuous = policy; return .reinforce(c)
    case .a2c(var c): c.continuous = policy; return .a2c(c)
    case .ppo(var c): c.continuous = policy; return .ppo(c)
    }
}

/// `count` observations of episodes of `env` (reset with seeds 0, 1, …) under actions that cycle through the
/// discrete indices, or continuous vectors that turn, so the portfolio extras vary too.
func observations(_ env: MarketEnv, count: Int) -> [MarketObservation] {
    var e = env, episode: UInt64 = 0, t = 0
    var out = [e.reset(seed: 0)]
    while out.count < count {
        let x = Double(t)
        let a =
            e.discreteActionCount > 0
            ? e.action(index: t % e.discreteActionCount)
            : e.action(continuous: [sin(x), cos(x), 0.3])
        let s = e.step(a)
        t += 1
        if s.done { episode += 1; out.append(e.reset(seed: episode)) } else { out.append(s.observation) }
    }
    return out
}

/// Head 0 of `net` for one observation (Q-values, logits, or means then log-stds), by a forward of its own.
func headOutputs(_ net: EncoderNetwork, _ o: MarketObservation, spec: AgentSpec) -> [Double] {
    let ws = net.makeWorkspace(batch: 1, time: spec.window)
    var scratch: [Float] = []
    fillInput(ws, observations: [o], spec: spec, scratch: &scratch)
    net.forward(ws)
    return (0..<ws.outputs[0].count).map { Double(ws.outputs[0][$0]) }
}

/// A fresh agent of `config` with the weights and state of `trained` (saved, then loaded).
func reloaded(_ trained: any Agent, config: AgentConfig, seed: UInt64) throws -> any Agent {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ensemble-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    try trained.save(to: dir)
    let agent = makeAgent(config, spec: trained.spec, seed: seed)
    try agent.load(from: dir)
    return agent
}

/// The kinds of policy an ensemble averages: config, environment, and a seed and training steps after which the
/// tiny discrete agents' greedy action is not constant over `observations(env, count: 80)`.
func ensembleCases() throws -> [(config: AgentConfig, env: MarketEnv, seed: UInt64, steps: Int)] {
    let discrete = try smallMarket(), weights = try weightsMarket(randomEpisodes: 20)
    return [
        (tinyConfig(.dqn), discrete, 4, 60), (tinyConfig(.ppo), discrete, 8, 200),
        (tinyConfig(.a2c, squash: .softmax), weights, 3, 60), (tinyConfig(.ppo, squash: .none), weights, 3, 60),
        (tinyConfig(.reinforce, squash: .tanh, logStd: .learned), weights, 3, 60),
    ]
}

@Test func anEnsembleOfIdenticalMembersEqualsThatMember() throws {
    setBLASThreads(1)
    for (config, env, seed, steps) in try ensembleCases() {
        let spec = AgentSpec(of: env)
        let member = makeAgent(config, spec: spec, seed: seed)
        member.train(env: env, steps: steps, seed: 1) { _ in }
        let copies = try (0..<3).map { try reloaded(member, config: config, seed: 10 + UInt64($0)) }
        let ensemble = try EnsembleAgent(members: copies)
        #expect(ensemble.scoreKind == member.scoreKind && ensemble.spec == spec)
        #expect(ensemble.algorithm == member.algorithm)
        var greedy: [AgentAction] = []
        for o in observations(env, count: 80) {
            let action = member.act(o, deterministic: true), scores = member.actionScores(o)
            // the scores describe the member's own greedy choice, and the ensemble's mean of three copies is exact
            #expect(member.scoreKind.greedyAction(scores) == action)
            #expect(ensemble.actionScores(o) == scores)
            #expect(ensemble.act(o, deterministic: true) == action, "\(config.algorithm) at bar \(o.bar)")
            greedy.append(action)
        }
        #expect(Set(greedy.map { "\($0)" }).count > 1, "\(config.algorithm): the member's greedy action never changes")
        #expect(ensemble.stepsDone == member.stepsDone && ensemble.updatesDone == member.updatesDone)
    }
}

@Test func anEnsembleOfTwoMembersAveragesTheirScores() throws {
    setBLASThreads(1)
    for (config, env, _, _) in try ensembleCases() {
        let spec = AgentSpec(of: env)
        let members = (0..<2).map { makeAgent(config, spec: spec, seed: 20 + UInt64($0)) }
        members[1].train(env: env, steps: 40, seed: 2) { _ in }
        let ensemble = try EnsembleAgent(members: members)
        var disagreements = 0
        for o in observations(env, count: 60) {
            let raw = members.map { headOutputs($0.networks[0], o, spec: spec) }
            let actual = ensemble.actionScores(o), action = ensemble.act(o, deterministic: true)
            switch config {
            case .dqn:
                // the mean Q-values; the action is their argmax
                let q = (0..<3).map { (raw[0][$0] + raw[1][$0]) / 2 }
                #expect(zip(actual, q).allSatisfy { abs($0 - $1) < 1e-12 })
                #expect(action == .index(q.indices.max { q[$0] < q[$1] }!))
            case _ where spec.discreteActions > 0:
                // the mean probabilities (not the mean logits); the action is their argmax
                let p = raw.map { logits in
                    let e = logits.map { exp($0 - logits.max()!) }
                    return e.map { $0 / e.reduce(0, +) }
                }
                let mean = (0..<3).map { (p[0][$0] + p[1][$0]) / 2 }
                #expect(zip(actual, mean).allSatisfy { abs($0 - $1) < 1e-12 } && abs(actual.reduce(0, +) - 1) < 1e-12)
                #expect(action == .index(mean.indices.max { mean[$0] < mean[$1] }!))
            default:
                // the mean of the means (the first A outputs), then the members' squash
                let mu = (0..<3).map { (raw[0][$0] + raw[1][$0]) / 2 }
                #expect(zip(actual, mu).allSatisfy { abs($0 - $1) < 1e-12 })
                guard case .means(let squash) = ensemble.scoreKind, case .continuous(let w) = action else {
                    Issue.record("not a Gaussian ensemble"); continue
                }
                let expected: [Double]
                switch squash {
                case .none: expected = mu
                case .tanh: expected = mu.map(tanh)
                case .softmax: expected = mu.map { exp($0) / mu.map(exp).reduce(0, +) }
                }
                #expect(zip(w, expected).allSatisfy { abs($0 - $1) < 1e-12 })
            }
            if members.map({ $0.act(o, deterministic: true) }).contains(where: { $0 != action }) { disagreements += 1 }
        }
        // the two members differ, so the mean is not just one of them
        #expect(disagreements > 0, "\(config.algorithm): the ensemble always acts as both members")
        #expect(ensemble.stepsDone == members[1].stepsDone && ensemble.stepsDone > 0)
        #expect(ensemble.networks.count == members[0].networks.count * 2)
    }
}

@Test func mismatchedMembersAreRefused() throws {
    let discrete = try smallMarket(), wider = try smallMarket(window: 5)
    let weights = try weightsMarket(randomEpisodes: 20)
    func agent(_ config: AgentConfig, _ env: MarketEnv) -> any Agent {
        makeAgent(config, spec: AgentSpec(of: env), seed: 1)
    }
    func refusal(_ members: [any Agent]) -> String? {
        do { _ = try EnsembleAgent(members: members); return nil } catch let error as EnsembleError {
            return error.description
        } catch { return "\(error)" }
    }
    let ppo = agent(tinyConfig(.ppo), discrete)
    #expect(refusal([]) == "an ensemble needs at least one member")
    #expect(
        refusal([ppo, agent(tinyConfig(.dqn), discrete)])
            == "ensemble member 1 (dqn) acts on Q-values, member 0 (ppo) on action probabilities")
    let shapes = refusal([ppo, ppo, agent(tinyConfig(.ppo), wider)]) ?? ""
    #expect(shapes.hasPrefix("ensemble member 2 is made for AgentSpec(window: 5") && shapes.contains("member 0 for"))
    let actions = refusal([ppo, agent(tinyConfig(.ppo, squash: .softmax), weights)]) ?? ""
    #expect(actions.hasPrefix("ensemble member 1 is made for") && actions.contains("continuousActions: 3"))
    let softmaxPPO = agent(tinyConfig(.ppo, squash: .softmax), weights)
    #expect(
        refusal([softmaxPPO, agent(tinyConfig(.a2c, squash: .tanh), weights)])
            == "ensemble member 1 (a2c) acts on Gaussian means (squash tanh), "
            + "member 0 (ppo) on Gaussian means (squash softmax)")
    // categorical policies of different algorithms share their kind of scores
    let mixed = try EnsembleAgent(members: [ppo, agent(tinyConfig(.a2c), discrete)])
    #expect(mixed.algorithm == .ppo && mixed.scoreKind == .probabilities)
    // an ensemble has no checkpoint of its own
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ensemble-\(UUID().uuidString)")
    #expect(throws: EnsembleError.self) { try mixed.save(to: dir) }
    #expect(throws: EnsembleError.self) { try mixed.load(from: dir) }
    #expect(!FileManager.default.fileExists(atPath: dir.path))
}

@Test func anEnsembleIsNeitherTrainedNorStochastic() async {
    // each call stops the process with its precondition's message
    let training = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        let env = try! smallMarket()
        let ensemble = try! EnsembleAgent(members: [makeAgent(tinyConfig(.ppo), spec: AgentSpec(of: env), seed: 1)])
        ensemble.train(env: env, steps: 10, seed: 0) { _ in }
    }
    let trainingMessage = String(decoding: training?.standardErrorContent ?? [], as: UTF8.self)
    #expect(trainingMessage.contains("an ensemble is not trained: train its members"))
    let sampling = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var env = try! smallMarket()
        let ensemble = try! EnsembleAgent(members: [makeAgent(tinyConfig(.ppo), spec: AgentSpec(of: env), seed: 1)])
        _ = ensemble.act(env.reset(seed: 0), deterministic: false)
    }
    let samplingMessage = String(decoding: sampling?.standardErrorContent ?? [], as: UTF8.self)
    #expect(samplingMessage.contains("an ensemble acts only greedily"))
}
