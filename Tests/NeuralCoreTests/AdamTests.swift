import Foundation
import RLCore
import Testing

@testable import NeuralCore

/// Adam over more parameters than `elementwiseSplitCount` (an odd count: shares of whole vectors and a scalar tail)
/// gives the same bits on one thread and on two as the plain scalar formula, with L2 and with decoupled decay.
@Test(arguments: [false, true])
func adamSplitAcrossThreadsMatchesTheScalarFormula(decoupled: Bool) {
    var rng = Xoshiro256(seed: 41)
    let n = elementwiseSplitCount * 2 + 13
    let start = randomFloats(n, using: &rng), gradients = (0..<3).map { _ in randomFloats(n, using: &rng) }
    let config = Adam.Configuration(learningRate: 1e-2, weightDecay: 0.1, decoupled: decoupled)
    func run(threads: Int) -> (p: [Float], m: [Float], v: [Float]) {
        setBLASThreads(threads)
        defer { setBLASThreads(2) }
        var adam = Adam(parameterCount: n, config), p = start
        for g in gradients { adam.update(&p, gradients: g) }
        return (p, adam.m, adam.v)
    }
    var p = start, m = [Float](repeating: 0, count: n), v = m
    for (t, g) in gradients.enumerated() {
        let c = config, step = Float(t + 1)
        let stepSize = c.learningRate / (1 - Foundation.pow(c.beta1, step))
        let bc2 = (1 - Foundation.pow(c.beta2, step)).squareRoot()
        for i in 0..<n {
            let grad = g[i] + (decoupled ? 0 : c.weightDecay) * p[i]
            p[i] *= decoupled ? 1 - c.learningRate * c.weightDecay : 1
            m[i] = c.beta1 * m[i] + (1 - c.beta1) * grad
            v[i] = c.beta2 * v[i] + (1 - c.beta2) * grad * grad
            p[i] -= stepSize * m[i] / (v[i].squareRoot() / bc2 + c.epsilon)
        }
    }
    for threads in [1, 2] {
        let fast = run(threads: threads)
        #expect(fast.p == p && fast.m == m && fast.v == v, "\(threads) threads")
    }
    #expect(p != start)
}
