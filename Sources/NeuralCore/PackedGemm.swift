import NeuralKernels

// NeuralCore's products, c (M,N) (+)= a (M,K) · B (K,N): the LSTM's per-step recurrent products (small M, a share of
// the batch; the same B for all T steps), its input projection and dx over all steps, its weight gradients (M = I+H, K
// = a chunk of the sequence's rows), and the Linear layers'. B is packed once per pass into 16-column panels, and
// register-blocked kernels run from them (`MicroKernels`): AVX2, 6, 5 or 4 rows × 16 columns (twelve to eight 8-lane
// FMA accumulators, here in Swift); AVX-512, up to 24 rows × 16 columns, 12 × 32 or 3 × 128 (24 16-lane accumulators,
// in the NeuralKernels C target). Large products are cut into blocks that stay in L2. On the per-step shapes the AVX2
// kernels run about 1.5× OpenBLAS's throughput (which re-packs B and pays its call overhead on every product), and on
// a Zen 5 the AVX-512 ones about twice OpenBLAS's (Haswell kernels: OpenBLAS 0.3.21 does not know the CPU) on the
// large ones too; on an Emerald Rapids Xeon, which it does not know either, OpenBLAS falls back to its SSE3 (Prescott)
// kernels.

/// Columns per packed panel (two 8-lane vectors).
let panelWidth = 16

/// Floats `packPanels` writes for B (K,N): ⌈N/16⌉ panels of K×16.
func packedPanelsCount(k: Int, n: Int) -> Int { (n + panelWidth - 1) / panelWidth * panelWidth * k }

/// Packs B (K,N) into panels: panel j (at `out + j·panelRows·16`) holds B[:, 16j..<16j+16] as K rows of 16 floats,
/// zero past the last column. `b` is stored (K,N) row-major, or (N,K) when `transposed` (then B = bᵀ, e.g. a PyTorch
/// weight (N,K)). Two ways to pack a stack of matrices: along K, panels taller than K (`panelRows`), each matrix packed
/// at `out + firstRow·16`; along N, `besides` (a second matrix of N₂ columns, stored like `b`) fills columns N..<N+N₂.
func packPanels(
    _ b: UnsafePointer<Float>, transposed: Bool, k K: Int, n N: Int, into out: UnsafeMutablePointer<Float>,
    panelRows: Int? = nil, besides: (matrix: UnsafePointer<Float>, columns: Int)? = nil
) {
    let width = N + (besides?.columns ?? 0)
    let panels = (width + panelWidth - 1) / panelWidth, height = panelRows ?? K
    /// Column n of B: its matrix, the row stride of that matrix (stored (K,·)) and n's column in it.
    func column(_ n: Int) -> (source: UnsafePointer<Float>, columns: Int, n: Int) {
        if n >= N, let besides { return (besides.matrix, besides.columns, n - N) }
        return (b, N, n)
    }
    let pack = { (js: Range<Int>) in
        for j in js {
            let panel = out + j * height * panelWidth, first = j * panelWidth
            let (source, columns, n) = column(first)
            if !transposed && first + panelWidth <= width && n + panelWidth <= columns {
                // 16 columns of one row-major matrix: each row of the panel is two vector copies
                for kk in 0..<K {
                    let row = source + kk * columns + n, to = panel + kk * panelWidth
                    store8(load8(row), to)
                    store8(load8(row + 8), to + 8)
                }
                continue
            }
            for col in 0..<panelWidth {
                if first + col >= width {
                    for kk in 0..<K { panel[kk * panelWidth + col] = 0 }
                    continue
                }
                let (source, columns, n) = column(first + col)
                if transposed {
                    let row = source + n * K
                    for kk in 0..<K { panel[kk * panelWidth + col] = row[kk] }
                } else {
                    for kk in 0..<K { panel[kk * panelWidth + col] = source[kk * columns + n] }
                }
            }
        }
    }
    // a weight of the agents' sizes takes microseconds to copy: split it by panels across the threads
    if K * width >= packSplitSize { forEachShare(panels, pack) } else { pack(0..<panels) }
}

/// Elements of B from which `packPanels` splits its panels across threads.
let packSplitSize = 1 << 14

