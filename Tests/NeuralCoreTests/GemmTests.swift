import RLCore
import Testing

@testable import NeuralCore

/// `gemm` on the packed kernels against the reference loop, every operand transposed or not, c written or accumulated,
/// with shapes that leave a partial panel and a partial row block.
@Test(arguments: [(false, false), (true, false), (false, true), (true, true)], [false, true])
func gemmMatchesReferenceLoop(transposes: (a: Bool, b: Bool), accumulate: Bool) {
    let (transA, transB) = transposes
    var rng = Xoshiro256(seed: 7)
    for (m, n, k) in [(5, 7, 3), (1, 20, 9), (29, 33, 17)] {
        let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
        let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &rng) }
        let c0 = (0..<(m * n)).map { _ in Float.random(in: -1...1, using: &rng) }
        var fast = c0, slow = c0
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, b: b, accumulate: accumulate, c: &fast)
        referenceGemm(
            transA: transA, transB: transB, m: m, n: n, k: k, a: a, b: b, beta: accumulate ? 1 : 0, c: &slow)
        for (x, y) in zip(fast, slow) { #expect(abs(x - y) < 1e-5, "m \(m) n \(n) k \(k)") }
    }
}
