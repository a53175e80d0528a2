import Foundation
import NeuralKernels
import RLCore
import Testing

@testable import NeuralCore

/// The LSTM's per-step kernel against the reference loop, on both micro-kernels: every row-block path (AVX2: 6-, 5-
/// and 4-row blocks, single rows; AVX-512: tiles of 1 to 12 rows), full 4-panel groups, single panels and a partial
/// last panel, strided rows, B stored plain or transposed, and both c = a·B and c += a·B.
@Test(
    arguments: MicroKernels.allCases,
    [(9, 70, 5), (4, 64, 7), (6, 16, 3), (1, 83, 4), (3, 5, 2), (32, 40, 6), (8, 20, 3), (13, 130, 4), (5, 90, 4)])
func packedGemmMatchesReferenceLoop(kernels: MicroKernels, shape: (m: Int, n: Int, k: Int)) throws {
    try withMicroKernels(kernels) { packedGemmMatchesReferenceLoop(m: shape.m, n: shape.n, k: shape.k) }
}

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
            referenceGemm(
                transB: transposed, m: m, n: n, k: k, a: a, lda: lda, b: b, beta: accumulate ? 1 : 0, c: &slow, ldc: ldc
            )
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

/// `packPanels` against its definition (panel j, row kk, lane c = B[kk, 16j + c], zero past the last column; rows past
/// K of a taller panel untouched), B stored plain or transposed, with a second matrix beside the first whose columns
/// start mid-panel (N = 40, 200) or on a panel (N = 16): two weights large enough to split across the threads, two
/// small ones, which do not.
@Test(arguments: [(40, 24, 300), (200, 48, 120), (16, 40, 9), (7, 5, 3)])
func packPanelsMatchesItsDefinition(shape: (n: Int, beside: Int, k: Int)) {
    setBLASThreads(2)
    var rng = Xoshiro256(seed: 24)
    let (N, N2, K) = shape, width = N + N2, height = K + 3, panels = (width + 15) / 16
    for transposed in [false, true] {
        let b = randomFloats(K * N, using: &rng), b2 = randomFloats(K * N2, using: &rng)
        /// B[kk, n] of a matrix of `columns` columns.
        func element(_ m: [Float], columns: Int, _ kk: Int, _ n: Int) -> Float {
            transposed ? m[n * K + kk] : m[kk * columns + n]
        }
        var packed = [Float](repeating: 7, count: panels * height * 16)
        b2.withUnsafeBufferPointer { b2 in
            packPanels(
                b, transposed: transposed, k: K, n: N, into: &packed, panelRows: height,
                besides: (b2.baseAddress!, N2))
        }
        var wrong = 0
        for j in 0..<panels {
            for kk in 0..<height {
                for c in 0..<16 {
                    let n = 16 * j + c
                    let expected: Float =
                        kk >= K
                        ? 7
                        : n < N
                            ? element(b, columns: N, kk, n)
                            : n < width ? element(b2, columns: N2, kk, n - N) : 0
                    if packed[(j * height + kk) * 16 + c].bitPattern != expected.bitPattern { wrong += 1 }
                }
            }
        }
        #expect(wrong == 0, "N \(N) + \(N2), K \(K), transposed \(transposed)")
        #expect((K * width >= packSplitSize) == (K > 100))
    }
}

/// A row's result is the same bits whether it is computed in a block of 5 (or 13) rows or alone (the LSTM relies on
/// this for batch-independent outputs).
@Test(arguments: MicroKernels.allCases, [5, 13])
func packedGemmRowsDoNotDependOnTheirBlock(kernels: MicroKernels, m: Int) throws {
    try withMicroKernels(kernels) { packedGemmRowsDoNotDependOnTheirBlock(m: m) }
}