/// c (M,N) = a (M,K) · B (K,N), or c += … when `accumulate`; B packed by `packPanels` (or K rows of taller panels
/// `panelStride` floats apart); rows of a are `lda` apart, rows of c `ldc` apart. Panels outer, rows inner, so one
/// panel (K×16) stays in L1 while every row block uses it.
/// Every element is one left-to-right FMA chain c₀ + a₀b₀ + a₁b₁ + … (c₀ = 0 unless accumulating) whichever kernel
/// computes it, so a row's result does not depend on M or on its position.
@inline(never)  // (inlined into the LSTM's long loops, its pointers were spilled to the stack)
func packedGemm(
    m M: Int, n N: Int, k K: Int, a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
    panelStride: Int? = nil, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
) {
    blockedProduct(
        m: M, n: N, k: K, a: Strided(a, row: lda, step: 1), packed: packed, panelStride: panelStride ?? K * panelWidth,
        c: c, ldc: ldc, accumulate: accumulate)
}

/// `packedGemm` over M rows, split by rows across the threads (`forEachShare`) when it has `gemmSplitWork`
/// multiply-adds or more: a layer's product over all its rows. The bits do not depend on the split.
func splitPackedGemm(
    m M: Int, n N: Int, k K: Int, a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
) {
    let product = { (rows: Range<Int>) in
        packedGemm(
            m: rows.count, n: N, k: K, a: a + rows.lowerBound * lda, lda: lda, packed: packed,
            c: c + rows.lowerBound * ldc, ldc: ldc, accumulate: accumulate)
    }
    if M * N * K >= gemmSplitWork { forEachShare(M, product) } else { product(0..<M) }
}

/// c (M,N) = aᵀ (M,K) · B (K,N), or c += … when `accumulate`: a is stored (K,M), rows `lda` apart (e.g. a layer's
/// inputs over K rows, for its weight gradient); B packed as for `packedGemm`, its panels `panelStride` floats apart.
/// Same kernels and sums as `packedGemm`.
@inline(never)
func transposedGemm(
    m M: Int, n N: Int, k K: Int, a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
    panelStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
) {
    blockedProduct(
        m: M, n: N, k: K, a: Strided(a, row: 1, step: lda), packed: packed, panelStride: panelStride, c: c, ldc: ldc,
        accumulate: accumulate)
}

/// An (M,K) operand: element (i, kk) at `base + i·row + kk·step` (row-major: row = lda, step = 1; stored transposed:
/// row = 1, step = lda).
private struct Strided {
    let base: UnsafePointer<Float>, row: Int, step: Int
    init(_ base: UnsafePointer<Float>, row: Int, step: Int) { self.base = base; self.row = row; self.step = step }
}

/// Rows and depth of the blocks `packedGemm` and `transposedGemm` cut a large product into: a block of a (256 × 256
/// floats, 256 KB) stays in L2 while the panels' 256 rows for it (16 KB each) stream through L1. Each element's chain
/// runs on through c from one depth block to the next, so the blocks do not change the bits.
let productBlockRows = 256, productBlockDepth = 256

/// The loops of `packedGemm` and `transposedGemm`, inlined into each so that their constant strides fold: blocks of
/// `productBlockRows` × `productBlockDepth`, each by the selected `MicroKernels`.
@inline(__always)
private func blockedProduct(
    m M: Int, n N: Int, k K: Int, a: Strided, packed: UnsafePointer<Float>, panelStride: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
) {
    let avx512 = MicroKernels.useAVX512.load(ordering: .relaxed)
    for r0 in stride(from: 0, to: M, by: productBlockRows) {
        for k0 in stride(from: 0, to: K, by: productBlockDepth) {
            let m = min(productBlockRows, M - r0), k = min(productBlockDepth, K - k0)
            let block = Strided(a.base + r0 * a.row + k0 * a.step, row: a.row, step: a.step)
            let c = c + r0 * ldc, accumulate = accumulate || k0 > 0, packed = packed + k0 * panelWidth
            if avx512 {
                nk_avx512_product(
                    m, N, k, block.base, block.row, block.step, packed, panelStride, panelWidth, c, ldc, accumulate)
            } else {
                tiles(
                    m: m, n: N, k: k, a: block, packed: packed, panelStride: panelStride, c: c, ldc: ldc,
                    accumulate: accumulate)
            }
        }
    }
}

