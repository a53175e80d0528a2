import Foundation
import RLCore
import Testing

@testable import NeuralCore

/// The usage in EncoderNetwork's doc comment, end to end: a dueling Q-head and a value head learn a task that needs
/// memory (the sign of the FIRST bar's feature 0 decides the target), and a batch-1 workspace acts with the result.
@Test func documentedTrainingLoopLearnsATaskThatNeedsMemory() {
    setBLASThreads(2)
    var rng = Xoshiro256(seed: 31)
    let F = 3, T = 6, B = 16, A = 2
    let net = EncoderNetwork(
        .init(
            features: F, embedding: 8, hidden: 12, layers: 2,
            heads: [HeadSpec("q", .dueling(actions: A)), HeadSpec("value", .linear(outputs: 1))]),
        using: &rng)
    var adam = Adam(parameterCount: net.parameters.count, .init(learningRate: 1e-2))
    let train = net.makeWorkspace(batch: B, time: T)
    var qTargets = [Float](repeating: 0, count: B * A), vTargets = [Float](repeating: 0, count: B)

    func fillBatch(_ ws: Workspace, qTargets: inout [Float], vTargets: inout [Float]) {
        for b in 0..<ws.batch {
            for i in 0..<(T * F) { ws.input[b * T * F + i] = Float.random(in: -1...1, using: &rng) }
            let sign: Float = ws.input[b * T * F] > 0 ? 1 : -1
            if b < vTargets.count { vTargets[b] = sign }
            if b * A + 1 < qTargets.count { qTargets[b * A] = sign; qTargets[b * A + 1] = -sign }
        }
    }
    var losses: [Float] = []
    for _ in 0..<300 {
        fillBatch(train, qTargets: &qTargets, vTargets: &vTargets)
        net.forward(train)
        let q = huberLoss(
            prediction: train.outputs[0].pointer, target: qTargets, count: B * A,
            dPrediction: train.dOutputs[0].pointer)
        let v = mseLoss(
            prediction: train.outputs[1].pointer, target: vTargets, count: B,
            dPrediction: train.dOutputs[1].pointer, scale: 0.5)
        net.zeroGradients()
        net.backward(train)
        net.clipGradients(maxNorm: 1)
        net.updateParameters { adam.update(&$0, gradients: net.gradients) }
        losses.append(q + 0.5 * v)
    }
    let early = losses.prefix(20).reduce(0, +) / 20, late = losses.suffix(20).reduce(0, +) / 20
    #expect(late < 0.2 * early, "loss \(early) → \(late)")

    // acting: batch 1, greedy action = argmax Q
    let act = net.makeWorkspace(batch: 1, time: T)
    var correct = 0
    var q1 = [Float](repeating: 0, count: A), v1 = [Float](repeating: 0, count: 1)
    for _ in 0..<50 {
        fillBatch(act, qTargets: &q1, vTargets: &v1)
        net.forward(act)
        let greedy = act.outputs[0][0] > act.outputs[0][1] ? 0 : 1
        if greedy == (v1[0] > 0 ? 0 : 1) { correct += 1 }
    }
    #expect(correct >= 45, "\(correct)/50 greedy actions right")
}