func packedGemmRowsDoNotDependOnTheirBlock(m: Int) {
    var rng = Xoshiro256(seed: 22)
    let n = 80, k = 37
    let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
    let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &rng) }
    var packed = [Float](repeating: 0, count: packedPanelsCount(k: k, n: n))
    packPanels(b, transposed: false, k: k, n: n, into: &packed)
    var all = [Float](repeating: 0, count: m * n)
    packedGemm(m: m, n: n, k: k, a: a, lda: k, packed: packed, c: &all, ldc: n, accumulate: false)
    for i in 0..<m {
        var one = [Float](repeating: 0, count: n)
        a.withUnsafeBufferPointer { a in
            packedGemm(
                m: 1, n: n, k: k, a: a.baseAddress! + i * k, lda: k, packed: packed, c: &one, ldc: n, accumulate: false)
        }
        #expect(one == Array(all[(i * n)..<((i + 1) * n)]))
    }
}

/// Products large enough to be split across threads (by rows of c) agree with the reference loop, with every operand
/// transposed or not, and give the same bits on one thread and two.
@Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
func splitGemmMatchesReferenceLoop(transA: Bool, transB: Bool) {
    defer { setBLASThreads(2) }
    var rng = Xoshiro256(seed: 23)
    for (m, n, k) in [(300, 120, 128), (40, 700, 160)] {
        #expect(m * n * k >= gemmSplitWork)
        let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
        let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &rng) }
        let c0 = (0..<(m * n)).map { _ in Float.random(in: -1...1, using: &rng) }
        var one = c0, two = c0, slow = c0
        setBLASThreads(1)
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, b: b, accumulate: true, c: &one)
        setBLASThreads(2)
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, b: b, accumulate: true, c: &two)
        referenceGemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, b: b, beta: 1, c: &slow)
        var worst: Float = 0
        for (x, y) in zip(two, slow) { worst = max(worst, abs(x - y)) }
        #expect(worst < 1e-3, "m \(m) n \(n) k \(k): worst difference \(worst)")
        #expect(one == two, "m \(m) n \(n) k \(k): one thread and two")
    }
}

/// A small Linear with its packed weights kept agrees with the `gemm` path on many rows: the forward split across
/// threads, the weight gradients in several `weightGradientDepth` chunks (700 = 256+256+188 rows) over a full and a
/// partial panel of outputs (O = 20) or two full ones (O = 32), gradients ADDED to what was there, and dInput added
/// too; on both micro-kernels.
@Test(arguments: MicroKernels.allCases, [20, 32])
func packedLinearMatchesGemmPath(kernels: MicroKernels, outputs O: Int) throws {
    try withMicroKernels(kernels) { packedLinearMatchesGemmPath(outputs: O) }
}

func packedLinearMatchesGemmPath(outputs O: Int) {
    setBLASThreads(2)
    var rng = Xoshiro256(seed: 29)
    var layout = ParameterLayout()
    let linear = Linear("l", inFeatures: 300, outFeatures: O, layout: &layout)
    let rows = 700
    #expect(rows * 300 * O >= gemmSplitWork && rows > 2 * weightGradientDepth)
    let p = randomFloats(layout.count, using: &rng), x = randomFloats(rows * 300, using: &rng)
    let dy = randomFloats(rows * O, using: &rng), g0 = randomFloats(layout.count, using: &rng)
    let dx0 = randomFloats(rows * 300, using: &rng)
    func run(_ scratch: ScratchBuffer?) -> (out: [Float], g: [Float], dx: [Float]) {
        var out = [Float](repeating: 0, count: rows * O), g = g0, dx = dx0
        linear.forward(p, input: x, rows: rows, output: &out, packs: scratch.map { _ in PackedWeights() })
        linear.backward(p, &g, input: x, rows: rows, dOutput: dy, dInput: &dx, scratch: scratch)
        return (out, g, dx)
    }
    let packed = run(ScratchBuffer()), blas = run(nil)
    expectClose(packed.out, blas.out, rel: 1e-4, abs: 1e-4, "output")
    expectClose(packed.g, blas.g, rel: 1e-4, abs: 1e-3, "weight and bias gradients")
    expectClose(packed.dx, blas.dx, rel: 1e-4, abs: 1e-4, "dInput")
    #expect(packed.g != g0)
}

