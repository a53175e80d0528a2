import Foundation
import NeuralCore
import RLCore
import Testing

@testable import Agents

@Test func gaeMatchesHandComputation() {
    // Two environments, time-major (entry t·2 + b). γ = 0.9, λ = 0.8, so γλ = 0.72.
    // env 0: terminates at t = 1; env 1: is truncated at t = 1 with V(final observation) = 10.
    let rewards: [Float] = [1, 1, 2, 2, 3, 3, 4, 4]
    let values: [Float] = [0.5, 0.5, 0.4, 0.4, 0.3, 0.3, 0.2, 0.2]
    let terminated = [false, false, true, false, false, false, false, false]
    let truncated = [false, false, false, true, false, false, false, false]
    let bootstrap: [Float] = [0, 0, 0, 10, 0, 0, 0, 0]
    let a = generalizedAdvantageEstimates(
        rewards: rewards, values: values, terminated: terminated, truncated: truncated,
        bootstrapValues: bootstrap, lastValues: [0.7, 0.7], envs: 2, gamma: 0.9, lambda: 0.8)
    // t=3: δ = 4 + 0.9·0.7 − 0.2 = 4.43                      A = 4.43
    // t=2: δ = 3 + 0.9·0.2 − 0.3 = 2.88                      A = 2.88 + 0.72·4.43 = 6.0696
    // env 0, t=1 terminated: δ = 2 − 0.4 = 1.6               A = 1.6 (no bootstrap, recursion cut)
    // env 1, t=1 truncated:  δ = 2 + 0.9·10 − 0.4 = 10.6     A = 10.6 (bootstrap from the final obs, recursion cut)
    // t=0: δ = 1 + 0.9·0.4 − 0.5 = 0.86                      A = 0.86 + 0.72·A₁
    let expected: [Float] = [0.86 + 0.72 * 1.6, 0.86 + 0.72 * 10.6, 1.6, 10.6, 6.0696, 6.0696, 4.43, 4.43]
    for k in 0..<8 { #expect(abs(a[k] - expected[k]) < 1e-5, "entry \(k): \(a[k]) vs \(expected[k])") }

    // λ = 1 is the discounted Monte Carlo return minus V: env 0 from t = 0: 1 + 0.9·2 − 0.5.
    let mc = generalizedAdvantageEstimates(
        rewards: rewards, values: values, terminated: terminated, truncated: truncated,
        bootstrapValues: bootstrap, lastValues: [0.7, 0.7], envs: 2, gamma: 0.9, lambda: 1)
    #expect(abs(mc[0] - (1 + 0.9 * 2 - 0.5)) < 1e-5)
    #expect(abs(mc[1] - (1 + 0.9 * 2 + 0.81 * 10 - 0.5)) < 1e-5)

    var buffer = RolloutBuffer(envs: 2, extrasWidth: 0, actionWidth: 1)
    buffer.rewards = rewards; buffer.values = values; buffer.terminated = terminated; buffer.truncated = truncated
    buffer.bootstrapValues = bootstrap
    buffer.computeAdvantages(lastValues: [0.7, 0.7], gamma: 0.9, lambda: 0.8)
    for k in 0..<8 { #expect(abs(buffer.returns[k] - (expected[k] + values[k])) < 1e-5) }
}

@Test(arguments: [false, true])
func nStepTargetsMatchHandComputation(terminates: Bool) {
    // n = 3, γ = 0.5, one extra per state; states are bars 10, 11, 12, 13, the episode ends on the 4th step at bar 14.
    var buffer = ReplayBuffer(capacity: 16, extrasWidth: 1)
    var acc = NStepAccumulator(n: 3, gamma: 0.5, extrasWidth: 1)
    let rewards: [Float] = [1, 2, 4, 8]
    var written: [Int] = []
    for i in 0..<4 {
        let last = i == 3
        written.append(
            acc.push(
                bar: 10 + i, extras: [Float(i)][...], action: i % 2, reward: rewards[i],
                terminated: last && terminates, truncated: last && !terminates,
                nextBar: 11 + i, nextExtras: [Float(i + 1)][...], into: &buffer))
    }
    #expect(written == [0, 0, 1, 3])
    #expect(buffer.count == 4)
    // s0: 1 + 0.5·2 + 0.25·4 = 3, bootstrap γ³ = 0.125 from bar 13 (three steps later)
    #expect(buffer.bars[0] == 10 && buffer.rewards[0] == 3 && buffer.discounts[0] == 0.125 && buffer.nextBars[0] == 13)
    #expect(buffer.nextExtras[0] == 3 && buffer.actions[0] == 0)
    // then the episode ends at bar 14: s1: 2 + 0.5·4 + 0.25·8 = 6; s2: 4 + 0.5·8 = 8; s3: 8.
    #expect(buffer.rewards[1...3] == [6, 8, 8])
    #expect(buffer.nextBars[1...3] == [14, 14, 14])
    #expect(buffer.extras[1...3] == [1, 2, 3])
    if terminates {
        #expect(buffer.discounts[1...3] == [0, 0, 0])  // no bootstrap through a termination
        #expect(buffer.terminated[1...3] == [true, true, true])
    } else {
        #expect(buffer.discounts[1...3] == [0.125, 0.25, 0.5])  // bootstrap through truncation, γ^m
        #expect(buffer.truncated[1...3] == [true, true, true])
    }
    #expect(acc.pending == 0)
}

@Test func oneStepAccumulatorIsPlainTD() {
    var buffer = ReplayBuffer(capacity: 4, extrasWidth: 0)
    var acc = NStepAccumulator(n: 1, gamma: 0.9, extrasWidth: 0)
    acc.push(
        bar: 5, extras: [][...], action: 1, reward: 2, terminated: false, truncated: false, nextBar: 6,
        nextExtras: [][...], into: &buffer)
    #expect(
        buffer.count == 1 && buffer.rewards[0] == 2 && abs(buffer.discounts[0] - 0.9) < 1e-7 && buffer.nextBars[0] == 6)
}

@Test func replayRingOverwritesOldest() {
    var buffer = ReplayBuffer(capacity: 3, extrasWidth: 0)
    for i in 0..<5 {
        buffer.add(
            bar: i, extras: [][...], action: 0, reward: Float(i), discount: 1, nextBar: i + 1, nextExtras: [][...],
            terminated: false, truncated: false)
    }
    #expect(buffer.count == 3 && buffer.cursor == 2)
    #expect(buffer.bars == [3, 4, 2])
}

@Test func sumTreeFindsPrefixesAndSamplesProportionally() {
    var tree = SumTree(capacity: 5)
    let p: [Double] = [1, 2, 3, 4, 0]
    for i in p.indices { tree.update(i, priority: p[i]) }
    #expect(tree.total == 10 && tree.minimum == 0)
    #expect(tree.find(prefix: 0) == 0 && tree.find(prefix: 0.99) == 0)
    #expect(tree.find(prefix: 1) == 1 && tree.find(prefix: 2.99) == 1)
    #expect(tree.find(prefix: 3) == 2 && tree.find(prefix: 5.99) == 2)
    #expect(tree.find(prefix: 6) == 3 && tree.find(prefix: 9.999) == 3)

    var rng = Xoshiro256(seed: 3)
    var counts = [Int](repeating: 0, count: 5)
    let n = 200_000
    for _ in 0..<n { counts[tree.find(prefix: Double.random(in: 0..<tree.total, using: &rng))] += 1 }
    for i in 0..<5 {
        let expected = p[i] / 10
        #expect(abs(Double(counts[i]) / Double(n) - expected) < 0.005, "leaf \(i): \(counts[i])")
    }
    tree.update(2, priority: 0.5)
    #expect(tree.total == 7.5 && tree.find(prefix: 3.2) == 2 && tree.find(prefix: 3.5) == 3)
}

@Test func prioritizedSamplerWeightsMatchFormula() {
    var sampler = PrioritizedSampler(capacity: 4, alpha: 0.5, epsilon: 0)
    for (i, td) in [1.0, 4.0, 9.0, 16.0].enumerated() { sampler.added(i); sampler.update(i, tdError: td) }
    // priorities = √|δ| = 1, 2, 3, 4; total 10; P = 0.1 … 0.4; w = (4·P)^−β / max w, max w from the min priority.
    #expect(sampler.tree.total == 10)
    var rng = Xoshiro256(seed: 1)
    var slots = [Int](repeating: 0, count: 4), weights = [Float](repeating: 0, count: 4)
    sampler.sample(&slots, weights: &weights, stored: 4, beta: 0.5, using: &rng)
    // stratified segments of width 2.5: [0,2.5) → leaf 0 or 1, [2.5,5) → 1 or 2, [5,7.5) → 2 or 3, [7.5,10) → 3
    #expect(slots[3] == 3)
    for b in 0..<4 {
        let P = Double(slots[b] + 1) / 10
        let w = pow(4 * P, -0.5) / pow(4 * 0.1, -0.5)
        #expect(abs(Double(weights[b]) - w) < 1e-6)
    }
    #expect(sampler.maxPriority == 4)
}

@Test func schedulesForEpsilonAndBeta() {
    var c = DQNConfig()
    c.epsilonStart = 1; c.epsilonEnd = 0.1; c.epsilonSteps = 100
    #expect(c.epsilon(at: 0) == 1 && abs(c.epsilon(at: 50) - 0.55) < 1e-12 && c.epsilon(at: 1_000) == 0.1)
    c.epsilonSchedule = .exponential
    #expect(
        abs(c.epsilon(at: 50) - pow(0.1, 0.5)) < 1e-9 && abs(c.epsilon(at: 100) - 0.1) < 1e-9
            && c.epsilon(at: 500) == 0.1)
    c.priorityBetaStart = 0.4; c.priorityBetaSteps = 10
    #expect(abs(c.beta(at: 5) - 0.7) < 1e-12 && c.beta(at: 20) == 1)
}

