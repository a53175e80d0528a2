// Weight gradients of a dense map over many rows (an LSTM layer over T·B steps, a Market2Vec over B·T bars) on the
// packed kernels: one product over all the rows, split across threads by output columns.

/// Weight and bias gradients of y (R,N) = x (R,X) · W (X,N) + b, given the inputs x (rows `ldx` apart) and the output
/// gradients dY (R,N) (rows `ldy` apart); both results are WRITTEN:
///   dW (X,N) = xᵀ (X,R) · dY (R,N) into `dW` (rows N apart);  dBias (N) = Σ_rows dY into `dBias`.
/// Split across threads by 16-column panels of dY. Each worker takes the rows in chunks of `weightGradientDepth` and
/// multiplies xᵀ by all its panels of the chunk in one product (`transposedGemm`), then sums their columns for the
/// bias.
/// Narrow x (at most `weightGradientInPlaceWidth`) is read in place, and so are the panels when N is a multiple of 16;
/// otherwise the panels are copied (the last one zero-padded). Wide x is copied a block of `productBlockRows` columns
/// at a time (xᵀ's rows) into a contiguous (depth, 256) buffer, which every panel of the share then reads from L2.
/// Each worker then passes its columns of dW and dBias to `consume` (e.g. to add them into a PyTorch (N,X) gradient).
/// Workers own whole columns: no partial sums to merge, and the bits do not depend on the thread count (nor on the
/// copies: the same multiply-adds and sums in the same order).
func weightGradients(
    x: UnsafePointer<Float>, ldx: Int, width X: Int, dY: UnsafePointer<Float>, ldy: Int, columns N: Int,
    rows R: Int, dW: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>,
    consume: (Range<Int>) -> Void
) {
    let wide = X > weightGradientInPlaceWidth, inPlace = N % panelWidth == 0 && !wide
    forEachShare((N + panelWidth - 1) / panelWidth) { js in
        let c0 = js.lowerBound * panelWidth, c1 = min(N, js.upperBound * panelWidth)
        // the share's panels of a chunk (copied unless in place), then a block of xᵀ (wide x only)
        let panelFloats = inPlace ? 0 : js.count * weightGradientDepth * panelWidth
        let blockFloats = wide ? productBlockRows * weightGradientDepth : 0
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, panelFloats + blockFloats)) { buffer in
            let copies = buffer.baseAddress!, block = copies + panelFloats
            for k0 in stride(from: 0, to: R, by: weightGradientDepth) {
                let depth = min(weightGradientDepth, R - k0), chunk = dY + k0 * ldy
                // panel p of the share at `panels + p·panelStride`, its rows `rowStride` apart
                let (panels, panelStride, rowStride) =
                    inPlace
                    ? (chunk + c0, panelWidth, ldy)
                    : (UnsafePointer(copies), depth * panelWidth, panelWidth)
                if !inPlace {
                    for j in js {
                        let own = (j * panelWidth)..<min(c1, (j + 1) * panelWidth)
                        let into = copies + (j - js.lowerBound) * panelStride
                        packPanel(chunk, rows: depth, ldb: ldy, columns: own, into: into)
                    }
                }
                for r0 in stride(from: 0, to: X, by: wide ? productBlockRows : X) {
                    let m = wide ? min(productBlockRows, X - r0) : X
                    var a = x + k0 * ldx + r0, lda = ldx
                    if wide {
                        for kk in 0..<depth { (block + kk * m).update(from: a + kk * ldx, count: m) }
                        (a, lda) = (UnsafePointer(block), m)
                    }
                    transposedGemm(
                        m: m, n: c1 - c0, k: depth, a: a, lda: lda, packed: panels, panelStride: panelStride,
                        panelRowStride: rowStride, c: dW + r0 * N + c0, ldc: N, accumulate: k0 > 0)
                }
                // after the product, which brought the panels' rows into the cache
                for j in js {
                    panelColumnSums(
                        panels + (j - js.lowerBound) * panelStride, rowStride: rowStride, rows: depth,
                        columns: min(c1 - j * panelWidth, panelWidth), into: dBias + j * panelWidth, first: k0 == 0)
                }
            }
        }
        consume(c0..<c1)
    }
}

/// Rows per chunk in `weightGradients`: the panels of a chunk are read by every row block of xᵀ (a pair of them,
/// 256×32 floats, 32 KB, stays in L1 while it is read).
let weightGradientDepth = 256

/// The widest x that `weightGradients` reads in place, with dY's panels in place too. Wider, every row block of xᵀ
/// reads the panels again, and they stay in L1 only copied (timed call by call, alternating the two ways in one run:
/// in place took 1–9% less time with the LSTMs of `bench nn --shape small`, DQN and PPO (X = 96) and 3% less with
/// medium's (X = 256), but 8% more with paper's (X = 600) and 28% more with medium's embedding (X = 400)); and xᵀ's
/// rows, `ldx` apart, each on another page, are then read from a contiguous copy of their block.
let weightGradientInPlaceWidth = 256

/// Packs columns `columns` (at most 16) of b (rows,·), rows `ldb` apart, into one panel (rows,16), zero past them.
func packPanel(
    _ b: UnsafePointer<Float>, rows: Int, ldb: Int, columns: Range<Int>, into panel: UnsafeMutablePointer<Float>
) {
    let w = columns.count, source = b + columns.lowerBound
    if w == panelWidth {  // two vector copies per row (a memmove call per row costs more than the copy)
        for r in 0..<rows {
            store8(load8(source + r * ldb), panel + r * panelWidth);
            store8(load8(source + r * ldb + 8), panel + r * panelWidth + 8)
        }
        return
    }
    for r in 0..<rows {
        for i in 0..<panelWidth { panel[r * panelWidth + i] = i < w ? source[r * ldb + i] : 0 }
    }
}

/// sums (columns ≤ 16) = (or += unless `first`) Σ over `rows` of one panel (rows,16), its rows `rowStride` apart.
func panelColumnSums(
    _ panel: UnsafePointer<Float>, rowStride: Int, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>,
    first: Bool
) {
    var s0 = Float8(), s1 = Float8()
    var p = panel
    for _ in 0..<rows { s0 += load8(p); s1 += load8(p + 8); p += rowStride }
    for i in 0..<columns { sums[i] = (first ? 0 : sums[i]) + (i < 8 ? s0[i] : s1[i - 8]) }
}