/// c (+)= aᵀ · B with a stored (K,M) and B in padded panels (`packPanel`; N with and without a partial last panel),
/// against the reference loop; every row-block path of M, on both micro-kernels.
@Test(arguments: MicroKernels.allCases, [(96, 32, 70), (13, 48, 9), (7, 20, 33), (1, 64, 5), (32, 5, 17), (50, 16, 8)])
func transposedGemmMatchesReferenceLoop(kernels: MicroKernels, shape: (m: Int, n: Int, k: Int)) throws {
    try withMicroKernels(kernels) { transposedGemmMatchesReferenceLoop(m: shape.m, n: shape.n, k: shape.k) }
}

func transposedGemmMatchesReferenceLoop(m: Int, n: Int, k: Int) {
    var rng = Xoshiro256(seed: 31)
    let lda = m + 3, ldb = n + 5, ldc = n + 1
    let a = (0..<(k * lda)).map { _ in Float.random(in: -1...1, using: &rng) }
    let b = (0..<(k * ldb)).map { _ in Float.random(in: -1...1, using: &rng) }
    let c0 = (0..<(m * ldc)).map { _ in Float.random(in: -1...1, using: &rng) }
    var panels = [Float](repeating: .nan, count: packedPanelsCount(k: k, n: n))
    panels.withUnsafeMutableBufferPointer { p in
        for j in 0..<((n + 15) / 16) {
            packPanel(b, rows: k, ldb: ldb, columns: (16 * j)..<min(n, 16 * j + 16), into: p.baseAddress! + j * k * 16)
        }
    }
    for accumulate in [false, true] {
        var slow = c0, fast = c0
        referenceGemm(
            transA: true, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: accumulate ? 1 : 0, c: &slow, ldc: ldc
        )
        transposedGemm(
            m: m, n: n, k: k, a: a, lda: lda, packed: panels, panelStride: k * 16, c: &fast, ldc: ldc,
            accumulate: accumulate)
        expectClose(fast, slow, rel: 1e-5, abs: 1e-5, "m \(m) n \(n) k \(k) accumulate \(accumulate)")
    }
}

/// The AVX2 and AVX-512 kernels give the same bits, in products large enough to be cut into row and depth blocks
/// (`productBlockRows`, `productBlockDepth`) and in small ones: B plain or transposed, c written or accumulated, a
/// row-major (`packedGemm`) or stored transposed (`transposedGemm`).
@Test(arguments: [(300, 83, 600), (1, 200, 96), (32, 256, 96), (5, 17, 300), (261, 48, 7)])
func bothMicroKernelsGiveTheSameBits(m: Int, n: Int, k: Int) throws {
    var rng = Xoshiro256(seed: 37)
    let a = randomFloats(m * k, using: &rng), b = randomFloats(k * n, using: &rng),
        c0 = randomFloats(m * n, using: &rng)
    var packed = [Float](repeating: 0, count: packedPanelsCount(k: k, n: n))
    packPanels(b, transposed: false, k: k, n: n, into: &packed)
    func products(_ kernels: MicroKernels) throws -> [[Float]] {
        try withMicroKernels(kernels) {
            [false, true].flatMap { accumulate in
                var plain = c0, transposed = c0
                packedGemm(m: m, n: n, k: k, a: a, lda: k, packed: packed, c: &plain, ldc: n, accumulate: accumulate)
                transposedGemm(
                    m: m, n: n, k: k, a: a, lda: m, packed: packed, panelStride: k * panelWidth,
                    c: &transposed, ldc: n, accumulate: accumulate)
                return [plain, transposed]
            }
        }
    }
    let avx512 = try products(.avx512), avx2 = try products(.avx2)
    #expect(avx2 == avx512)
    #expect(avx2[0] != c0 && avx2[2] != avx2[0])
}