/// One block of `blockedProduct` on the AVX2 kernels: panels outer, rows inner.
@inline(__always)
private func tiles(
    m M: Int, n N: Int, k K: Int, a: Strided, packed: UnsafePointer<Float>, panelStride: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
) {
    let fullPanels = N / panelWidth, tail = N - fullPanels * panelWidth, bs = panelWidth
    @inline(__always) func panel(_ j: Int) -> UnsafePointer<Float> { packed + j * panelStride }
    @inline(__always) func rows(_ r: Int) -> UnsafePointer<Float> { a.base + r * a.row }
    // rows in blocks of 6, 5 or 4 (`rowBlock`); single rows take four panels at once (eight accumulators)
    @inline(__always) func block(_ r: Int) -> Int { rowBlock(remaining: M - r) }
    for j0 in stride(from: 0, to: fullPanels, by: 4) {
        let group = min(4, fullPanels - j0)
        var r = 0
        while r < M {
            let count = block(r)
            if count == 1 && group == 4 {
                kernel1x64(K, rows(r), a.step, panel(j0), panelStride, bs, c + r * ldc + j0 * panelWidth, accumulate)
            } else {
                for j in j0..<(j0 + group) {
                    kernel(
                        count, K, rows(r), a.row, a.step, panel(j), bs, c + r * ldc + j * panelWidth, ldc, accumulate)
                }
            }
            r += count
        }
    }
    guard tail > 0 else { return }
    var r = 0
    while r < M {
        let count = block(r)
        withTailTile(rows: count, tail, c + r * ldc + fullPanels * panelWidth, ldc, accumulate) { tile in
            kernel(count, K, rows(r), a.row, a.step, panel(fullPanels), bs, tile, panelWidth, true)
        }
        r += count
    }
}

/// Rows the next kernel call takes when `remaining` rows are left: blocks of 6 and 5 (twelve and ten accumulators),
/// a block of 4 only where nothing else fits (8 = 4+4; its eight accumulators barely cover the FMA latency), so that as
/// few rows as possible are left to the single-row kernels (32 = 5+5+5+6+6+5, 16 = 5+6+5, 64 = 5+6+…+6+5).
@inline(__always)
func rowBlock(remaining R: Int) -> Int {
    if R < 6 { return R >= 4 ? R : 1 }
    switch R % 6 {
    case 0, 1, 5: return 6
    default: return R == 8 ? 4 : 5
    }
}

/// c (rows,16) (+)= a (rows,K) · panel (K,16) for rows = 6, 5, 4 or 1. In every kernel a's element (i, kk) is at
/// a + i·ar + kk·ak, and the panel's row kk at panel + kk·bs.
@inline(__always)
private func kernel(
    _ rows: Int, _ K: Int, _ a: UnsafePointer<Float>, _ ar: Int, _ ak: Int, _ panel: UnsafePointer<Float>, _ bs: Int,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool
) {
    switch rows {
    case 6: kernel6x16(K, a, ar, ak, panel, bs, c, ldc, accumulate)
    case 5: kernel5x16(K, a, ar, ak, panel, bs, c, ldc, accumulate)
    case 4: kernel4x16(K, a, ar, ak, panel, bs, c, ldc, accumulate)
    default: kernel1x16(K, a, ak, panel, bs, c, accumulate)
    }
}

/// Runs `body` on a (rows,16) stack tile (rows ≤ 6) holding c's first `width` columns of `rows` rows (zero elsewhere,
/// and zero throughout unless `accumulate`), then copies those columns back: the last, partial panel of a product.
@inline(__always)
private func withTailTile(
    rows: Int, _ width: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool,
    _ body: (UnsafeMutablePointer<Float>) -> Void
) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 6 * panelWidth) { buffer in
        let tile = buffer.baseAddress!
        tile.initialize(repeating: 0, count: 6 * panelWidth)
        if accumulate { for i in 0..<rows { (tile + i * panelWidth).update(from: c + i * ldc, count: width) } }
        body(tile)
        for i in 0..<rows { (c + i * ldc).update(from: tile + i * panelWidth, count: width) }
    }
}