/// A minibatch's input rows from stored entries, on one thread and split across two: row i is the window of T bars
/// ending at the picked entry's bar, each bar's F features followed by that entry's P extras.
@Test func minibatchInputRowsAreTheStoredWindows() {
    defer { setBLASThreads(1) }
    let T = 4, F = 3, P = 2
    let spec = AgentSpec(window: T, features: F, extras: P, discreteActions: 3, continuousActions: 0)
    let features = (0..<(20 * F)).map { Float($0) }  // bar b, feature j: 3b + j
    let bars = [3, 9, 12, 7, 19, 5, 11], rows = [4, 0, 6, 6, 2, 1]
    let extras = (0..<(bars.count * P)).map { Float(-1 - $0) }
    var rng = Xoshiro256(seed: 1)
    let net = EncoderNetwork(
        .init(features: F + P, embedding: 4, hidden: 4, layers: 1, heads: [HeadSpec("v", .linear(outputs: 1))]),
        using: &rng)
    var expected: [Float] = []
    for k in rows {
        for bar in (bars[k] - T + 1)...bars[k] {
            expected += (0..<F).map { Float(3 * bar + $0) } + (0..<P).map { Float(-1 - k * P - $0) }
        }
    }
    for threads in [1, 2] {
        setBLASThreads(threads)
        let ws = net.makeWorkspace(batch: rows.count, time: T)
        for i in 0..<ws.input.count { ws.input[i] = .nan }
        bars.withUnsafeBufferPointer { b in
            extras.withUnsafeBufferPointer { e in
                rows.withUnsafeBufferPointer { r in
                    fillInput(
                        ws, features: features, spec: spec, bars: b.baseAddress!, extras: e.baseAddress!,
                        rows: r.baseAddress!, count: rows.count)
                }
            }
        }
        #expect(ws.input.array == expected, "\(threads) thread(s)")
    }
}