/// The C cells this CPU runs (LSTMCell.h at each width): 8 lanes with AVX2 + FMA on any x86-64 CPU that runs the
/// package, 16 with AVX-512F where the CPU has it; none elsewhere (the Swift cell is the path there).
let cCells: [(name: String, forward: CellForward, backward: CellBackward)] = {
    #if arch(x86_64)
        let avx2 = ("avx2", nk_avx2_lstm_cell_forward as CellForward, nk_avx2_lstm_cell_backward as CellBackward)
        let avx512 = (
            "avx512", nk_avx512_lstm_cell_forward as CellForward, nk_avx512_lstm_cell_backward as CellBackward
        )
        return MicroKernels.avx512Available ? [avx2, avx512] : [avx2]
    #else
        return []
    #endif
}()
typealias CellForward =
    @convention(c) (
        UnsafeMutablePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?,
        UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, Int, Int, Int
    ) -> Void
typealias CellBackward =
    @convention(c) (
        UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, Int,
        UnsafePointer<Float>?, Int, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, Int, Int
    ) -> Void

/// Each C cell (`nk_avx2_lstm_cell_forward` and `nk_avx512_…`, `…_backward`) gives the bits of the Swift one
/// (`lstmCellForward`, `lstmCellBackward`) for H below, at and between the vector widths (blocks of 8 or 16 and the
/// Swift loop's 8, with the scalar tail Swift does not fuse), on pre-activations from tiny to saturating, and on cell
/// states that reach tanh's clamp.
@Test(arguments: [1, 5, 8, 10, 16, 24, 29, 64, 300])
func cCellsGiveTheSwiftBits(hidden H: Int) {
    for kernel in cCells { cCellGivesTheSwiftBits(kernel.name, kernel.forward, kernel.backward, hidden: H) }
}

func cCellGivesTheSwiftBits(_ name: String, _ cForward: CellForward, _ cBackward: CellBackward, hidden H: Int) {
    var rng = Xoshiro256(seed: UInt64(H))
    for scale: Float in [1e-4, 0.5, 3, 40, 200] {
        let gates = randomFloats(4 * H, scale: scale, using: &rng),
            bias = randomFloats(4 * H, scale: scale, using: &rng)
        let cPrev = randomFloats(H, scale: scale, using: &rng)
        var swift = (gates: gates, cell: [Float](repeating: 0, count: H), tanh: [Float](repeating: 0, count: H))
        swift.tanh = swift.cell
        var hiddenSwift = swift.cell
        var c = (gates: gates, cell: swift.cell, tanh: swift.cell, hidden: swift.cell)
        lstmCellForward(
            gates: &swift.gates, bias: bias, cPrev: cPrev, cell: &swift.cell, tanhCell: &swift.tanh,
            hidden: &hiddenSwift, H: H)
        cForward(&c.gates, bias, cPrev, &c.cell, &c.tanh, &c.hidden, H, H, 1)
        let at = "\(name), H \(H), scale \(scale)"
        #expect(c.gates.map(\.bitPattern) == swift.gates.map(\.bitPattern), "gates, \(at)")
        #expect(c.cell.map(\.bitPattern) == swift.cell.map(\.bitPattern), "cell, \(at)")
        #expect(c.tanh.map(\.bitPattern) == swift.tanh.map(\.bitPattern), "tanh, \(at)")
        #expect(c.hidden.map(\.bitPattern) == hiddenSwift.map(\.bitPattern), "hidden, \(at)")

        // backward from that step, in place over the activated gates as `LSTM.backward` runs it
        let dHidden = randomFloats(H, scale: scale, using: &rng)
        var dh = randomFloats(H, scale: scale, using: &rng), dc = randomFloats(H, scale: scale, using: &rng)
        var back = (swift: (gates: swift.gates, dc: dc), c: (gates: swift.gates, dc: dc))
        back.swift.gates.withUnsafeMutableBufferPointer { g in
            lstmCellBackward(
                gates: g.baseAddress!, cPrev: cPrev, tanhCell: swift.tanh, dHidden: dHidden, dh: &dh, dc: &dc,
                dGates: g.baseAddress!, H: H)
        }
        back.swift.dc = dc
        dc = back.c.dc
        back.c.gates.withUnsafeMutableBufferPointer { g in
            cBackward(g.baseAddress!, cPrev, swift.tanh, dHidden, H, dh, H, &dc, g.baseAddress!, H, 1)
        }
        back.c.dc = dc
        #expect(back.c.gates.map(\.bitPattern) == back.swift.gates.map(\.bitPattern), "dGates, \(at)")
        #expect(back.c.dc.map(\.bitPattern) == back.swift.dc.map(\.bitPattern), "dc, \(at)")
        #expect(back.c.gates != swift.gates)
    }
}