/// c (6,16) (+)= a (6,K) · panel (K,16).
@inline(__always)
private func kernel6x16(
    _ K: Int, _ a: UnsafePointer<Float>, _ ar: Int, _ ak: Int, _ panel: UnsafePointer<Float>, _ bs: Int,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool
) {
    let c1 = c + ldc, c2 = c + 2 * ldc, c3 = c + 3 * ldc, c4 = c + 4 * ldc, c5 = c + 5 * ldc
    var c00 = Float8(), c01 = Float8(), c10 = Float8(), c11 = Float8(), c20 = Float8(), c21 = Float8()
    var c30 = Float8(), c31 = Float8(), c40 = Float8(), c41 = Float8(), c50 = Float8(), c51 = Float8()
    if accumulate {
        c00 = load8(c); c01 = load8(c + 8); c10 = load8(c1); c11 = load8(c1 + 8); c20 = load8(c2); c21 = load8(c2 + 8)
        c30 = load8(c3); c31 = load8(c3 + 8); c40 = load8(c4); c41 = load8(c4 + 8); c50 = load8(c5); c51 = load8(c5 + 8)
    }
    var p = panel, q = a
    for _ in 0..<K {
        let b0 = load8(p), b1 = load8(p + 8)
        var x = Float8(repeating: q[0]); c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
        x = Float8(repeating: q[ar]); c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
        x = Float8(repeating: q[2 * ar]); c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
        x = Float8(repeating: q[3 * ar]); c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
        x = Float8(repeating: q[4 * ar]); c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
        x = Float8(repeating: q[5 * ar]); c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
        p += bs; q += ak
    }
    store8(c00, c); store8(c01, c + 8); store8(c10, c1); store8(c11, c1 + 8); store8(c20, c2); store8(c21, c2 + 8)
    store8(c30, c3); store8(c31, c3 + 8); store8(c40, c4); store8(c41, c4 + 8); store8(c50, c5); store8(c51, c5 + 8)
}

/// c (5,16) (+)= a (5,K) · panel (K,16).
@inline(__always)
private func kernel5x16(
    _ K: Int, _ a: UnsafePointer<Float>, _ ar: Int, _ ak: Int, _ panel: UnsafePointer<Float>, _ bs: Int,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool
) {
    let c1 = c + ldc, c2 = c + 2 * ldc, c3 = c + 3 * ldc, c4 = c + 4 * ldc
    var c00 = Float8(), c01 = Float8(), c10 = Float8(), c11 = Float8(), c20 = Float8(), c21 = Float8()
    var c30 = Float8(), c31 = Float8(), c40 = Float8(), c41 = Float8()
    if accumulate {
        c00 = load8(c); c01 = load8(c + 8); c10 = load8(c1); c11 = load8(c1 + 8); c20 = load8(c2); c21 = load8(c2 + 8)
        c30 = load8(c3); c31 = load8(c3 + 8); c40 = load8(c4); c41 = load8(c4 + 8)
    }
    var p = panel, q = a
    for _ in 0..<K {
        let b0 = load8(p), b1 = load8(p + 8)
        var x = Float8(repeating: q[0]); c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
        x = Float8(repeating: q[ar]); c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
        x = Float8(repeating: q[2 * ar]); c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
        x = Float8(repeating: q[3 * ar]); c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
        x = Float8(repeating: q[4 * ar]); c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
        p += bs; q += ak
    }
    store8(c00, c); store8(c01, c + 8); store8(c10, c1); store8(c11, c1 + 8); store8(c20, c2); store8(c21, c2 + 8)
    store8(c30, c3); store8(c31, c3 + 8); store8(c40, c4); store8(c41, c4 + 8)
}

