// Weight gradients of a dense map over many rows (an LSTM layer over T·B steps, a Market2Vec over B·T bars) on the
// packed kernels: one product over all the rows, split across threads by output columns.

/// Weight and bias gradients of y (R,N) = x (R,X) · W (X,N) + b, given the inputs x (rows `ldx` apart) and the output
/// gradients dY (R,N) (rows `ldy` apart); both results are WRITTEN:
///   dW (X,N) = xᵀ (X,R) · dY (R,N) into `dW` (rows N apart);  dBias (N) = Σ_rows dY into `dBias`.
/// One product over all the rows (`transposedGemm`, in chunks of `weightGradientDepth` rows), split across threads by
/// 16-column panels of dY: both operands are read where they are when N is a multiple of 16; otherwise each worker
/// first copies its panels of dY, zero-padded, into `panels` (⌈N/16⌉ panels of (R,16); needed only then). Each worker
/// passes its columns of dW and dBias to `consume` (e.g. to add them into a PyTorch (N,X) gradient). Workers own whole
/// columns: no partial sums to merge, and the bits do not depend on the thread count.
func weightGradients(x: UnsafePointer<Float>, ldx: Int, width X: Int, dY: UnsafePointer<Float>, ldy: Int, columns N: Int,
                     rows R: Int, panels: UnsafeMutablePointer<Float>?, dW: UnsafeMutablePointer<Float>,
                     dBias: UnsafeMutablePointer<Float>, consume: (Range<Int>) -> Void) {
    let inPlace = N % panelWidth == 0
    precondition(inPlace || panels != nil, "weightGradients needs room for padded panels when N is not a multiple of 16")
    forEachShare((N + panelWidth - 1) / panelWidth) { js in
        let c0 = js.lowerBound * panelWidth, c1 = min(N, js.upperBound * panelWidth)
        let own: Panels
        if inPlace {
            own = Panels(dY + c0, stride: panelWidth, row: ldy)
        } else {
            for j in js {
                packPanel(dY, rows: R, ldb: ldy, columns: (j * panelWidth)..<min(N, (j + 1) * panelWidth),
                          into: panels! + j * R * panelWidth)
            }
            own = Panels(panels! + js.lowerBound * R * panelWidth, stride: R * panelWidth, row: panelWidth)
        }
        for k0 in stride(from: 0, to: R, by: weightGradientDepth) {
            transposedGemm(m: X, n: c1 - c0, k: min(weightGradientDepth, R - k0), a: x + k0 * ldx, lda: ldx,
                           b: Panels(own.base + k0 * own.row, stride: own.stride, row: own.row), c: dW + c0, ldc: N,
                           accumulate: k0 > 0)
        }
        columnSums(own, rows: R, columns: c1 - c0, into: dBias + c0)
        consume(c0..<c1)
    }
}

/// Rows per product in `weightGradients` (128 and 256 measured alike on the LSTM at X = 96, N = 256, R = 2048).
let weightGradientDepth = 256

/// Packs columns `columns` (at most 16) of b (rows,·), rows `ldb` apart, into one panel (rows,16), zero past them.
func packPanel(_ b: UnsafePointer<Float>, rows: Int, ldb: Int, columns: Range<Int>, into panel: UnsafeMutablePointer<Float>) {
    let w = columns.count, source = b + columns.lowerBound
    if w == panelWidth {   // two vector copies per row (a memmove call per row costs more than the copy)
        for r in 0..<rows {
            store8(load8(source + r * ldb), panel + r * panelWidth); store8(load8(source + r * ldb + 8), panel + r * panelWidth + 8)
        }
        return
    }
    for r in 0..<rows {
        for i in 0..<panelWidth { panel[r * panelWidth + i] = i < w ? source[r * ldb + i] : 0 }
    }
}

/// sums (columns) = Σ over `rows` of the operand's first `columns` columns (its panels as `Panels` lays them out).
func columnSums(_ b: Panels, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>) {
    for j in 0..<((columns + panelWidth - 1) / panelWidth) {
        var s0 = Float8(), s1 = Float8()
        var p = b.base + j * b.stride
        for _ in 0..<rows { s0 += load8(p); s1 += load8(p + 8); p += b.row }
        let w = min(panelWidth, columns - j * panelWidth)
        for i in 0..<w { sums[j * panelWidth + i] = i < 8 ? s0[i] : s1[i - 8] }
    }
}