/// Each C cell over several rows in one call (as `LSTM` steps a thread's share) gives, row by row, the Swift cell's
/// bits: rows of gates 4H apart, of the cell states H apart, of h (forward) and of dh (backward) a wider stride apart,
/// as in the LSTM's [x, h] rows, and the hidden-sequence gradient both per row and as one row read at stride 0.
@Test(arguments: [5, 16, 24, 64])
func cCellsOverRowsGiveTheSwiftBitsRowByRow(hidden H: Int) {
    for kernel in cCells { cCellOverRows(kernel.name, kernel.forward, kernel.backward, hidden: H) }
}

func cCellOverRows(_ name: String, _ cForward: CellForward, _ cBackward: CellBackward, hidden H: Int) {
    var rng = Xoshiro256(seed: UInt64(100 + H))
    let rows = 3, G = 4 * H, X = H + 7  // X: the stride of h and dh rows
    let gates = FloatBuffer(rows * G), bias = FloatBuffer(G), cPrev = FloatBuffer(rows * H)
    gates.set(randomFloats(rows * G, scale: 4, using: &rng))
    bias.set(randomFloats(G, scale: 1, using: &rng))
    cPrev.set(randomFloats(rows * H, scale: 3, using: &rng))
    /// (activated gates, cell, tanh of the cell, h rows): the Swift cell row by row, or the C one over all rows
    func forward(swift: Bool) -> [FloatBuffer] {
        let out = [FloatBuffer(rows * G), FloatBuffer(rows * H), FloatBuffer(rows * H), FloatBuffer(rows * X)]
        out[0].set(gates.array)
        let (g, c, tc, h) = (out[0].pointer, out[1].pointer, out[2].pointer, out[3].pointer)
        if swift {
            for r in 0..<rows {
                lstmCellForward(
                    gates: g + r * G, bias: bias.pointer, cPrev: cPrev.pointer + r * H, cell: c + r * H,
                    tanhCell: tc + r * H, hidden: h + r * X, H: H)
            }
        } else {
            cForward(g, bias.pointer, cPrev.pointer, c, tc, h, X, H, rows)
        }
        return out
    }
    let swift = forward(swift: true), c = forward(swift: false)
    for (label, k) in [("gates", 0), ("cell", 1), ("tanh", 2), ("hidden", 3)] {
        #expect(c[k].array.map(\.bitPattern) == swift[k].array.map(\.bitPattern), "\(label), \(name), H \(H)")
    }
    #expect(c[3].array[H..<X].allSatisfy { $0 == 0 }, "nothing written between the rows of h")

    let dHidden = FloatBuffer(rows * H), dh = FloatBuffer(rows * X), dc = FloatBuffer(rows * H)
    dHidden.set(randomFloats(rows * H, scale: 1, using: &rng))
    dh.set(randomFloats(rows * X, scale: 1, using: &rng))
    dc.set(randomFloats(rows * H, scale: 1, using: &rng))
    for dHiddenStride in [H, 0] {
        /// (gate gradients, dc): Swift row by row or C over all rows, in place over the activated gates
        func backward(swift: Bool) -> [[Float]] {
            let gBuffer = FloatBuffer(rows * G), dcBuffer = FloatBuffer(rows * H)
            gBuffer.set(c[0].array)
            dcBuffer.set(dc.array)
            let g = gBuffer.pointer, d = dcBuffer.pointer, tc = UnsafePointer(c[2].pointer)
            if swift {
                for r in 0..<rows {
                    lstmCellBackward(
                        gates: g + r * G, cPrev: cPrev.pointer + r * H, tanhCell: tc + r * H,
                        dHidden: dHidden.pointer + r * dHiddenStride, dh: dh.pointer + r * X, dc: d + r * H,
                        dGates: g + r * G, H: H)
                }
            } else {
                cBackward(g, cPrev.pointer, tc, dHidden.pointer, dHiddenStride, dh.pointer, X, d, g, H, rows)
            }
            return [gBuffer.array, dcBuffer.array]
        }
        let swiftBack = backward(swift: true), cBack = backward(swift: false)
        #expect(cBack[0].map(\.bitPattern) == swiftBack[0].map(\.bitPattern), "dGates, \(name), \(dHiddenStride)")
        #expect(cBack[1].map(\.bitPattern) == swiftBack[1].map(\.bitPattern), "dc, \(name), \(dHiddenStride)")
        #expect(cBack[0] != c[0].array && cBack[1] != dc.array)
    }
}

