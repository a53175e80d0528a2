import Testing
import RLCore
@testable import NeuralCore

@Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
func gemmMatchesReferenceLoop(transA: Bool, transB: Bool) {
    var rng = Xoshiro256(seed: 7)
    let m = 5, n = 7, k = 3
    let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
    let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &rng) }
    let c0 = (0..<(m * n)).map { _ in Float.random(in: -1...1, using: &rng) }
    var fast = c0, slow = c0
    gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, b: b, beta: 2, c: &fast)
    referenceGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, b: b, beta: 2, c: &slow)
    for (x, y) in zip(fast, slow) { #expect(abs(x - y) < 1e-5) }
}
