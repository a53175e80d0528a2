import RLCore
import Testing

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

@Test(arguments: [
    (false, false, 1), (true, false, 1), (false, true, 1), (true, true, 1),
    (false, false, 3), (true, false, 3), (false, true, 3), (true, true, 3),
])
func stridedGemmMatchesReferenceLoop(transA: Bool, transB: Bool, m: Int) {
    // every operand embedded in a wider buffer (leading dimension > packed), as one time step of a (B,T,·) sequence
    var rng = Xoshiro256(seed: 8)
    let n = 6, k = 4, pad = 3
    let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad
    let a = (0..<((transA ? k : m) * lda)).map { _ in Float.random(in: -1...1, using: &rng) }
    let b = (0..<((transB ? n : k) * ldb)).map { _ in Float.random(in: -1...1, using: &rng) }
    let c0 = (0..<(m * ldc)).map { _ in Float.random(in: -1...1, using: &rng) }
    var fast = c0, slow = c0
    gemm(
        transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, beta: 2, c: &fast,
        ldc: ldc)
    referenceGemm(
        transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, beta: 2, c: &slow,
        ldc: ldc)
    for (x, y) in zip(fast, slow) { #expect(abs(x - y) < 1e-5) }
}