/// `weightGradients` against the reference loop over several row chunks (`weightGradientDepth`), with N a multiple of
/// 16 and not, and x in 1, 2 and 3 blocks of `productBlockRows`, on both micro-kernels; its bits do not depend on the
/// thread count.
@Test(
    arguments: MicroKernels.allCases,
    [(48, 13), (20, 13), (32, productBlockRows + 5), (20, 2 * productBlockRows + 7)])
func weightGradientsMatchTheReferenceOnEveryThreadCount(kernels: MicroKernels, shape: (N: Int, X: Int)) throws {
    let (N, X) = shape
    var rng = Xoshiro256(seed: UInt64(N))
    let R = 2 * weightGradientDepth + 37, ldx = X + 3, ldy = N + 16
    let x = randomFloats(R * ldx, using: &rng), dY = randomFloats(R * ldy, using: &rng)
    /// (dW (X,N), dBias (N)) on `threads` threads, and the columns passed to `consume`
    func gradients(threads: Int) throws -> (dW: [Float], dBias: [Float], consumed: [Int]) {
        try withMicroKernels(kernels) {
            setBLASThreads(threads)
            defer { setBLASThreads(2) }
            var dW = [Float](repeating: .nan, count: X * N), dBias = [Float](repeating: .nan, count: N)
            var consumed: [Int] = []
            let lock = NSLock()
            weightGradients(
                x: x, ldx: ldx, width: X, dY: dY, ldy: ldy, columns: N, rows: R, dW: &dW, dBias: &dBias
            ) { columns in
                lock.withLock { consumed += columns }
            }
            return (dW, dBias, consumed.sorted())
        }
    }
    let one = try gradients(threads: 1), two = try gradients(threads: 2)
    var reference = [Float](repeating: 0, count: X * N)
    referenceGemm(
        transA: true, m: X, n: N, k: R, a: x, lda: ldx, b: dY, ldb: ldy, beta: 0, c: &reference, ldc: N)
    let sums = (0..<N).map { j in (0..<R).reduce(Float(0)) { $0 + dY[$1 * ldy + j] } }
    expectClose(one.dW, reference, rel: 1e-4, abs: 1e-4, "dW, N \(N)")
    expectClose(one.dBias, sums, rel: 1e-4, abs: 1e-4, "dBias, N \(N)")
    #expect(one.consumed == Array(0..<N))
    #expect(two.dW == one.dW && two.dBias == one.dBias && two.consumed == one.consumed)
}
