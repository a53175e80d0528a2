// Weight gradients of a dense map over many rows (an LSTM layer over T·B steps, a Market2Vec over B·T bars) on the
// packed kernels: one product over all the rows, split across threads by output columns.

/// Weight and bias gradients of y (R,N) = x (R,X) · W (X,N) + b, given the inputs x (rows `ldx` apart) and the output
/// gradients dY (R,N) (rows `ldy` apart); both results are WRITTEN:
///   dW (X,N) = xᵀ (X,R) · dY (R,N) into `dW` (rows N apart);  dBias (N) = Σ_rows dY into `dBias`.
/// Split across threads by 16-column panels of dY. Each worker takes the rows in chunks of `weightGradientDepth` and
/// multiplies all of xᵀ, read in place (`transposedGemm`), by its panels of the chunk, two at a time, and sums their
/// columns for the bias. The panels are copied into an L1-sized buffer (the last one zero-padded), or, when N is a
/// multiple of 16 and X at most `weightGradientInPlaceWidth`, dY itself is read in place. Each worker then passes its
/// columns of dW and dBias to `consume` (e.g. to add them into a PyTorch (N,X) gradient). Workers own whole columns: no
/// partial sums to merge, and the bits do not depend on the thread count (nor on the copy: the same multiply-adds and
/// sums in the same order).
func weightGradients(
    x: UnsafePointer<Float>, ldx: Int, width X: Int, dY: UnsafePointer<Float>, ldy: Int, columns N: Int,
    rows R: Int, dW: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>,
    consume: (Range<Int>) -> Void
) {
    let inPlace = N % panelWidth == 0 && X <= weightGradientInPlaceWidth
    forEachShare((N + panelWidth - 1) / panelWidth) { js in
        let c0 = js.lowerBound * panelWidth, c1 = min(N, js.upperBound * panelWidth)
        let bytes = inPlace ? 1 : 2 * weightGradientDepth * panelWidth * MemoryLayout<Float>.stride
        withUnsafeTemporaryAllocation(byteCount: bytes, alignment: 64) { buffer in
            let copies = buffer.baseAddress!.bindMemory(to: Float.self, capacity: bytes / MemoryLayout<Float>.stride)
            for k0 in stride(from: 0, to: R, by: weightGradientDepth) {
                let depth = min(weightGradientDepth, R - k0), chunk = dY + k0 * ldy
                // two panels at a time where the share has them: tiles of 12 rows × 32 columns read a's elements
                // half as often per multiply-add as tiles of 24 × 16
                for j in stride(from: js.lowerBound, to: js.upperBound, by: 2) {
                    let columns = (j * panelWidth)..<min(c1, (j + 2) * panelWidth)
                    // panel p of the pair at `panels + p·panelStride`, its rows `rowStride` apart
                    let (panels, panelStride, rowStride) =
                        inPlace
                        ? (chunk + columns.lowerBound, panelWidth, ldy)
                        : (UnsafePointer(copies), depth * panelWidth, panelWidth)
                    let pair = stride(from: columns.lowerBound, to: columns.upperBound, by: panelWidth).enumerated()
                    if !inPlace {
                        for (p, first) in pair {
                            let own = first..<min(columns.upperBound, first + panelWidth)
                            packPanel(chunk, rows: depth, ldb: ldy, columns: own, into: copies + p * panelStride)
                        }
                    }
                    transposedGemm(
                        m: X, n: columns.count, k: depth, a: x + k0 * ldx, lda: ldx, packed: panels,
                        panelStride: panelStride, panelRowStride: rowStride, c: dW + columns.lowerBound, ldc: N,
                        accumulate: k0 > 0)
                    // after the product, which brought the panels' rows into the cache
                    for (p, first) in pair {
                        panelColumnSums(
                            panels + p * panelStride, rowStride: rowStride, rows: depth,
                            columns: min(columns.upperBound - first, panelWidth), into: dBias + first, first: k0 == 0)
                    }
                }
            }
        }
        consume(c0..<c1)
    }
}

/// Rows per chunk in `weightGradients`: two panels of them (256×32 floats, 32 KB) are read by every row block of xᵀ.
let weightGradientDepth = 256

/// The widest x whose weight gradients read dY's panels in place. Every row block of xᵀ (12 rows) reads the panels
/// again: copied, they stay in L1; in place, rows `ldy` apart, they come from L2. Timed call by call, alternating the
/// two ways in one run: in place took 1–9% less time with the LSTMs of `bench nn --shape small`, DQN and PPO (X = 96)
/// and 3% less with medium's (X = 256), but 8% more with paper's (X = 600) and 28% more with medium's embedding
/// (X = 400).
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
