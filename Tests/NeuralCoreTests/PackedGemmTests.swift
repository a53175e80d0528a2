import Testing
import RLCore
@testable import NeuralCore

/// The LSTM's per-step kernel against the reference loop: every row-block path (6-, 5- and 4-row blocks, single rows),
/// full 4-panel groups, single panels and a partial last panel, strided rows, B stored plain or transposed, and both
/// c = a·B and c += a·B.
@Test(arguments: [(9, 70, 5), (4, 64, 7), (6, 16, 3), (1, 83, 4), (3, 5, 2), (32, 40, 6), (8, 20, 3)])
func packedGemmMatchesReferenceLoop(m: Int, n: Int, k: Int) {
    var rng = Xoshiro256(seed: 21)
    let lda = k + 3, ldc = n + 2
    let a = (0..<(m * lda)).map { _ in Float.random(in: -1...1, using: &rng) }
    let c0 = (0..<(m * ldc)).map { _ in Float.random(in: -1...1, using: &rng) }
    for transposed in [false, true] {
        let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &rng) }
        var packed = [Float](repeating: .nan, count: packedPanelsCount(k: k, n: n))
        packPanels(b, transposed: transposed, k: k, n: n, into: &packed)
        for accumulate in [false, true] {
            var fast = c0, slow = c0
            packedGemm(m: m, n: n, k: k, a: a, lda: lda, packed: packed, c: &fast, ldc: ldc, accumulate: accumulate)
            referenceGemm(transB: transposed, m: m, n: n, k: k, a: a, lda: lda, b: b, beta: accumulate ? 1 : 0, c: &slow, ldc: ldc)
            for i in 0..<m {
                for j in 0..<ldc {
                    // columns past n (the row padding) are never written
                    let expected = j < n ? slow[i * ldc + j] : c0[i * ldc + j]
                    #expect(abs(fast[i * ldc + j] - expected) < 1e-5, "m \(m) n \(n) k \(k) row \(i) col \(j)")
                }
            }
        }
    }
}

/// A row's result is the same bits whether it is computed in a 5-row block or alone (the LSTM relies on this for
/// batch-independent outputs).
@Test func packedGemmRowsDoNotDependOnTheirBlock() {
    var rng = Xoshiro256(seed: 22)
    let m = 5, n = 80, k = 37
    let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
    let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &rng) }
    var packed = [Float](repeating: 0, count: packedPanelsCount(k: k, n: n))
    packPanels(b, transposed: false, k: k, n: n, into: &packed)
    var all = [Float](repeating: 0, count: m * n)
    packedGemm(m: m, n: n, k: k, a: a, lda: k, packed: packed, c: &all, ldc: n, accumulate: false)
    for i in 0..<m {
        var one = [Float](repeating: 0, count: n)
        a.withUnsafeBufferPointer { a in
            packedGemm(m: 1, n: n, k: k, a: a.baseAddress! + i * k, lda: k, packed: packed, c: &one, ldc: n, accumulate: false)
        }
        #expect(one == Array(all[(i * n)..<((i + 1) * n)]))
    }
}

/// Products large enough to be split across threads (by rows of c, and by columns when c is wide) agree with the
/// reference loop, with every operand transposed or not and strided.
@Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
func splitGemmMatchesReferenceLoop(transA: Bool, transB: Bool) {
    setBLASThreads(2)
    var rng = Xoshiro256(seed: 23)
    for (m, n, k) in [(300, 120, 128), (40, 700, 160)] {
        #expect(m * n * k >= gemmSplitWork)
        let lda = (transA ? m : k) + 1, ldb = (transB ? k : n) + 2, ldc = n + 3
        let a = (0..<((transA ? k : m) * lda)).map { _ in Float.random(in: -1...1, using: &rng) }
        let b = (0..<((transB ? n : k) * ldb)).map { _ in Float.random(in: -1...1, using: &rng) }
        let c0 = (0..<(m * ldc)).map { _ in Float.random(in: -1...1, using: &rng) }
        var fast = c0, slow = c0
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, beta: 2, c: &fast, ldc: ldc)
        referenceGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, beta: 2,
                      c: &slow, ldc: ldc)
        var worst: Float = 0
        for (x, y) in zip(fast, slow) { worst = max(worst, abs(x - y)) }
        #expect(worst < 1e-3, "m \(m) n \(n) k \(k): worst difference \(worst)")
    }
}

/// A small Linear on the packed kernels agrees with the OpenBLAS path on many rows: the forward split across threads,
/// the weight gradients in several `weightGradientDepth` chunks (700 = 256+256+188 rows) over a full and a partial
/// panel of outputs (O = 20), gradients ADDED to what was there, and dInput added too.
@Test func packedLinearMatchesGemmPath() {
    setBLASThreads(2)
    var rng = Xoshiro256(seed: 29)
    var layout = ParameterLayout()
    let linear = Linear("l", inFeatures: 300, outFeatures: 20, layout: &layout)
    #expect(linear.usesPackedKernels)
    let rows = 700
    #expect(rows * 300 * 20 >= gemmSplitWork && rows > 2 * weightGradientDepth)
    let p = randomFloats(layout.count, using: &rng), x = randomFloats(rows * 300, using: &rng)
    let dy = randomFloats(rows * 20, using: &rng), g0 = randomFloats(layout.count, using: &rng)
    let dx0 = randomFloats(rows * 300, using: &rng)
    func run(_ scratch: ScratchBuffer?) -> (out: [Float], g: [Float], dx: [Float]) {
        var out = [Float](repeating: 0, count: rows * 20), g = g0, dx = dx0
        linear.forward(p, input: x, rows: rows, output: &out, scratch: scratch)
        linear.backward(p, &g, input: x, rows: rows, dOutput: dy, dInput: &dx, scratch: scratch)
        return (out, g, dx)
    }
    let packed = run(ScratchBuffer()), blas = run(nil)
    expectClose(packed.out, blas.out, rel: 1e-4, abs: 1e-4, "output")
    expectClose(packed.g, blas.g, rel: 1e-4, abs: 1e-3, "weight and bias gradients")
    expectClose(packed.dx, blas.dx, rel: 1e-4, abs: 1e-4, "dInput")
    #expect(packed.g != g0)
}

/// The blocked transpose equals the element-by-element one on shapes with row and column tails and a column range
/// that starts mid-block (as a worker's slice does).
@Test(arguments: [(13, 21, 3..<20), (16, 16, 0..<16), (7, 9, 1..<9), (40, 33, 8..<32)])
func transposeMatchesElementByElement(rows: Int, ld: Int, columns: Range<Int>) {
    let source = (0..<(rows * ld)).map { Float($0) }, ldt = rows + 5
    var target = [Float](repeating: -1, count: ld * ldt)
    transpose(source, rows: rows, ld: ld, columns: columns, into: &target, ldt: ldt)
    for c in 0..<ld {
        for r in 0..<ldt {
            let expected = columns.contains(c) && r < rows ? source[r * ld + c] : -1
            #expect(target[c * ldt + r] == expected, "row \(c) column \(r)")
        }
    }
}