/// c (4,16) (+)= a (4,K) · panel (K,16).
@inline(__always)
private func kernel4x16(
    _ K: Int, _ a: UnsafePointer<Float>, _ ar: Int, _ ak: Int, _ panel: UnsafePointer<Float>, _ bs: Int,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool
) {
    let c1 = c + ldc, c2 = c + 2 * ldc, c3 = c + 3 * ldc
    var c00 = Float8(), c01 = Float8(), c10 = Float8(), c11 = Float8()
    var c20 = Float8(), c21 = Float8(), c30 = Float8(), c31 = Float8()
    if accumulate {
        c00 = load8(c); c01 = load8(c + 8); c10 = load8(c1); c11 = load8(c1 + 8)
        c20 = load8(c2); c21 = load8(c2 + 8); c30 = load8(c3); c31 = load8(c3 + 8)
    }
    var p = panel, q = a
    for _ in 0..<K {
        let b0 = load8(p), b1 = load8(p + 8)
        let x0 = Float8(repeating: q[0]), x1 = Float8(repeating: q[ar])
        let x2 = Float8(repeating: q[2 * ar]), x3 = Float8(repeating: q[3 * ar])
        c00 = c00.addingProduct(x0, b0); c01 = c01.addingProduct(x0, b1)
        c10 = c10.addingProduct(x1, b0); c11 = c11.addingProduct(x1, b1)
        c20 = c20.addingProduct(x2, b0); c21 = c21.addingProduct(x2, b1)
        c30 = c30.addingProduct(x3, b0); c31 = c31.addingProduct(x3, b1)
        p += bs; q += ak
    }
    store8(c00, c); store8(c01, c + 8); store8(c10, c1); store8(c11, c1 + 8)
    store8(c20, c2); store8(c21, c2 + 8); store8(c30, c3); store8(c31, c3 + 8)
}

/// c (1,64) (+)= a (1,K) · four consecutive panels (K,16) `panelStride` apart: one row with eight accumulators, so the
/// FMA chains overlap (batch-1 inference).
@inline(__always)
private func kernel1x64(
    _ K: Int, _ a: UnsafePointer<Float>, _ ak: Int, _ panel: UnsafePointer<Float>, _ panelStride: Int, _ bs: Int,
    _ c: UnsafeMutablePointer<Float>, _ accumulate: Bool
) {
    var s0 = Float8(), s1 = Float8(), s2 = Float8(), s3 = Float8(), s4 = Float8(), s5 = Float8(), s6 = Float8(),
        s7 = Float8()
    if accumulate {
        s0 = load8(c); s1 = load8(c + 8); s2 = load8(c + 16); s3 = load8(c + 24)
        s4 = load8(c + 32); s5 = load8(c + 40); s6 = load8(c + 48); s7 = load8(c + 56)
    }
    let p1 = panel + panelStride, p2 = panel + 2 * panelStride, p3 = panel + 3 * panelStride
    for kk in 0..<K {
        let x = Float8(repeating: a[kk * ak]), o = kk * bs
        s0 = s0.addingProduct(x, load8(panel + o)); s1 = s1.addingProduct(x, load8(panel + o + 8))
        s2 = s2.addingProduct(x, load8(p1 + o)); s3 = s3.addingProduct(x, load8(p1 + o + 8))
        s4 = s4.addingProduct(x, load8(p2 + o)); s5 = s5.addingProduct(x, load8(p2 + o + 8))
        s6 = s6.addingProduct(x, load8(p3 + o)); s7 = s7.addingProduct(x, load8(p3 + o + 8))
    }
    store8(s0, c); store8(s1, c + 8); store8(s2, c + 16); store8(s3, c + 24)
    store8(s4, c + 32); store8(s5, c + 40); store8(s6, c + 48); store8(s7, c + 56)
}

/// c (1,16) (+)= a (1,K) · panel (K,16).
@inline(__always)
private func kernel1x16(
    _ K: Int, _ a: UnsafePointer<Float>, _ ak: Int, _ panel: UnsafePointer<Float>, _ bs: Int,
    _ c: UnsafeMutablePointer<Float>, _ accumulate: Bool
) {
    var s0 = accumulate ? load8(c) : Float8(), s1 = accumulate ? load8(c + 8) : Float8()
    var p = panel, q = a
    for _ in 0..<K {
        let x = Float8(repeating: q[0])
        s0 = s0.addingProduct(x, load8(p)); s1 = s1.addingProduct(x, load8(p + 8))
        p += bs; q += ak
    }
    store8(s0, c); store8(s1, c + 8)
}
